"""Which rows of a workspace a person may see (DESIGN §9): the one home of row scope.

Every role reads within its scope; what a role may *change* is `ROLE_RANK` in
`revorg.permissions`. The scope of a membership is two id sets:

- viewer, admin: everything (`RowScope.everything`); API keys too (keys are workspace-wide).
- rep: their own member; the territories they hold a slot in.
- manager: their member and every report below it through `Member.manager` (recursive); the
  territories any of those hold a slot in.
- director: their member and its reports, plus every member holding a slot in their
  territory's subtree; the territory (`WorkspaceMembership.territory`) and its subtree.
- a rep, manager or director whose membership names no member (and, for a director, no
  territory) sees no scoped rows: scope fails closed.

A row is in scope when its member is in `member_ids` or its territory in `territory_ids`;
`SCOPE_PATHS` says how each scoped model reaches both. A row with several members (a
transition move, a reassignment request: from and to, and a request's items' owners) lists a
tuple of lookups and is in scope when ANY of them is: a manager sees moves into and out of
their team, a rep the ones they give or receive. A request's territories are its own and its
items' records', so whoever may name a record sees the request that moves it. A lookup
through a to-many relation (`items__from_member`) is read through a subquery, so a row never
comes back twice. Models not listed are workspace configuration (plans, CRM connections, API
keys, jobs) and stay visible to every role.
Out-of-scope rows answer 404, as another workspace's do: the API's base viewset
(`revorg.api`) and the pages' `revorg.tenancy.workspace_rows` both filter through
`rows_in_scope`.

The kernel imports no domain app: member and territory tables are read through the app
registry.
"""

from dataclasses import dataclass

from django.apps import apps
from django.db import connection
from django.db.models import Q, QuerySet
from django.db.models.constants import LOOKUP_SEP

from .models import ApiKey, Role, WorkspaceMembership

# model label -> (lookup(s) to its member(s), lookup(s) to its territory); None: not reachable
# that way. Several lookups: the row is in scope when any of them is.
Paths = str | tuple[str, ...] | None
SCOPE_PATHS: dict[str, tuple[Paths, Paths]] = {
    "members.member": ("pk", None),
    "members.absence": ("member", None),
    "capacities.capacity": ("member", None),
    "capacities.pipelinesnapshot": ("member", None),
    "territories.territory": (None, "pk"),
    "territories.accountlock": (None, "territory"),
    "allocation.allocation": ("owner", "territory"),
    "book.account": ("owner", "territory"),
    "book.opportunity": ("owner", "account__territory"),
    "analytics.quota": ("member", "territory"),
    "analytics.memberramp": ("member", None),
    "transitions.transitionmove": (("from_member", "to_member"), "account__territory"),
    "reassignments.reassignmentrequest": (
        ("from_member", "to_member", "items__from_member"),
        ("territory", "items__account__territory", "items__allocation__territory"),
    ),
}

UNSCOPED_ROLES = frozenset({Role.VIEWER, Role.ADMIN})


@dataclass(frozen=True)
class RowScope:
    """The members and territories whose rows a person sees; `None` means all of them."""

    member_ids: frozenset[int] | None
    territory_ids: frozenset[int] | None

    @property
    def is_everything(self) -> bool:
        return self.member_ids is None and self.territory_ids is None

    def has_member(self, member_id: int | None) -> bool:
        return self.member_ids is None or member_id in self.member_ids

    def has_territory(self, territory_id: int | None) -> bool:
        return self.territory_ids is None or territory_id in self.territory_ids


EVERYTHING = RowScope(member_ids=None, territory_ids=None)
NOTHING = RowScope(member_ids=frozenset(), territory_ids=frozenset())


def _table(label: str) -> str:
    return apps.get_model(label)._meta.db_table


def member_ids_managed_by(*, workspace_id: int, member_id: int) -> frozenset[int]:
    """`member_id` and every member below it through `Member.manager`, at any depth (one
    recursive query; UNION stops at a cycle). "Manager approves their reports" is
    `report_id in member_ids_managed_by(...)`."""
    table = _table("members.Member")
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH RECURSIVE team(id) AS ("
            f" SELECT id FROM {table} WHERE id = %s AND workspace_id = %s"
            f" UNION"
            f" SELECT m.id FROM {table} m JOIN team ON m.manager_id = team.id"
            f" WHERE m.workspace_id = %s"
            f") SELECT id FROM team",
            [member_id, workspace_id, workspace_id],
        )
        return frozenset(row[0] for row in cursor.fetchall())


def territory_subtree_ids(*, workspace_id: int, territory_id: int) -> frozenset[int]:
    """The territory and every territory below it through `Territory.parent`."""
    table = _table("territories.Territory")
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH RECURSIVE tree(id) AS ("
            f" SELECT id FROM {table} WHERE id = %s AND workspace_id = %s"
            f" UNION"
            f" SELECT t.id FROM {table} t JOIN tree ON t.parent_id = tree.id"
            f" WHERE t.workspace_id = %s"
            f") SELECT id FROM tree",
            [territory_id, workspace_id, workspace_id],
        )
        return frozenset(row[0] for row in cursor.fetchall())


def _slots():
    return apps.get_model("territories.TerritorySlot")._default_manager


def row_scope_for_membership(*, membership: WorkspaceMembership | None) -> RowScope:
    """The scope of a workspace membership (see the module docstring for each role)."""
    if membership is None:
        return NOTHING
    if membership.role in UNSCOPED_ROLES:
        return EVERYTHING
    workspace_id = membership.workspace_id
    member_ids: frozenset[int] = frozenset()
    if membership.member_id is not None:
        if membership.role == Role.REP:
            member_ids = frozenset({membership.member_id})
        else:
            member_ids = member_ids_managed_by(
                workspace_id=workspace_id, member_id=membership.member_id
            )
    if membership.role == Role.DIRECTOR:
        territory_ids: frozenset[int] = frozenset()
        if membership.territory_id is not None:
            territory_ids = territory_subtree_ids(
                workspace_id=workspace_id, territory_id=membership.territory_id
            )
        slotted = _slots().filter(workspace_id=workspace_id, territory_id__in=territory_ids)
        member_ids |= frozenset(slotted.values_list("member_id", flat=True))
        return RowScope(member_ids=member_ids, territory_ids=territory_ids)
    held = _slots().filter(workspace_id=workspace_id, member_id__in=member_ids)
    return RowScope(
        member_ids=member_ids, territory_ids=frozenset(held.values_list("territory_id", flat=True))
    )


def row_scope_for_request(request) -> RowScope:
    """The request's scope, computed once per request: an API key sees the whole workspace;
    a person what their membership's role allows; no membership, nothing."""
    cached = getattr(request, "_row_scope", None)
    if cached is not None:
        return cached
    if isinstance(getattr(request, "auth", None), ApiKey):
        scope = EVERYTHING
    else:
        scope = row_scope_for_membership(membership=getattr(request, "membership", None))
    request._row_scope = scope
    return scope


def rows_in_scope(queryset: QuerySet, *, scope: RowScope) -> QuerySet:
    """`queryset` narrowed to the rows `scope` covers; unchanged for unscoped models."""
    paths = SCOPE_PATHS.get(queryset.model._meta.label_lower)
    if paths is None or scope.is_everything:
        return queryset
    member_paths, territory_paths = paths
    condition = Q(pk__in=[])
    for lookups, ids in ((member_paths, scope.member_ids), (territory_paths, scope.territory_ids)):
        if not ids:
            continue
        for path in (lookups,) if isinstance(lookups, str) else lookups or ():
            condition |= _among(queryset.model, path, sorted(ids))
    return queryset.filter(condition)


def _among(model, path: str, ids: list[int]) -> Q:
    """`path__in=ids`; through a to-many relation as `pk__in=(subquery)`, so that a row
    reached through several related rows is not repeated (and no DISTINCT is needed)."""
    if _crosses_to_many(model, path):
        related = model._base_manager.filter(**{f"{path}__in": ids}).values("pk")
        return Q(pk__in=related)
    return Q(**{f"{path}__in": ids})


def _crosses_to_many(model, path: str) -> bool:
    opts = model._meta
    for name in path.split(LOOKUP_SEP):
        if name == "pk":
            return False
        field = opts.get_field(name)
        if field.one_to_many or field.many_to_many:
            return True
        if field.related_model is None:
            return False
        opts = field.related_model._meta
    return False


def model_is_scoped(model) -> bool:
    return model._meta.label_lower in SCOPE_PATHS
