"""Browser pages for CRM connections (admins): connect, test, sync now with live progress,
and the sync-run log. Validation is the API serializer's, so messages match the API."""

from django.contrib import messages
from django.db import transaction
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from jobs.models import Job
from revorg.errors import ConflictError
from revorg.parsing import parse_int
from revorg.permissions import role_required
from revorg.services import actor_from_request, audit_request
from revorg.tenancy import workspace_object_or_404, workspace_rows

from . import book_sync, services
from .api.serializers import CrmConnectionSerializer
from .field_mapping import DEFAULT_FIELD_MAPPINGS, field_mapping_effective
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
CUSTOM_MAPPING_ROWS = 3  # empty rows offered for custom fields


def _context(request, form=None, errors=None, mapping_errors=None):
    connections = list(workspace_rows(request, CrmConnection))
    book_jobs = {}
    for job in workspace_rows(request, Job).filter(handler=book_sync.BOOK_SYNC)[:200]:
        book_jobs.setdefault(job.params.get("connection_id"), job)
    for connection in connections:
        settings = connection.settings or {}
        connection.host = settings.get("instance_url") or settings.get("base_url") or ""
        connection.every = settings.get("sync_interval_minutes") or services.DEFAULT_SYNC_MINUTES
        mapping = field_mapping_effective(provider=connection.provider, settings=settings)
        connection.mapping_rows = [
            *mapping.items(),
            *(("", "") for _ in range(CUSTOM_MAPPING_ROWS)),
        ]
        connection.book_job = book_jobs.get(connection.pk)
        connection.mapping_errors = (mapping_errors or {}).get(connection.pk)
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


def _connection_update_audited(request, connection, **changes) -> None:
    """One audited update of a connection (credentials or settings) from a page."""
    with transaction.atomic():
        before = CrmConnectionSerializer(connection).data
        services.connection_update(connection=connection, **changes)
        audit_request(
            request,
            action="update",
            obj=connection,
            before=before,
            after=CrmConnectionSerializer(connection).data,
        )


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
    _connection_update_audited(
        request, connection, credentials=serializer.validated_data["credentials"]
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


@role_required("admin")
@require_POST
def crm_field_mapping(request, pk):
    """Saves the connection's field mapping (rule field → CRM field) from the rows of the
    form: a default left empty is dropped, a new row adds a custom field. Validated by the
    API serializer: a bad name is a 400 naming the rule field."""
    connection = workspace_object_or_404(request, CrmConnection, pk=pk)
    defaults = DEFAULT_FIELD_MAPPINGS.get(connection.provider, {})
    mapping = dict.fromkeys(defaults, "")
    for rule_field, crm_field in zip(
        request.POST.getlist("rule_field"), request.POST.getlist("crm_field"), strict=False
    ):
        if rule_field.strip():
            mapping[rule_field.strip()] = crm_field.strip()
    mapping = {rule: crm for rule, crm in mapping.items() if crm or rule in defaults}
    settings = {**(connection.settings or {}), "field_mapping": mapping}
    serializer = CrmConnectionSerializer(
        connection, data={"settings": settings}, partial=True, context={"request": request}
    )
    if not serializer.is_valid():
        problems = [
            f"{field.removeprefix('settings.field_mapping.')}: {' '.join(map(str, errors))}"
            for field, errors in serializer.errors.items()
        ]
        context = _context(request, mapping_errors={connection.pk: problems})
        return render(request, "crm_sync/index.html", context, status=400)
    _connection_update_audited(request, connection, settings=settings)
    messages.success(request, f"{connection.name or connection.provider}: field mapping saved.")
    return redirect("ui:crm")


@role_required("admin")
@require_POST
def crm_sync_book(request, pk):
    """Queues the book sync (accounts and opportunities) and shows its job's live progress."""
    connection = workspace_object_or_404(request, CrmConnection, pk=pk)
    try:
        with transaction.atomic():
            job = book_sync.book_sync_start(
                connection=connection,
                actor_label=actor_from_request(request).label,
                full=request.POST.get("full") == "1",
            )
    except ConflictError as exc:
        messages.error(request, exc.message)
        return redirect("ui:crm")
    return redirect("ui:job", pk=job.pk)
