"""Writes for members and their time off, each audited with the values before and after.

Input is validated by the caller (the API and the pages share `members.api.serializers`);
these functions own the write and its audit entry.
"""

from django.db import transaction

from revorg.services import Actor, audit_record

from .models import Absence, Member

MEMBER_AUDIT_FIELDS = (
    "name",
    "email",
    "title",
    "role",
    "timezone",
    "is_active",
    "manager_id",
    "crm_provider",
    "crm_user_id",
    "metadata",
    "working_hours",
)


def _member_values(member: Member) -> dict:
    return {name: getattr(member, name) for name in MEMBER_AUDIT_FIELDS}


def _absence_values(absence: Absence) -> dict:
    return {
        "member": absence.member_id,
        "starts_at": absence.starts_at.isoformat(),
        "ends_at": absence.ends_at.isoformat(),
        "reason": absence.reason,
    }


@transaction.atomic
def member_create(*, workspace, actor: Actor, **data) -> Member:
    member = Member.objects.create(workspace=workspace, **data)
    audit_record(
        workspace=workspace, actor=actor, action="create", obj=member, after=_member_values(member)
    )
    return member


@transaction.atomic
def member_update(*, member: Member, actor: Actor, **data) -> Member:
    before = _member_values(member)
    for name, value in data.items():
        setattr(member, name, value)
    member.save()
    audit_record(
        workspace=member.workspace,
        actor=actor,
        action="update",
        obj=member,
        before=before,
        after=_member_values(member),
    )
    return member


@transaction.atomic
def member_set_active(*, member: Member, actor: Actor, is_active: bool) -> Member:
    """Deactivating keeps the member and their history; allocation skips them from now on
    (an inactive member is never eligible), reactivating makes them eligible again."""
    if member.is_active == is_active:
        return member
    before = _member_values(member)
    member.is_active = is_active
    member.save(update_fields=["is_active", "updated_at"])
    audit_record(
        workspace=member.workspace,
        actor=actor,
        action="reactivate" if is_active else "deactivate",
        obj=member,
        before=before,
        after=_member_values(member),
    )
    return member


@transaction.atomic
def absence_create(*, member: Member, actor: Actor, starts_at, ends_at, reason="") -> Absence:
    absence = Absence.objects.create(
        workspace=member.workspace,
        member=member,
        starts_at=starts_at,
        ends_at=ends_at,
        reason=reason,
    )
    audit_record(
        workspace=member.workspace,
        actor=actor,
        action="create",
        obj=absence,
        after=_absence_values(absence),
    )
    return absence


@transaction.atomic
def absence_delete(*, absence: Absence, actor: Actor) -> None:
    before = _absence_values(absence)
    audit_record(
        workspace=absence.workspace, actor=actor, action="delete", obj=absence, before=before
    )
    absence.delete()
