"""Browser pages for CRM connections (admins): connect, test, sync now with live progress,
and the sync-run log. Validation is the API serializer's, so messages match the API."""

from django.contrib import messages
from django.db import transaction
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from revorg.parsing import parse_int
from revorg.permissions import role_required
from revorg.services import audit_request
from revorg.tenancy import workspace_object_or_404, workspace_rows

from . import services
from .api.serializers import CrmConnectionSerializer
from .models import CrmConnection, CrmProvider, SyncRun

SETTING_FIELDS = ("instance_url", "login_url", "api_version", "base_url")
CREDENTIAL_FIELDS = (
    "client_id",
    "client_secret",
    "username",
    "private_key",
    "refresh_token",
    "access_token",
)
RUNS_SHOWN = 50


def _context(request, form=None, errors=None):
    connections = list(workspace_rows(request, CrmConnection))
    for connection in connections:
        settings = connection.settings or {}
        connection.host = settings.get("instance_url") or settings.get("base_url") or ""
        connection.every = settings.get("sync_interval_minutes") or services.DEFAULT_SYNC_MINUTES
    return {
        "connections": connections,
        "runs": workspace_rows(request, SyncRun).select_related("connection")[:RUNS_SHOWN],
        "providers": CrmProvider.choices,
        "form": form or {"provider": "salesforce"},
        "errors": errors or {},
    }


def _payload(post) -> dict:
    provider = post.get("provider", "")
    settings = {key: post[key].strip() for key in SETTING_FIELDS if post.get(key, "").strip()}
    if post.get("sync_interval_minutes", "").strip():
        minutes = post["sync_interval_minutes"].strip()
        settings["sync_interval_minutes"] = parse_int(minutes, field="sync_interval_minutes")
    credentials = {key: post[key].strip() for key in CREDENTIAL_FIELDS if post.get(key, "").strip()}
    return {
        "provider": provider,
        "name": post.get("name", "").strip(),
        "settings": settings,
        "credentials": credentials,
    }


@role_required("admin")
def crm_index(request):
    if request.method != "POST":
        return render(request, "crm_sync/index.html", _context(request))
    serializer = CrmConnectionSerializer(data=_payload(request.POST), context={"request": request})
    if not serializer.is_valid():
        errors = {
            field.replace(".", "_"): " ".join(map(str, problems))
            for field, problems in serializer.errors.items()
        }
        form = {k: v for k, v in request.POST.items() if k not in CREDENTIAL_FIELDS}
        return render(request, "crm_sync/index.html", _context(request, form, errors), status=400)
    data = serializer.validated_data
    with transaction.atomic():
        connection = services.connection_create(
            workspace=request.workspace,
            provider=data["provider"],
            name=data.get("name", ""),
            settings=data.get("settings", {}),
            credentials=data["credentials"],
        )
        audit_request(
            request,
            action="create",
            obj=connection,
            after=CrmConnectionSerializer(connection).data,
        )
    messages.success(request, f"{connection.get_provider_display()} connected. Test it, then sync.")
    return redirect("ui:crm")


@role_required("admin")
@require_POST
def crm_test(request, pk):
    connection = workspace_object_or_404(request, CrmConnection, pk=pk)
    result = services.connection_test(connection=connection)
    (messages.success if result["ok"] else messages.error)(
        request, f"{connection.name or connection.provider}: {result['detail']}"
    )
    return redirect("ui:crm")


@role_required("admin")
@require_POST
def crm_reconnect(request, pk):
    """New credentials for a connection (after the CRM refused the old ones): the waiting
    write-backs are drained once they are saved."""
    connection = workspace_object_or_404(request, CrmConnection, pk=pk)
    credentials = _payload(request.POST)["credentials"]
    serializer = CrmConnectionSerializer(
        connection, data={"credentials": credentials}, partial=True, context={"request": request}
    )
    if not serializer.is_valid():
        problems = serializer.errors.get("credentials") or ["invalid"]
        messages.error(request, f"Credentials not saved: {' '.join(map(str, problems))}")
        return redirect("ui:crm")
    with transaction.atomic():
        before = CrmConnectionSerializer(connection).data
        services.connection_update(connection=connection, credentials=credentials)
        audit_request(
            request,
            action="update",
            obj=connection,
            before=before,
            after=CrmConnectionSerializer(connection).data,
        )
    messages.success(request, f"{connection.name or connection.provider}: credentials saved.")
    return redirect("ui:crm")


@role_required("admin")
@require_POST
def crm_sync_now(request, pk):
    connection = workspace_object_or_404(request, CrmConnection, pk=pk)
    run = services.sync_start(connection=connection)
    return redirect("ui:sync-run", pk=run.pk)


@role_required("admin")
@require_POST
def crm_delete(request, pk):
    connection = workspace_object_or_404(request, CrmConnection, pk=pk)
    with transaction.atomic():
        audit_request(
            request,
            action="delete",
            obj=connection,
            before=CrmConnectionSerializer(connection).data,
        )
        services.connection_delete(connection=connection)
    messages.success(request, "Connection removed; its schedule is gone too.")
    return redirect("ui:crm")


@role_required("admin")
def sync_run_detail(request, pk):
    """The run with a progress bar; while it runs, HTMX re-fetches the panel every second."""
    run = workspace_object_or_404(request, SyncRun.objects.select_related("connection"), pk=pk)
    counts = run.counts or {}
    total, processed = counts.get("total") or 0, counts.get("processed") or 0
    context = {
        "run": run,
        "counts": {k: v for k, v in counts.items() if k not in ("cursor", "mode")},
        "percent": 100 if run.finished_at else (round(processed / total * 100) if total else 5),
        "running": run.status in ("queued", "running"),
    }
    template = "crm_sync/_run.html" if request.htmx else "crm_sync/run.html"
    return render(request, template, context)
