"""The browser's CSV pages: the export of a list page as filtered, and the import page, one
for every kind of import: upload, preview (what would be
created or updated, and every error with its line and column), then import on confirmation.

Nothing is written before the confirmation: the checked file waits in the cache under a
random token bound to the user and workspace, and the confirmation imports that very file
(checked again, all or nothing). The importer is an app's `<entity>_import` service, given by
the URL configuration that composes the apps.
"""

import inspect
import secrets

from django.contrib import messages
from django.core.cache import cache
from django.shortcuts import redirect, render
from django.urls import reverse

from .csv_io import ImportRefused, csv_response, max_import_bytes, max_import_rows
from .errors import ApplicationError
from .parsing import BadParameter, parse_id
from .permissions import role_required
from .services import actor_from_request
from .tenancy import workspace_rows

PENDING_SECONDS = 30 * 60


def help_blocks(text: str) -> list[dict]:
    """A module docstring as paragraphs and bullet lists of segments, `code` marked (odd
    segments), so the template renders it with autoescaping and no markup in the data."""
    blocks: list[dict] = []
    for paragraph in inspect.cleandoc(text or "").split("\n\n"):
        items: list[str] = []
        for line in paragraph.splitlines():
            if line.startswith("- ") or not items:
                items.append(line.removeprefix("- "))
            else:
                items[-1] += " " + line.strip()
        bullets = paragraph.lstrip().startswith("- ")
        segments = [item.split("`") for item in items]
        blocks.append({"bullets": segments} if bullets else {"segments": segments[0]})
    return blocks


def _pending_key(request, token: str) -> str:
    return f"csv-import:{request.workspace.pk}:{request.user.pk}:{token}"


@role_required("admin")
def csv_import_page(request, *, importer, title: str, back: str, help_text: str, uses_plan=False):
    """GET: the form. POST with a file: the preview. POST with a token: the import."""
    plan_id = parse_id(request.GET.get("plan") or request.POST.get("plan"), field="plan")
    extra = {"plan_id": plan_id} if uses_plan else {}
    back_url = reverse(back) + (f"?plan={plan_id}" if uses_plan and plan_id else "")
    context = {
        "title": title,
        "help_blocks": help_blocks(help_text),
        "back_url": back_url,
        "plan_id": plan_id if uses_plan else None,
        "max_bytes": max_import_bytes(),
        "max_rows": max_import_rows(),
    }
    if request.method != "POST":
        return render(request, "ui/csv_import.html", context)
    token = request.POST.get("token", "")
    if token:
        raw = cache.get(_pending_key(request, token))
        if raw is None:
            context["file_error"] = "This preview has expired; choose the file again."
            return render(request, "ui/csv_import.html", context, status=400)
    else:
        upload = request.FILES.get("file")
        if upload is None:
            context["file_error"] = "Choose a CSV file to preview."
            return render(request, "ui/csv_import.html", context, status=400)
        raw = upload.read()
        context["filename"] = upload.name
    try:
        result = importer(
            workspace=request.workspace,
            actor=actor_from_request(request),
            raw=raw,
            dry_run=not token,
            **extra,
        )
    except ImportRefused as refused:
        context["errors"] = [error.as_dict() for error in refused.errors]
        return render(request, "ui/csv_import.html", context, status=400)
    except ApplicationError as exc:
        context["file_error"] = exc.message
        return render(request, "ui/csv_import.html", context, status=exc.status_code)
    if token:
        cache.delete(_pending_key(request, token))
        messages.success(request, f"Imported: {result.created} created, {result.updated} updated.")
        return redirect(back_url)
    token = secrets.token_urlsafe(16)
    cache.set(_pending_key(request, token), raw, PENDING_SECONDS)
    context.update({"preview": result, "token": token})
    return render(request, "ui/csv_import.html", context)


@role_required("viewer")
def csv_export_page(
    request,
    *,
    model,
    filterset_class,
    header: list[str],
    rows,
    filename: str,
    rename: dict | None = None,
    values: dict | None = None,
    default_filters=None,
):
    """A list page's rows as a CSV download, filtered as the page is: its query string (the
    page's own parameter names, `rename`d and `values` translated to the API filterset's)
    goes through the same filterset as the API export."""
    data = dict(default_filters(workspace=request.workspace)) if default_filters else {}
    for name, value in request.GET.items():
        if value.strip():
            data[(rename or {}).get(name, name)] = (values or {}).get(name, {}).get(value, value)
    filterset = filterset_class(data=data, queryset=workspace_rows(request, model), request=request)
    if not filterset.is_valid():
        field, problems = next(iter(filterset.errors.items()))
        raise BadParameter(" ".join(problems), field=field)
    return csv_response(filename=filename, header=header, rows=rows(queryset=filterset.qs))
