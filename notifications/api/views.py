from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import MethodNotAllowed
from rest_framework.response import Response

from revorg.api import WorkspaceScopedGenericViewSet, workspace_of
from revorg.models import Role
from revorg.services import actor_from_request

from .. import selectors, services
from ..models import WebhookDelivery, WebhookEndpoint
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
    access_rules = {"list": ADMIN_READ, "retrieve": ADMIN_READ}

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


@extend_schema_view(
    # A log: it is not edited. Those verbs answer 405 (after the 404 of a foreign delivery).
    update=extend_schema(exclude=True),
    partial_update=extend_schema(exclude=True),
    destroy=extend_schema(exclude=True),
)
class WebhookDeliveryViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, WorkspaceScopedGenericViewSet
):
    """An endpoint's delivery log, newest first. A receiver's answer is kept as its status
    code only; its body is never stored or shown."""

    queryset = WebhookDelivery.objects.select_related("event")
    serializer_class = WebhookDeliverySerializer
    audit = False
    access_rules = {"list": ADMIN_READ, "retrieve": ADMIN_READ}

    def get_endpoint(self) -> WebhookEndpoint:
        return get_object_or_404(
            selectors.endpoint_list(workspace=workspace_of(self.request)),
            pk=self.kwargs["webhook_pk"],
        )

    def scoped_queryset(self, queryset):
        return queryset.filter(endpoint=self.get_endpoint())

    def _read_only(self, request, *args, **kwargs):
        self.get_object()
        raise MethodNotAllowed(request.method, detail="The delivery log is read-only.")

    update = partial_update = destroy = _read_only

    @extend_schema(request=None, responses=WebhookDeliverySerializer)
    @action(detail=True, methods=["post"])
    def redeliver(self, request, webhook_pk=None, pk=None):
        """Sends the delivery again with the same `webhook-id` and a fresh 24-hour retry
        window; 409 while an attempt is in flight."""
        delivery = services.webhook_redeliver(
            delivery=self.get_object(), actor=actor_from_request(request)
        )
        return Response(WebhookDeliverySerializer(delivery).data)
