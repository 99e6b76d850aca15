"""Browser pages of the tenancy app: the landing dashboard and the workspace switcher."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from . import selectors
from .middleware import SESSION_WORKSPACE_KEY


@login_required
def dashboard(request):
    return render(request, "ui/dashboard.html")


@login_required
@require_POST
def workspace_switch(request):
    try:
        workspace_id = int(request.POST.get("workspace", ""))
    except ValueError:
        workspace_id = None
    membership = selectors.membership_for_user(user=request.user, workspace_id=workspace_id)
    if membership is not None and membership.workspace_id == workspace_id:
        request.session[SESSION_WORKSPACE_KEY] = workspace_id
    return redirect("ui:dashboard")


def healthz(request):
    """Liveness for load balancers and compose: the process answers and the database too."""
    from django.db import connection
    from django.http import JsonResponse

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"ok": True})
