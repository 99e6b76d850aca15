"""Browser pages: webhook endpoints (secret shown once, delivery log, redeliver), a user's
notification preferences, and the weekly exception report."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from revorg.errors import ApplicationError, ConflictError
from revorg.permissions import role_required
from revorg.services import actor_from_request
from revorg.tenancy import workspace_object_or_404

from . import selectors, services
from .events import EVENT_TYPES
from .models import NotificationMode

DELIVERIES_SHOWN = 100


@role_required("admin")
def webhook_index(request):
    context = {
        "endpoints": selectors.endpoint_list(workspace=request.workspace),
        "event_types": EVENT_TYPES,
        "errors": {},
        "created": None,
        "form": {},
        "form_events": [],
    }
    if request.method == "POST":
        try:
            endpoint, secret = services.webhook_endpoint_create(
                workspace=request.workspace,
                url=request.POST.get("url", "").strip(),
                events=request.POST.getlist("events"),
                actor=actor_from_request(request),
            )
        except ApplicationError as exc:
            message = exc.message if isinstance(exc.message, str) else "; ".join(exc.message)
            context["errors"] = {exc.field or "form": message}
            context["form"] = {"url": request.POST.get("url", "")}
            context["form_events"] = request.POST.getlist("events")
            return render(request, "notifications/webhooks.html", context, status=400)
        context["created"] = {"endpoint": endpoint, "secret": secret}
    return render(request, "notifications/webhooks.html", context)


def _endpoint(request, pk):
    return workspace_object_or_404(
        request, selectors.endpoint_list(workspace=request.workspace), pk=pk
    )


@role_required("admin")
def webhook_detail(request, pk):
    endpoint = _endpoint(request, pk)
    deliveries = selectors.delivery_list(endpoint=endpoint)[:DELIVERIES_SHOWN]
    return render(
        request,
        "notifications/webhook.html",
        {"endpoint": endpoint, "deliveries": deliveries, "event_types": EVENT_TYPES},
    )


@role_required("admin")
@require_POST
def webhook_toggle(request, pk):
    endpoint = _endpoint(request, pk)
    services.webhook_endpoint_update(
        endpoint=endpoint, is_active=not endpoint.is_active, actor=actor_from_request(request)
    )
    messages.success(request, "Endpoint enabled." if endpoint.is_active else "Endpoint disabled.")
    return redirect("ui:webhook", pk=pk)


@role_required("admin")
@require_POST
def webhook_delete(request, pk):
    endpoint = _endpoint(request, pk)
    services.webhook_endpoint_delete(endpoint=endpoint, actor=actor_from_request(request))
    messages.success(request, "Endpoint deleted.")
    return redirect("ui:webhooks")


@role_required("admin")
@require_POST
def webhook_redeliver(request, pk, delivery_pk):
    endpoint = _endpoint(request, pk)
    delivery = workspace_object_or_404(
        request, selectors.delivery_list(endpoint=endpoint), pk=delivery_pk
    )
    try:
        services.webhook_redeliver(delivery=delivery, actor=actor_from_request(request))
        messages.success(request, f"Delivery {delivery.pk} queued again.")
    except ConflictError as exc:
        messages.error(request, exc.message)
    return redirect("ui:webhook", pk=pk)


@login_required
def notification_preferences(request):
    """The logged-in user's own choices, per event type, in the current workspace."""
    if request.workspace is None:
        raise PermissionDenied("you are not a member of any workspace")
    errors = []
    if request.method == "POST":
        modes = {
            event_type: request.POST.get(f"mode-{event_type}")
            for event_type in EVENT_TYPES
            if f"mode-{event_type}" in request.POST
        }
        try:
            services.preferences_set(workspace=request.workspace, user=request.user, modes=modes)
        except ApplicationError as exc:
            errors = exc.message if isinstance(exc.message, list) else [exc.message]
        else:
            messages.success(request, "Notification preferences saved.")
            return redirect("ui:notification-preferences")
    return render(
        request,
        "notifications/preferences.html",
        {
            "rows": selectors.preferences_effective(workspace=request.workspace, user=request.user),
            "modes": NotificationMode.choices,
            "errors": errors,
            "has_email": bool(request.user.email),
        },
        status=400 if errors else 200,
    )


@role_required("admin")
def exception_report(request):
    report = selectors.exception_report(workspace=request.workspace)
    return render(request, "notifications/exception_report.html", {"r": report})
