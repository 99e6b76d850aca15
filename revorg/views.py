"""Browser pages of the tenancy app: workspace switcher, API keys, login lockout, health."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from . import selectors, services
from .errors import ApplicationError
from .middleware import SESSION_WORKSPACE_KEY
from .models import ApiKey, Scope
from .parsing import parse_id
from .permissions import role_required
from .tenancy import workspace_object_or_404, workspace_rows
from .zones import SESSION_TIMEZONE_KEY, timezone_names, zone_name


@login_required
@require_POST
def workspace_switch(request):
    workspace_id = parse_id(request.POST.get("workspace"), field="workspace")
    membership = selectors.membership_for_user(user=request.user, workspace_id=workspace_id)
    if membership is not None and membership.workspace_id == workspace_id:
        request.session[SESSION_WORKSPACE_KEY] = workspace_id
    return redirect("ui:dashboard")


@role_required("admin")
def api_key_list(request):
    keys = workspace_rows(request, ApiKey)
    context = {"keys": keys, "scopes": Scope.values, "errors": {}, "issued": None}
    if request.method == "POST":
        try:
            issued = services.api_key_create(
                workspace=request.workspace,
                name=request.POST.get("name", "").strip(),
                scopes=request.POST.getlist("scopes"),
                created_by=request.user,
                actor=services.actor_from_request(request),
            )
        except ApplicationError as exc:
            context["errors"] = {exc.field or "form": exc.message}
            context["form"] = request.POST
            return render(request, "ui/api_keys.html", context, status=400)
        context["issued"] = issued
    return render(request, "ui/api_keys.html", context)


@role_required("admin")
@require_POST
def api_key_revoke(request, pk):
    api_key = workspace_object_or_404(request, ApiKey, pk=pk)
    services.api_key_revoke(api_key=api_key, actor=services.actor_from_request(request))
    messages.success(request, f"Key {api_key.prefix}… revoked.")
    return redirect("ui:api-keys")


@login_required
def viewer_timezone(request):
    """The zone the person's times are shown in: picked here, or reported once by the
    browser (`data-timezone-unset` on the page; static/js/ui.js posts it)."""
    error = None
    if request.method == "POST":
        try:
            services.user_timezone_set(user=request.user, timezone=request.POST.get("timezone"))
        except ApplicationError as exc:
            error = exc.message
        else:
            request.session[SESSION_TIMEZONE_KEY] = request.POST["timezone"]
            if request.headers.get("X-Requested-With") == "fetch":
                from django.http import HttpResponse

                return HttpResponse(status=204)
            messages.success(request, f"Times are now shown in {request.POST['timezone']}.")
            return redirect("ui:viewer-timezone")
    context = {
        "current": zone_name(request.viewer_timezone),
        "is_set": request.viewer_timezone_set,
        "error": error,
        "zone_count": len(timezone_names()),
        "value": request.POST.get("timezone", "") if error else "",
    }
    return render(request, "ui/viewer_timezone.html", context, status=400 if error else 200)


def login_locked_out(request, response=None, credentials=None):
    """django-axes' answer to a locked-out login (UI or admin): the login page's look with
    what happened and when to retry, status 429."""
    from django.conf import settings

    context = {
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "cooloff_minutes": round(settings.AXES_COOLOFF_TIME.total_seconds() / 60),
        "username": (credentials or {}).get("username", "")
        or request.POST.get("username", "")[:150],
    }
    return render(request, "registration/locked_out.html", context, status=429)


def healthz(request):
    """Liveness for load balancers and compose: the process answers and the database too."""
    from django.db import connection
    from django.http import JsonResponse

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"ok": True})
