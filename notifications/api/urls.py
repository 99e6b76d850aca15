from django.urls import path
from rest_framework.routers import SimpleRouter

from .views import WebhookDeliveryViewSet, WebhookEndpointViewSet

router = SimpleRouter()
router.register("webhooks", WebhookEndpointViewSet, basename="webhook")

delivery_list = WebhookDeliveryViewSet.as_view({"get": "list"})
delivery_detail = WebhookDeliveryViewSet.as_view(
    {"get": "retrieve", "put": "update", "patch": "partial_update", "delete": "destroy"}
)
delivery_redeliver = WebhookDeliveryViewSet.as_view({"post": "redeliver"})

urlpatterns = [
    *router.urls,
    path("webhooks/<int:webhook_pk>/deliveries/", delivery_list, name="webhook-delivery-list"),
    path(
        "webhooks/<int:webhook_pk>/deliveries/<int:pk>/",
        delivery_detail,
        name="webhook-delivery-detail",
    ),
    path(
        "webhooks/<int:webhook_pk>/deliveries/<int:pk>/redeliver/",
        delivery_redeliver,
        name="webhook-delivery-redeliver",
    ),
]
