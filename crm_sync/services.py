"""Writes for CRM sync and write-back."""

from .models import WritebackOutbox, WritebackStatus


def writeback_enqueue(
    *, allocation, provider: str, record_type: str, record_id: str, owner_crm_user_id: str
) -> WritebackOutbox:
    """Call inside the allocation's transaction. Older pending rows of the same record are
    superseded, so a record reassigned before its write-back ran writes only the latest owner."""
    WritebackOutbox.objects.filter(
        workspace_id=allocation.workspace_id,
        provider=provider,
        record_type=record_type,
        record_id=record_id,
        status=WritebackStatus.PENDING,
    ).update(status=WritebackStatus.SUPERSEDED)
    return WritebackOutbox.objects.create(
        workspace_id=allocation.workspace_id,
        allocation=allocation,
        provider=provider,
        record_type=record_type,
        record_id=record_id,
        owner_crm_user_id=owner_crm_user_id,
    )
