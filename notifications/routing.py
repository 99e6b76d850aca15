"""Who hears about an event: the endpoints that subscribe to it and the users to e-mail,
each with the mode their preference (or the event type's default) gives.

One round trip on the publishing path (it runs inside every allocation's transaction):
endpoints and recipients come back from a single UNION query.
"""

import json
from dataclasses import dataclass

from django.db import connection

from revorg.models import Role, WorkspaceMembership
from revorg.rawsql import hot_cursor

from .models import NotificationMode, NotificationPreference, WebhookEndpoint

# Without a preference: what concerns a person directly arrives at once, what reports on the
# workspace's machinery waits for the digest.
DEFAULT_MODES = {
    "allocation.created": NotificationMode.IMMEDIATE,
    "allocation.reassigned": NotificationMode.IMMEDIATE,
    "allocation.sla_warning": NotificationMode.IMMEDIATE,
    "allocation.sla_breached": NotificationMode.IMMEDIATE,
    "reassignment_request.created": NotificationMode.IMMEDIATE,
    "reassignment_request.decided": NotificationMode.IMMEDIATE,
    "reassignment_request.executed": NotificationMode.IMMEDIATE,
    "plan.activated": NotificationMode.DIGEST,
    "job.finished": NotificationMode.DIGEST,
    "writeback.failed": NotificationMode.DIGEST,
    "account.orphaned": NotificationMode.IMMEDIATE,
}


@dataclass(frozen=True)
class Routing:
    endpoint_ids: list[int]
    recipients: list[tuple[int, str]]  # (user id, mode), mode immediate or digest

    @property
    def empty(self) -> bool:
        return not self.endpoint_ids and not self.recipients


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def routing_for(*, workspace_id: int, event_type: str, member_ids) -> Routing:
    """Events that name members go to those members' users; events that name nobody (a job,
    a write-back, orphaned accounts) go to the workspace's admins. Users without an e-mail
    address or inactive are skipped, as are those whose preference is `off`."""
    member_ids = [int(m) for m in member_ids if m is not None]
    user_model = WorkspaceMembership._meta.get_field("user").related_model
    if member_ids:
        who = f"m.member_id IN ({', '.join(['%s'] * len(member_ids))})"
        who_params = member_ids
    else:
        who, who_params = "m.role = %s", [Role.ADMIN]
    sql = (
        f"SELECT 'e', e.id, CAST(e.events AS text) FROM {_table(WebhookEndpoint)} e "
        "WHERE e.workspace_id = %s AND e.is_active "
        "UNION ALL "
        f"SELECT 'u', m.user_id, p.mode FROM {_table(WorkspaceMembership)} m "
        f"JOIN {_table(user_model)} u ON u.id = m.user_id "
        f"LEFT JOIN {_table(NotificationPreference)} p ON p.workspace_id = m.workspace_id "
        "AND p.user_id = m.user_id AND p.event_type = %s "
        f"WHERE m.workspace_id = %s AND u.is_active AND u.email <> '' AND {who}"
    )
    # Every allocation asks this: a prepared statement (the text only varies with the number
    # of members named, almost always one).
    with hot_cursor() as cursor:
        cursor.execute(sql, [workspace_id, event_type, workspace_id, *who_params])
        rows = cursor.fetchall()
    default = DEFAULT_MODES.get(event_type, NotificationMode.DIGEST)
    endpoint_ids, recipients, seen = [], [], set()
    for kind, row_id, value in rows:
        if kind == "e":
            events = json.loads(value) if value else []
            if not events or event_type in events:
                endpoint_ids.append(row_id)
        elif row_id not in seen:
            seen.add(row_id)
            mode = value or default
            if mode != NotificationMode.OFF:
                recipients.append((row_id, mode))
    return Routing(endpoint_ids=sorted(endpoint_ids), recipients=sorted(recipients))


def mode_for(*, workspace_id: int, user_id: int, event_type: str) -> str:
    stored = (
        NotificationPreference.objects.filter(
            workspace_id=workspace_id, user_id=user_id, event_type=event_type
        )
        .values_list("mode", flat=True)
        .first()
    )
    return stored or DEFAULT_MODES.get(event_type, NotificationMode.DIGEST)
