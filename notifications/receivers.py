"""Turns every published event into outbox rows (webhook deliveries, e-mails)."""

from django.dispatch import receiver

from .events import event_published
from .services import event_record


@receiver(event_published)
def event_published_record(sender, *, workspace, event_type, data, members, **kwargs):
    event_record(workspace=workspace, event_type=event_type, data=data, members=members)
