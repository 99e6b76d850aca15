"""Webhook endpoints made through the service (the secret is encrypted as in production)."""

from notifications import services

from .receiver import Receiver


def endpoint_for(workspace, url: str, events=()):
    """(endpoint, secret)."""
    return services.webhook_endpoint_create(workspace=workspace, url=url, events=list(events))


def receiving_endpoint(workspace, events=()):
    """A started receiver and the endpoint that points at it, sharing the secret."""
    receiver = Receiver()
    endpoint, secret = endpoint_for(workspace, receiver.url, events)
    receiver.secret = secret
    return receiver.start(), endpoint
