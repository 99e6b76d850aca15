"""Members as CSV: the import (preview, then all or nothing) and the export.

Format (one member a row, matched on `email`, case-insensitive): `name`, `email` (required),
`title`, `role`, `timezone` (IANA name), `is_active` (true/false), `manager_email` (a member
of the workspace or of the same file), `crm_provider` (salesforce/hubspot), `crm_user_id`,
`metadata` (a JSON object, e.g. {"languages": ["en", "fr"]}). A column left out of the file
leaves that attribute of existing members as it is; `id`, `created_at` and `updated_at` (what
the export adds) are ignored, so an export imports back unchanged.
"""

import json
from collections.abc import Iterator

from django.db import transaction
from django.db.models import QuerySet
from django.db.models.functions import Lower

from revorg.csv_io import (
    CsvRow,
    ImportChange,
    ImportRefused,
    ImportResult,
    RowError,
    csv_bool,
    csv_read,
    import_lock,
)
from revorg.services import Actor, audit_record

from .api.serializers import MemberSerializer
from .models import Member

EXPORT_COLUMNS = [
    "id",
    "name",
    "email",
    "title",
    "role",
    "timezone",
    "is_active",
    "manager_email",
    "crm_provider",
    "crm_user_id",
    "metadata",
    "created_at",
    "updated_at",
]
IGNORED_COLUMNS = ("id", "created_at", "updated_at")
TEXT_COLUMNS = ("name", "title", "role", "crm_provider", "crm_user_id")


def member_snapshot(member: Member) -> dict:
    """What the audit log keeps of a member before and after an import."""
    return {
        "name": member.name,
        "email": member.email,
        "title": member.title,
        "role": member.role,
        "timezone": member.timezone,
        "is_active": member.is_active,
        "manager": member.manager_id,
        "crm_provider": member.crm_provider,
        "crm_user_id": member.crm_user_id,
        "metadata": member.metadata,
    }


def _row_data(row: CsvRow, errors: list[RowError], *, creating: bool) -> dict:
    """The serializer input of a row: only the columns the file has (blank timezone, flag and
    metadata mean 'the default' for a new member and 'unchanged' for an existing one)."""
    data = {column: row.get(column) for column in TEXT_COLUMNS if row.has(column)}
    data["email"] = row.get("email")
    if row.has("timezone") and (row.get("timezone") or creating):
        data["timezone"] = row.get("timezone") or "UTC"
    if row.has("is_active") and row.get("is_active"):
        flag = csv_bool(row.get("is_active"))
        if flag is None:
            errors.append(RowError(row.line, "is_active", "must be true or false"))
        else:
            data["is_active"] = flag
    if row.has("metadata") and row.get("metadata"):
        try:
            data["metadata"] = json.loads(row.get("metadata"))
        except ValueError:
            errors.append(
                RowError(row.line, "metadata", 'must be a JSON object, e.g. {"languages": ["en"]}')
            )
    return data


def _serializer_errors(line: int, detail) -> list[RowError]:
    errors = []
    for column, messages in detail.items():
        for message in messages if isinstance(messages, list) else [messages]:
            errors.append(
                RowError(line, None if column == "non_field_errors" else column, str(message))
            )
    return errors


def _manager_cycles(*, workspace, managers: dict[str, str]) -> set[str]:
    """Emails (of the file) whose manager chain, with the file's changes, comes back to them."""
    chain = {
        email.lower(): (manager or "").lower()
        for email, manager in Member.objects.filter(workspace=workspace)
        .exclude(email="")
        .values_list("email", "manager__email")
    }
    chain.update(managers)
    looping = set()
    for start in managers:
        seen, cursor = set(), start
        while cursor and cursor not in seen:
            seen.add(cursor)
            cursor = chain.get(cursor, "")
        if cursor == start:
            looping.add(start)
    return looping


def member_import(*, workspace, actor: Actor, raw: bytes, dry_run: bool = False) -> ImportResult:
    """Checks every row, then (unless a dry run) creates and updates the members in one
    transaction, each change audited. Any error: ImportRefused, nothing written. Imports of
    one workspace run one at a time, each checked against what the previous one wrote."""
    if dry_run:
        return _member_import(workspace=workspace, actor=actor, raw=raw, dry_run=True)
    with transaction.atomic():
        import_lock(scope="members", workspace_id=workspace.pk)
        return _member_import(workspace=workspace, actor=actor, raw=raw, dry_run=False)


def _member_import(*, workspace, actor: Actor, raw: bytes, dry_run: bool) -> ImportResult:
    table = csv_read(
        raw=raw,
        columns=[*EXPORT_COLUMNS],
        required=("email",),
    )
    result = ImportResult(errors=list(table.errors))
    if any(error.line == 1 for error in table.errors):
        raise ImportRefused(result.errors)
    emails = {row.get("email").lower() for row in table.rows if row.get("email")}
    existing = {
        member.email_key: member
        for member in Member.objects.filter(workspace=workspace)
        .annotate(email_key=Lower("email"))
        .filter(email_key__in=emails)
    }
    seen_emails: dict[str, int] = {}
    seen_crm: dict[tuple, int] = {}
    planned: list[tuple[CsvRow, Member | None, dict]] = []
    managers: dict[str, str] = {}
    for row in table.rows:
        errors: list[RowError] = []
        email = row.get("email").lower()
        if not email:
            result.errors.append(RowError(row.line, "email", "required: members are matched on it"))
            continue
        if email in seen_emails:
            result.errors.append(
                RowError(row.line, "email", f"already on line {seen_emails[email]} of this file")
            )
            continue
        seen_emails[email] = row.line
        member = existing.get(email)
        data = _row_data(row, errors, creating=member is None)
        if member is None and not data.get("name"):
            errors.append(RowError(row.line, "name", "required for a new member"))
        serializer = MemberSerializer(
            instance=member, data=data, partial=member is not None, context={"workspace": workspace}
        )
        if not serializer.is_valid():
            errors.extend(_serializer_errors(row.line, serializer.errors))
        crm_id = row.get("crm_user_id")
        if crm_id:
            key = (row.get("crm_provider").lower(), crm_id)
            if key in seen_crm:
                errors.append(RowError(row.line, "crm_user_id", f"already on line {seen_crm[key]}"))
            seen_crm[key] = row.line
        if row.has("manager_email"):
            managers[email] = row.get("manager_email").lower()
        if errors:
            result.errors.extend(errors)
            continue
        planned.append((row, member, serializer.validated_data))
    targets = {manager for manager in managers.values() if manager}
    known_emails = emails | set(
        Member.objects.filter(workspace=workspace)
        .annotate(email_key=Lower("email"))
        .filter(email_key__in=targets)
        .values_list("email_key", flat=True)
    )
    for row, _, _ in planned:
        manager = managers.get(row.get("email").lower())
        if manager and manager not in known_emails:
            result.errors.append(
                RowError(row.line, "manager_email", f"no member with email {manager}")
            )
        elif manager and manager == row.get("email").lower():
            result.errors.append(
                RowError(row.line, "manager_email", "a member cannot be their own manager")
            )
    for email in sorted(_manager_cycles(workspace=workspace, managers=managers)):
        if email != managers.get(email):
            result.errors.append(
                RowError(seen_emails[email], "manager_email", "this manager would create a cycle")
            )
    result.changes = [
        ImportChange(
            line=row.line,
            action="update" if member else "create",
            key=row.get("email"),
            detail=row.get("name") or (member.name if member else ""),
        )
        for row, member, _ in planned
    ]
    result.errors.sort(key=lambda error: (error.line, error.column or ""))
    if result.errors:
        raise ImportRefused(result.errors)
    if not dry_run:
        _apply(workspace=workspace, actor=actor, planned=planned, managers=managers)
        result.applied = True
    return result


@transaction.atomic
def _apply(*, workspace, actor: Actor, planned, managers: dict[str, str]) -> None:
    by_email: dict[str, Member] = {}
    befores: dict[str, dict | None] = {}
    for row, member, validated in planned:
        email = row.get("email").lower()
        befores[email] = member_snapshot(member) if member else None
        if member is None:
            member = Member(workspace=workspace)
        for name, value in validated.items():
            setattr(member, name, value)
        member.save()
        by_email[email] = member
    wanted = set(managers.values()) - set(by_email) - {""}
    if wanted:
        for member in (
            Member.objects.filter(workspace=workspace)
            .annotate(email_key=Lower("email"))
            .filter(email_key__in=wanted)
        ):
            by_email.setdefault(member.email_key, member)
    for email, manager_email in managers.items():
        member = by_email[email]
        member.manager = by_email.get(manager_email) if manager_email else None
        member.save(update_fields=["manager", "updated_at"])
    for email, member in by_email.items():
        if email not in befores:
            continue
        audit_record(
            workspace=workspace,
            actor=actor,
            action="update" if befores[email] else "create",
            obj=member,
            before=befores[email],
            after=member_snapshot(member),
        )


def member_export_rows(*, queryset: QuerySet[Member]) -> Iterator[list]:
    """The export's rows, read in chunks (a large workspace is never held in memory)."""
    rows = queryset.select_related("manager").order_by("name", "id")
    for member in rows.iterator(chunk_size=1000):
        yield [
            member.pk,
            member.name,
            member.email,
            member.title,
            member.role,
            member.timezone,
            member.is_active,
            member.manager.email if member.manager else "",
            member.crm_provider,
            member.crm_user_id,
            member.metadata or {},
            member.created_at.isoformat(),
            member.updated_at.isoformat(),
        ]
