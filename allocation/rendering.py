"""The API representation of an allocation: plain dicts, no DRF. It lives beside the
services because an idempotency key stores (and replays) exactly this body."""

from members.models import Member

from .models import Allocation
from .selectors import allocation_state


def _member(member):
    if member is None:
        return None
    return {
        "id": member.pk,
        "name": member.name,
        "email": member.email,
        "crm_user_id": member.crm_user_id,
    }


def _writeback(allocation):
    outbox = getattr(allocation, "writeback", None) if allocation.pk else None
    if outbox is None:
        return {"status": "none", "attempts": 0, "last_error": None}
    return {
        "status": outbox.status,
        "attempts": getattr(outbox, "attempts", 0),
        "last_error": getattr(outbox, "last_error", None) or None,
    }


def _iso(moment):
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def _sla(allocation):
    """The entry's SLA clock (the sla app's reverse one-to-one, as `writeback` is
    crm_sync's): None when no policy covers it or its clock has not started yet."""
    clock = getattr(allocation, "sla", None) if allocation.pk else None
    if clock is None:
        return None
    return {
        "due_at": _iso(clock.due_at),
        "accepted_at": _iso(clock.accepted_at),
        "breached_at": _iso(clock.breached_at),
    }


def allocation_render(
    allocation: Allocation, *, members_by_id=None, dry_run=False, with_sla=True
) -> dict:
    """The API representation (also what an idempotency key replays). `with_sla=False`
    for an entry just made, which has no clock yet (no query for it on the hot path)."""
    territory = allocation.territory
    overlay_names = members_by_id or {}
    state, successor = allocation_state(allocation=allocation)
    return {
        "id": allocation.pk,
        "status": allocation.status,
        "owner": _member(allocation.owner),
        "territory": {"id": territory.pk, "name": territory.name} if territory else None,
        "overlays": [
            {"id": m, "name": overlay_names.get(m, "")} for m in (allocation.overlays or [])
        ],
        "decision": allocation.decision,
        "record": {
            "type": allocation.record_type,
            "id": allocation.record_id,
            "crm": allocation.record_crm,
            "fields": allocation.record_fields,
        },
        "play_run": {"id": allocation.play_run_id, "url": allocation.play_run_url},
        "writeback": _writeback(allocation),
        "sla": _sla(allocation) if with_sla else None,
        "reassigned_from": allocation.reassigned_from_id,
        "state": state,
        "successor": successor,
        "reason": allocation.reason,
        "actor": allocation.actor_label,
        "dry_run": dry_run,
        "created_at": allocation.created_at.isoformat().replace("+00:00", "Z")
        if allocation.created_at
        else None,
    }


def overlay_names(*, workspace, allocations) -> dict[int, str]:
    """Names of the overlay members the entries mention, in one query (none if no overlay)."""
    ids = {m for a in allocations for m in (a.overlays or [])}
    if not ids:
        return {}
    members = Member.objects.filter(workspace=workspace, pk__in=ids)
    return dict(members.values_list("pk", "name"))
