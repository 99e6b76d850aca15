from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from revorg.api import WorkspaceScopedGenericViewSet, workspace_of
from revorg.models import Role
from revorg.services import actor_from_request

from .. import selectors, services
from ..models import WebhookEndpoint
from .serializers import (
    WebhookDeliverySerializer,
    WebhookEndpointCreatedSerializer,
    WebhookEndpointSerializer,
)

ADMIN_READ = ("read", Role.ADMIN)


class WebhookEndpointViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    WorkspaceScopedGenericViewSet,
):
    """Webhook endpoints (admins; keys: `write` to change). Deliveries are signed as the
    Standard Webhooks specification says, with the endpoint's `whsec_…` secret, which only the
    create response shows."""

    queryset = WebhookEndpoint.objects.all()
    serializer_class = WebhookEndpointSerializer
    audit = False  # the services audit, without the secret
    access_rules = {
        "list": ADMIN_READ,
        "retrieve": ADMIN_READ,
        "deliveries": ADMIN_READ,
    }

    @extend_schema(responses={201: WebhookEndpointCreatedSerializer})
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        endpoint, secret = services.webhook_endpoint_create(
            workspace=workspace_of(request),
            url=data["url"],
            events=data.get("events", []),
            is_active=data.get("is_active", True),
            secret=data.get("secret") or None,
            actor=actor_from_request(request),
        )
        body = WebhookEndpointCreatedSerializer(endpoint).data
        body["secret"] = secret
        return Response(body, status=status.HTTP_201_CREATED)

    def perform_update(self, serializer):
        services.webhook_endpoint_update(
            endpoint=serializer.instance,
            actor=actor_from_request(self.request),
            **serializer.validated_data,
        )

    def perform_destroy(self, instance):
        services.webhook_endpoint_delete(endpoint=instance, actor=actor_from_request(self.request))

    @extend_schema(responses=WebhookDeliverySerializer(many=True))
    @action(detail=True, methods=["get"])
    def deliveries(self, request, pk=None):
        """The endpoint's delivery log, newest first. Receivers' answers are summed up by
        their status code; their bodies are never kept or shown."""
        endpoint = self.get_object()
        queryset = selectors.delivery_list(endpoint=endpoint)
        page = self.paginate_queryset(queryset)
        serializer = WebhookDeliverySerializer(page, many=True)
        return self.get_paginated_response(serializer.data)

    @extend_schema(request=None, responses=WebhookDeliverySerializer)
    @action(
        detail=True,
        methods=["post"],
        url_path=r"deliveries/(?P<delivery_pk>[0-9]+)/redeliver",
    )
    def redeliver(self, request, pk=None, delivery_pk=None):
        """Sends the delivery again with the same `webhook-id` and a fresh 24-hour retry
        window; 409 while an attempt is in flight."""
        endpoint = self.get_object()
        delivery = selectors.delivery_list(endpoint=endpoint).filter(pk=delivery_pk).first()
        if delivery is None:
            raise NotFound("No such delivery for this endpoint.")
        with transaction.atomic():
            delivery = services.webhook_redeliver(
                delivery=delivery, actor=actor_from_request(request)
            )
        return Response(WebhookDeliverySerializer(delivery).data)
