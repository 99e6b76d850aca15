"""Events and what they become: webhook deliveries (an outbox per endpoint) and e-mails
(an outbox per user, sent at once or gathered into the daily digest)."""

from django.conf import settings
from django.db import models


class Event(models.Model):
    """One published event that somebody listens to (an endpoint or a recipient); events
    nobody subscribes to are not stored."""

    workspace = models.ForeignKey("revorg.Workspace", on_delete=models.CASCADE, related_name="+")
    type = models.CharField(max_length=64)
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["workspace", "type", "created_at"])]

    def __str__(self) -> str:
        return f"{self.type} #{self.pk}"


class WebhookEndpoint(models.Model):
    """A receiver URL and the event types it wants (empty: every type). The signing secret is
    stored Fernet-encrypted (it must be read to sign) and never leaves the server after the
    response that created it."""

    workspace = models.ForeignKey("revorg.Workspace", on_delete=models.CASCADE, related_name="+")
    url = models.CharField(max_length=2000)
    events = models.JSONField(default=list, blank=True)
    is_active = models.BooleanField(default=True)
    secret_encrypted = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["workspace", "is_active"])]

    def __str__(self) -> str:
        return self.url

    def wants(self, event_type: str) -> bool:
        return self.is_active and (not self.events or event_type in self.events)


def message_id_for(delivery_id: int) -> str:
    return f"msg_{delivery_id}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"  # waiting for its first attempt or a retry
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"  # retried for the whole window and never accepted


class WebhookDelivery(models.Model):
    """One event for one endpoint: written in the transaction that published the event, so a
    receiver (or the broker) being down loses nothing; workers drain it with retries."""

    workspace = models.ForeignKey("revorg.Workspace", on_delete=models.CASCADE, related_name="+")
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    response_code = models.PositiveIntegerField(null=True, blank=True)
    # Our words for the last failure (never the receiver's body): "HTTP 503", "timed out" …
    last_error = models.CharField(max_length=300, blank=True, default="")
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # Retries stop after this moment (created or redelivered + the retry window).
    retry_until = models.DateTimeField()
    # A drain's lease, as crm_sync's outbox: committed before the HTTP call, cleared with the
    # outcome, and the token under which the outcome is recorded.
    claimed_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The drain's claim order: it reads the first due ids, never sorts the backlog.
            models.Index(
                fields=["next_attempt_at", "id"],
                condition=models.Q(status="pending"),
                name="notif_delivery_due",
            ),
            models.Index(fields=["workspace", "endpoint", "-created_at"]),
        ]

    def __str__(self) -> str:
        return f"delivery {self.pk} ({self.status})"

    @property
    def message_id(self) -> str:
        """The `webhook-id` header: the same on every attempt and redelivery, so a receiver
        can drop what it has already processed."""
        return message_id_for(self.pk)


class NotificationMode(models.TextChoices):
    IMMEDIATE = "immediate", "Immediately"
    DIGEST = "digest", "In the daily digest"
    OFF = "off", "Off"


class NotificationPreference(models.Model):
    """How a user hears about one event type in one workspace (absent: the type's default)."""

    workspace = models.ForeignKey("revorg.Workspace", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    event_type = models.CharField(max_length=64)
    mode = models.CharField(max_length=16, choices=NotificationMode.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "user", "event_type"], name="uniq_notification_preference"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.event_type}: {self.mode}"


class EmailStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class EmailNotification(models.Model):
    """One event for one user, by e-mail: sent by a worker at once (`immediate`) or gathered
    into the daily digest (`digest`)."""

    workspace = models.ForeignKey("revorg.Workspace", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="emails")
    mode = models.CharField(max_length=16, choices=NotificationMode.choices)
    status = models.CharField(max_length=16, choices=EmailStatus.choices, default="pending")
    attempts = models.PositiveIntegerField(default=0)
    claimed_until = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(
                fields=["mode", "user"],
                condition=models.Q(status="pending"),
                name="notif_email_pending",
            )
        ]

    def __str__(self) -> str:
        return f"{self.event} to {self.user} ({self.mode}, {self.status})"
