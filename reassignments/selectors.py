"""Reads of reassignment requests: lists, a person's approval queue, the overrides."""

from django.db import connection
from django.db.models import Q, QuerySet

from allocation.models import Allocation
from revorg.models import Role

from .models import ReassignmentRequest, RequestStatus


def request_list(*, workspace) -> QuerySet[ReassignmentRequest]:
    return ReassignmentRequest.objects.filter(workspace=workspace).select_related(
        "to_member", "from_member", "territory"
    )


def approval_queue(*, workspace, membership) -> QuerySet[ReassignmentRequest]:
    """Pending requests this person may decide: every one for an admin, else those needing
    the approval of the manager they are; never their own."""
    pending = request_list(workspace=workspace).filter(status=RequestStatus.PENDING)
    if membership is None:
        return pending.none()
    pending = pending.exclude(requested_by=membership.user).exclude(
        approvals__approver=membership.user
    )
    if membership.role == Role.ADMIN:
        return pending
    member_id = membership.member_id
    if member_id is None:
        return pending.none()
    # Few requests are pending at once: the slots are read here (portable to SQLite).
    mine = [
        pk
        for pk, slots in pending.values_list("pk", "required_approvals")
        if any(slot.split(":", 1)[1] == str(member_id) for slot in slots)
    ]
    return pending.filter(pk__in=mine)


def override_list(*, workspace, since=None, until=None) -> QuerySet[Allocation]:
    """Ownership changes made around governance, for the exception report: direct
    reassignments by a person or an API key (`/allocations/{id}/reassign/`, no request,
    no approval) and any entry whose trace overrode an eligibility check (capacity,
    absence, inactive: a decision step with outcome `overridden`). Entries a request's
    execution or the SLA sweep made have no user or key as actor."""
    entries = Allocation.objects.filter(workspace=workspace)
    if since is not None:
        entries = entries.filter(created_at__gte=since)
    if until is not None:
        entries = entries.filter(created_at__lt=until)
    direct = Q(reassigned_from__isnull=False) & (
        Q(actor_user__isnull=False) | Q(actor_api_key__isnull=False)
    )
    if connection.vendor == "postgresql":
        overridden = Q(decision__contains=[{"outcome": "overridden"}])
    else:  # SQLite (make run) has no JSON containment: the stored JSON text holds the step
        overridden = Q(decision__icontains='"outcome": "overridden"')
    return entries.filter(direct | overridden).select_related("owner", "reassigned_from")
