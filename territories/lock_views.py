"""Browser page for account locks: the locks of a plan (the active one by default) with their
territories' names, searchable by account; admins create and remove them.

Validation is the API's (`AccountLockSerializer`: normalised account, one lock per account);
the writes are `territories.services`, which bump the plan version and audit.
"""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from revorg.models import ROLE_RANK, Role
from revorg.parsing import parse_id
from revorg.permissions import role_required
from revorg.services import actor_from_request
from revorg.tenancy import workspace_object_or_404, workspace_rows
from territories import selectors, services
from territories.api.serializers import AccountLockSerializer
from territories.models import AccountLock, Territory, TerritoryPlan

PAGE_SIZE = 50


def _lock_context(request, *, form=None, errors=None) -> dict:
    plans = list(workspace_rows(request, TerritoryPlan).order_by("-status", "name"))
    plan_id = parse_id(request.GET.get("plan"), field="plan")
    plan = next((p for p in plans if p.pk == plan_id), None) if plan_id else None
    if plan is None:
        plan = selectors.plan_get_active(workspace=request.workspace)
    search = request.GET.get("q", "").strip()[:255]
    locks = (
        workspace_rows(request, AccountLock)
        .filter(territory__plan=plan)
        .select_related("territory")
        .order_by("account", "id")
    )
    if search:
        locks = locks.filter(account__icontains=search)
    page = Paginator(locks, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    territories = (
        workspace_rows(request, Territory)
        .filter(plan=plan)
        .order_by("name", "id")
        .values("id", "name")
    )
    return {
        "plans": plans,
        "plan": plan,
        "page": page,
        "search": search,
        "query": query.urlencode(),
        "territories": list(territories),
        "can_edit": ROLE_RANK.get(request.role, -1) >= ROLE_RANK[Role.DIRECTOR],
        "form": form or {},
        "errors": errors or {},
    }


@role_required("viewer")
def account_lock_index(request):
    return render(request, "territories/locks.html", _lock_context(request))


@role_required("director")
@require_POST
def account_lock_create(request):
    serializer = AccountLockSerializer(
        data={
            "account": request.POST.get("account", ""),
            "territory": request.POST.get("territory") or None,
            "reason": request.POST.get("reason", ""),
        },
        context={"request": request, "workspace": request.workspace},
    )
    if not serializer.is_valid():
        errors = {key: " ".join(map(str, value)) for key, value in serializer.errors.items()}
        context = _lock_context(request, form=request.POST, errors=errors)
        return render(request, "territories/locks.html", context, status=400)
    lock = services.account_lock_create(
        workspace=request.workspace, actor=actor_from_request(request), **serializer.validated_data
    )
    messages.success(request, f"{lock.account} is locked to {lock.territory.name}.")
    return redirect(f"{reverse('ui:account-locks')}?plan={lock.territory.plan_id}")


@role_required("director")
@require_POST
def account_lock_delete(request, pk):
    lock = workspace_object_or_404(request, AccountLock.objects.select_related("territory"), pk=pk)
    plan_id = lock.territory.plan_id
    services.account_lock_delete(lock=lock, actor=actor_from_request(request))
    messages.success(request, f"Lock of {lock.account} removed.")
    return redirect(f"{reverse('ui:account-locks')}?plan={plan_id}")
