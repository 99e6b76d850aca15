"""Webhook endpoints (secret write-only, shown once) and their delivery log."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..events import EVENT_TYPES
from ..models import WebhookDelivery, WebhookEndpoint


class WebhookEndpointSerializer(serializers.ModelSerializer):
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=EVENT_TYPES), required=False, default=list
    )
    secret = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        help_text="whsec_… (base64 key). Generated when absent; returned only by the create "
        "call, never again.",
    )
    url = serializers.CharField(max_length=2000)

    class Meta:
        model = WebhookEndpoint
        fields = ["id", "url", "events", "is_active", "secret", "created_at"]
        read_only_fields = ["created_at"]


class WebhookEndpointCreatedSerializer(WebhookEndpointSerializer):
    """The create response: the one time the secret is shown."""

    secret = serializers.CharField(read_only=True)


class WebhookDeliverySerializer(serializers.ModelSerializer):
    event = serializers.SerializerMethodField()

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "event",
            "status",
            "attempts",
            "response_code",
            "created_at",
            "next_attempt_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=EVENT_TYPES))
    def get_event(self, delivery) -> str:
        return delivery.event.type
