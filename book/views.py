"""Browser pages of the book: accounts (filters, CSV upload, re-evaluate), one account with
its owner's reason and history, and coverage with drill-down links and a CSV export."""

import csv

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from members.models import Member
from revorg.errors import ApplicationError
from revorg.permissions import role_required
from revorg.services import actor_from_request
from revorg.tenancy import workspace_object_or_404, workspace_rows
from territories.selectors import plan_get_active, territory_list

from . import selectors, services
from .csv_import import upload_read
from .filtersets import AccountFilterSet
from .models import AccountStatus

PAGE_SIZE = 50


@role_required("viewer")
def account_index(request):
    workspace = request.workspace
    in_scope = workspace_rows(request, selectors.account_list(workspace=workspace))
    filterset = AccountFilterSet(request.GET, queryset=in_scope)
    accounts = (
        filterset.qs if filterset.is_valid() else selectors.account_list(workspace=workspace).none()
    )
    page = Paginator(accounts.order_by("name", "id"), PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "book/accounts.html",
        {
            "page": page,
            "filters": request.GET,
            "query": query.urlencode(),
            "statuses": AccountStatus.choices,
            "territories": workspace_rows(request, territory_list(workspace=workspace)).order_by(
                "name"
            ),
            "members": workspace_rows(request, Member).order_by("name"),
            "plan": plan_get_active(workspace=workspace),
        },
    )


@role_required("viewer")
def account_detail(request, pk):
    account = workspace_object_or_404(
        request, selectors.account_list(workspace=request.workspace), pk=pk
    )
    history = list(selectors.account_history(account=account)[:100])
    current = next((entry for entry in history if entry.is_current), None)
    reason = ""
    if current and current.decision:
        reason = current.decision[-1].get("detail", "")
    return render(
        request,
        "book/account.html",
        {
            "account": account,
            "history": history,
            "reason": reason,
            "opportunities": account.opportunities.select_related("owner").order_by("-close_date")[
                :50
            ],
            "overlays": selectors.account_overlays(accounts=[account])[account.pk],
        },
    )


@role_required("admin")
@require_POST
def book_import(request, kind):
    if kind not in ("accounts", "opportunities"):
        raise Http404("no such import")
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, "Choose a CSV file to upload.")
        return redirect("ui:accounts")
    try:
        job = services.book_import_start(
            workspace=request.workspace,
            actor_label=actor_from_request(request).label,
            kind=kind,
            raw=upload_read(upload, max_bytes=settings.BOOK_IMPORT_MAX_BYTES),
        )
    except ApplicationError as exc:
        messages.error(request, f"{upload.name}: {exc.message}")
        return redirect("ui:accounts")
    return redirect("ui:job", pk=job.pk)


@role_required("admin")
@require_POST
def book_reevaluate(request):
    plan = plan_get_active(workspace=request.workspace)
    job = services.book_reevaluate_start(
        workspace=request.workspace, actor_label=actor_from_request(request).label, plan=plan
    )
    return redirect("ui:job", pk=job.pk)


@role_required("viewer")
def coverage(request):
    report = selectors.coverage_get(workspace=request.workspace)
    if request.GET.get("format") == "csv":
        response = HttpResponse(content_type="text/csv")
        response["Content-Disposition"] = 'attachment; filename="white-space.csv"'
        writer = csv.writer(response)
        writer.writerow(["country", "state", "industry", "size_band", "accounts", "open_pipeline"])
        for row in report["white_space"]:
            writer.writerow(
                [
                    _csv_cell(row[key])
                    for key in (
                        "country",
                        "state",
                        "industry",
                        "size_band",
                        "accounts",
                        "open_pipeline",
                    )
                ]
            )
        return response
    return render(request, "book/coverage.html", {"report": report})


def _csv_cell(value):
    """Spreadsheets run cells starting with =, +, - or @ as formulas: quote them."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text
