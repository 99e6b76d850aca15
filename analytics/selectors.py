"""Performance by territory and by rep for a period (DESIGN §10): set-based aggregates.

Every figure is aggregated in SQL (one GROUP BY per source: closed deals, open deals,
accounts, allocations, quotas) and parents are rolled up in Python over the aggregated rows
through the territory tree, so the cost grows with the number of territories, not deals.

The metrics of a row, for the period [period_start, period_end] (dates inclusive):

- `quota`: the quotas set for the territory (or member) prorated month by month over the
  period (see `analytics.periods`); a member's months weighted by their ramp. A parent
  without a quota of its own carries the sum of its children's. null when none is set.
- `won_amount`: the amounts of deals won in the period (closed date, else expected close
  date, in the period). A territory is credited the deals that closed in it (the account's
  territory when the deal closed, `Opportunity.closed_territory`; the account's current one
  only for a deal closed before it ever had one). A member is credited the deals they own,
  plus, for each overlay slot they hold, `credit_percent` % of that territory's won amount
  (its subtree's: an overlay on a parent covers its children).
- `attainment`: won_amount / quota × 100 (percent); null without a quota > 0.
- `win_rate`: deals won / deals closed (won or lost) in the period × 100 (percent); null
  when none closed. Counts are of owned/territory deals, never of overlay credit.
- `avg_deal_size`: the owned/territory won amount / deals won; null when none was won.
- `sales_cycle_days`: the mean of (closed date − created date) in days over the deals won
  in the period that know both dates; null when none do.
- `open_pipeline`: the amounts of open deals expected to close in the period (close date in
  it), of the territory's accounts now (or the member's deals), plus overlay credit as for
  won_amount.
- `pipeline_coverage`: open_pipeline / (quota − won_amount), the pipeline there is for what
  is left to win (times); null without a quota or when nothing is left to win.
- `velocity`: pipeline velocity, money per day = open deals × win_rate/100 × avg_deal_size
  / sales_cycle_days, the usual formula (what the open pipeline is expected to turn into
  per day); null when a factor is null or the cycle is 0 days.
- `accounts`: accounts in the territory (owned by the member) now — the account density.
- `allocations`: allocation entries of the territory (owned by the member) created in the
  period.
- `time_to_accept_p50_minutes`: median minutes from an allocation's creation to its
  acceptance over the period's accepted allocations; read from `Allocation.accepted_at`
  (`ACCEPTED_AT_FIELD` below); null while allocations carry no acceptance time.
"""

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from allocation.models import Allocation
from book.models import Account, Opportunity
from members.models import Member
from territories.models import SlotRole, Territory, TerritorySlot
from territories.selectors import plan_get_active

from .models import MemberRamp, Quota
from .periods import Period, fiscal_quarter_of, prorated_quota

# Where an allocation's acceptance time lives (the governance work adds it to Allocation);
# the selector reads it only once the model has it.
ACCEPTED_AT_FIELD = "accepted_at"

ZERO = 0.0


@dataclass(slots=True)
class Tally:
    """The additive parts of a row; ratios are derived from them after the roll-up."""

    quota: float | None = None
    won_amount: float = ZERO  # credited, overlay credit included (members)
    own_won_amount: float = ZERO
    won: int = 0
    closed: int = 0
    cycle_days: float = ZERO
    cycle_deals: int = 0
    open_pipeline: float = ZERO  # credited
    own_open_pipeline: float = ZERO
    open_deals: int = 0
    accounts: int = 0
    allocations: int = 0
    accept_minutes: list[float] = field(default_factory=list)

    def add(self, other: "Tally") -> None:
        self.won_amount += other.won_amount
        self.own_won_amount += other.own_won_amount
        self.won += other.won
        self.closed += other.closed
        self.cycle_days += other.cycle_days
        self.cycle_deals += other.cycle_deals
        self.open_pipeline += other.open_pipeline
        self.own_open_pipeline += other.own_open_pipeline
        self.open_deals += other.open_deals
        self.accounts += other.accounts
        self.allocations += other.allocations
        if other.accept_minutes:
            self.accept_minutes = self.accept_minutes + other.accept_minutes


def _money(value) -> float | None:
    # Amounts are summed as floats (exact to the cent far beyond any book's totals).
    return None if value is None else round(float(value), 2)


def _ratio(numerator, denominator, scale=1, places=1) -> float | None:
    if not denominator or numerator is None:
        return None
    return round(numerator * scale / denominator, places)


def metrics(tally: Tally) -> dict:
    """The row's published figures from its tally (definitions in the module docstring)."""
    win_rate = tally.won / tally.closed if tally.closed else None
    avg_deal = tally.own_won_amount / tally.won if tally.won else None
    cycle = tally.cycle_days / tally.cycle_deals if tally.cycle_deals else None
    left = tally.quota - tally.won_amount if tally.quota is not None else None
    velocity = None
    if win_rate is not None and avg_deal is not None and cycle:
        velocity = tally.open_deals * win_rate * avg_deal / cycle
    return {
        "quota": _money(tally.quota),
        "won_amount": _money(tally.won_amount),
        "attainment": _ratio(tally.won_amount, tally.quota or None, 100),
        "win_rate": _ratio(tally.won, tally.closed, 100),
        "avg_deal_size": _money(avg_deal),
        "sales_cycle_days": None if cycle is None else round(cycle, 1),
        "open_pipeline": _money(tally.open_pipeline),
        "pipeline_coverage": _ratio(tally.open_pipeline, left if left and left > 0 else None, 1, 2),
        "velocity": _money(velocity),
        "accounts": tally.accounts,
        "allocations": tally.allocations,
        "time_to_accept_p50_minutes": (
            round(statistics.median(tally.accept_minutes), 1) if tally.accept_minutes else None
        ),
        "won_deals": tally.won,
        "closed_deals": tally.closed,
        "open_deals": tally.open_deals,
    }


def _bounds(period: Period) -> tuple[datetime, datetime]:
    zone = timezone.get_default_timezone()
    return (
        datetime.combine(period.start, time.min, tzinfo=zone),
        datetime.combine(period.end + timedelta(days=1), time.min, tzinfo=zone),
    )


def _days(value) -> float:
    if value is None:
        return ZERO
    if isinstance(value, timedelta):
        return value.total_seconds() / 86400
    return float(value)  # an integer of days (a backend that subtracts dates so)


def _closed_by(workspace, period: Period, group: str) -> dict:
    """Closed deals of the period by `owner_id` or by `territory` — the territory they
    closed in, or their account's current one for a deal closed before any was recorded
    (the only case that reads the accounts)."""
    closed_on = Coalesce("closed_date", "close_date")
    cycle_length = ExpressionWrapper(
        F("closed_date") - F("created_date"), output_field=DurationField()
    )
    won = Q(is_won=True)
    cycle = Q(is_won=True, created_date__isnull=False, closed_date__isnull=False)
    closed = (
        Opportunity.objects.filter(workspace_id=workspace.pk, is_closed=True)
        .annotate(closed_on=closed_on)
        .filter(closed_on__gte=period.start, closed_on__lte=period.end)
    )
    # COUNT(*) / COUNT(1), never COUNT(id): every column read is in opportunity_closed_by_date, so
    # the period's closed deals are an index-only scan (book.models.Opportunity).
    sums = {
        "won_amount": Sum("amount", filter=won, default=0),
        "won": Count(Value(1), filter=won),
        "closed": Count("*"),
        "cycle": Sum(cycle_length, filter=cycle),
        "cycle_deals": Count(Value(1), filter=cycle),
    }
    if group != "territory":
        rows = closed.values(group).annotate(**sums).order_by()
        return {row[group]: row for row in rows}
    merged: dict = {}
    for column, rows in (
        ("closed_territory_id", closed.filter(closed_territory__isnull=False)),
        ("account__territory_id", closed.filter(closed_territory__isnull=True)),
    ):
        for row in rows.values(column).annotate(**sums).order_by():
            key = row.pop(column)
            if key in merged:
                for name, value in row.items():
                    before = merged[key][name]
                    if value is not None:
                        merged[key][name] = value if before is None else before + value
            else:
                merged[key] = row
    return merged


def _open_by(workspace, period: Period, group: str) -> dict:
    """Open deals expected to close in the period by `owner_id` or `account__territory_id`.
    The deals from opportunity_open_by_close (index-only), their accounts' territory by
    primary key (the account's workspace, the same, in the filter)."""
    deals = Opportunity.objects.filter(
        workspace_id=workspace.pk,
        is_closed=False,
        close_date__gte=period.start,
        close_date__lte=period.end,
    )
    if group.startswith("account__"):
        deals = deals.filter(account__workspace_id=workspace.pk)
    rows = (
        deals.values(group)
        .annotate(open_pipeline=Sum("amount", default=ZERO), open_deals=Count("*"))
        .order_by()
    )
    return {row[group]: row for row in rows}


def _count_by(queryset, group: str) -> dict:
    # COUNT(*), not COUNT(id): the (workspace, group) index alone can answer it.
    return dict(queryset.values_list(group).annotate(n=Count("*")).order_by())


def _accept_minutes_by(workspace, period: Period, group: str) -> dict[int, list[float]]:
    names = {f.name for f in Allocation._meta.get_fields()}
    if ACCEPTED_AT_FIELD not in names:
        return {}
    since, until = _bounds(period)
    minutes: dict[int, list[float]] = defaultdict(list)
    for key, created, accepted in Allocation.objects.filter(
        workspace_id=workspace.pk,
        created_at__gte=since,
        created_at__lt=until,
        **{f"{ACCEPTED_AT_FIELD}__isnull": False},
    ).values_list(group, "created_at", ACCEPTED_AT_FIELD):
        minutes[key].append((accepted - created).total_seconds() / 60)
    return minutes


def _tally_from(closed: dict | None, open_: dict | None) -> Tally:
    tally = Tally()
    if closed:
        tally.won_amount = tally.own_won_amount = float(closed["won_amount"] or 0)
        tally.won, tally.closed = closed["won"], closed["closed"]
        tally.cycle_days, tally.cycle_deals = _days(closed["cycle"]), closed["cycle_deals"]
    if open_:
        tally.open_pipeline = tally.own_open_pipeline = float(open_["open_pipeline"] or 0)
        tally.open_deals = open_["open_deals"]
    return tally


def _quotas(workspace, period: Period, column: str, ramps: dict | None = None) -> dict:
    """Prorated quota per territory (or member) id; ramps only for members."""
    quotas: dict[int, float] = {}
    rows = Quota.objects.filter(
        workspace_id=workspace.pk,
        period_start__lte=period.end,
        period_end__gte=period.start,
        **{f"{column}__isnull": False},
    ).values_list(column, "amount", "period_start", "period_end")
    for key, amount, start, end in rows:
        ramp = (ramps or {}).get(key)
        quotas[key] = quotas.get(key, ZERO) + float(
            prorated_quota(
                amount=amount,
                quota_start=start,
                quota_end=end,
                period=period,
                ramp_start=ramp[0] if ramp else None,
                ramp_percentages=ramp[1] if ramp else (),
            )
        )
    return quotas


@dataclass(frozen=True)
class TerritoryNode:
    id: int
    name: str
    kind: str
    parent_id: int | None
    level: int


def _territory_tree(plan) -> dict[int, TerritoryNode]:
    # No ordering: the model's default one joins the plan to sort (the tree orders itself).
    rows = list(
        Territory.objects.filter(plan=plan)
        .order_by()
        .values_list("id", "name", "kind", "parent_id")
    )
    parents = {row[0]: row[3] for row in rows}

    def level(territory_id):
        depth, cursor, seen = 0, parents.get(territory_id), {territory_id}
        while cursor is not None and cursor not in seen:
            seen.add(cursor)
            depth, cursor = depth + 1, parents.get(cursor)
        return depth

    return {row[0]: TerritoryNode(row[0], row[1], row[2], row[3], level(row[0])) for row in rows}


def _rolled_up(tree: dict[int, TerritoryNode], own: dict[int, Tally]) -> dict[int, Tally]:
    """Each territory's tally plus its descendants'; a parent without a quota of its own
    takes the sum of its children's. One pass, deepest territories first, each adding its
    (complete) tally into its parent's: it consumes `own` (the tallies become the rolled)."""
    rolled = {territory_id: own.get(territory_id) or Tally() for territory_id in tree}
    child_quota: dict[int, float] = {}
    for node in sorted(tree.values(), key=lambda n: n.level, reverse=True):
        tally = rolled[node.id]
        if tally.quota is None:
            tally.quota = child_quota.get(node.id)
        parent = node.parent_id
        if parent is not None and parent in rolled and parent != node.id:
            rolled[parent].add(tally)
            if tally.quota is not None:
                child_quota[parent] = child_quota.get(parent, ZERO) + tally.quota
    return rolled


def territory_performance(
    *, workspace, plan, period: Period, kind: str | None = None, level: int | None = None
) -> list[dict]:
    """One row per territory of `plan` (children rolled into parents), in tree order,
    narrowed to a kind and/or a depth (0 = top level) after the roll-up."""
    tree = _territory_tree(plan)
    closed = _closed_by(workspace, period, "territory")
    open_ = _open_by(workspace, period, "account__territory_id")
    accounts = _count_by(
        Account.objects.filter(workspace_id=workspace.pk, territory_id__isnull=False),
        "territory_id",
    )
    since, until = _bounds(period)
    allocations = _count_by(
        Allocation.objects.filter(
            workspace_id=workspace.pk,
            created_at__gte=since,
            created_at__lt=until,
            territory_id__isnull=False,
        ),
        "territory_id",
    )
    accept = _accept_minutes_by(workspace, period, "territory_id")
    quotas = _quotas(workspace, period, "territory_id")
    own: dict[int, Tally] = {}
    for territory_id in tree:
        tally = _tally_from(closed.get(territory_id), open_.get(territory_id))
        tally.accounts = accounts.get(territory_id, 0)
        tally.allocations = allocations.get(territory_id, 0)
        tally.accept_minutes = accept.get(territory_id, [])
        tally.quota = quotas.get(territory_id)
        own[territory_id] = tally
    rolled = _rolled_up(tree, own)
    overlay_slots = _overlay_slots(plan)
    rows = []
    for node in _tree_order(tree):
        if kind and node.kind != kind:
            continue
        if level is not None and node.level != level:
            continue
        tally = rolled[node.id]
        percent = sum((p for _, p in overlay_slots.get(node.id, [])), 0)
        rows.append(
            {
                "territory": {
                    "id": node.id,
                    "name": node.name,
                    "kind": node.kind,
                    "parent": node.parent_id,
                    "level": node.level,
                },
                **metrics(tally),
                "overlay_credit_won": _money(tally.won_amount * percent / 100),
                "overlay_credit_pipeline": _money(tally.open_pipeline * percent / 100),
            }
        )
    return rows


def territory_won_and_quota(
    *, workspace, period: Period | None = None
) -> dict[int, tuple[float, float | None]]:
    """territory id → (won amount, quota) of the active plan's territories for `period`
    (default: the current fiscal quarter), children rolled into their parents exactly as
    `territory_performance` computes them (the map's attainment, geo.metrics). Only the
    closed deals and the quotas are read."""
    plan = plan_get_active(workspace=workspace)
    if plan is None:
        return {}
    if period is None:
        period = fiscal_quarter_of(timezone.localdate(), workspace.fiscal_year_start_month)
    tree = _territory_tree(plan)
    closed = _closed_by(workspace, period, "territory")
    quotas = _quotas(workspace, period, "territory_id")
    own = {}
    for territory_id in tree:
        tally = _tally_from(closed.get(territory_id), None)
        tally.quota = quotas.get(territory_id)
        own[territory_id] = tally
    return {
        territory_id: (tally.won_amount, tally.quota)
        for territory_id, tally in _rolled_up(tree, own).items()
    }


def _tree_order(tree: dict[int, TerritoryNode]) -> list[TerritoryNode]:
    children: dict[int | None, list[TerritoryNode]] = defaultdict(list)
    for node in tree.values():
        children[node.parent_id if node.parent_id in tree else None].append(node)
    ordered: list[TerritoryNode] = []
    stack = sorted(children[None], key=lambda n: (n.name, n.id), reverse=True)
    while stack:
        node = stack.pop()
        ordered.append(node)
        stack.extend(sorted(children.get(node.id, []), key=lambda n: (n.name, n.id), reverse=True))
    return ordered


def _overlay_slots(plan) -> dict[int, list[tuple[int, int]]]:
    """territory id → [(member id, credit percent)] of its overlay slots with credit."""
    slots: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for territory_id, member_id, percent in (
        TerritorySlot.objects.filter(
            territory__plan=plan, role=SlotRole.OVERLAY, credit_percent__gt=0
        )
        .order_by()
        .values_list("territory_id", "member_id", "credit_percent")
    ):
        slots[territory_id].append((member_id, percent))
    return slots


def member_performance(
    *, workspace, plan, period: Period, kind: str | None = None, level: int | None = None
) -> list[dict]:
    """One row per active member (and any inactive one with figures in the period), sorted
    by name; `kind`/`level` keep the members holding a slot in such a territory of `plan`."""
    closed = _closed_by(workspace, period, "owner_id")
    open_ = _open_by(workspace, period, "owner_id")
    accounts = _count_by(
        Account.objects.filter(workspace_id=workspace.pk, owner_id__isnull=False), "owner_id"
    )
    since, until = _bounds(period)
    allocations = _count_by(
        Allocation.objects.filter(
            workspace_id=workspace.pk,
            created_at__gte=since,
            created_at__lt=until,
            owner_id__isnull=False,
        ),
        "owner_id",
    )
    accept = _accept_minutes_by(workspace, period, "owner_id")
    ramps = {
        member_id: (start, percentages)
        for member_id, start, percentages in MemberRamp.objects.filter(
            workspace_id=workspace.pk
        ).values_list("member_id", "start_date", "month_percentages")
    }
    quotas = _quotas(workspace, period, "member_id", ramps)
    tally_of: dict[int, Tally] = {}
    for member_id in {*closed, *open_, *accounts, *allocations, *quotas} - {None}:
        tally = _tally_from(closed.get(member_id), open_.get(member_id))
        tally.accounts = accounts.get(member_id, 0)
        tally.allocations = allocations.get(member_id, 0)
        tally.accept_minutes = accept.get(member_id, [])
        tally.quota = quotas.get(member_id)
        tally_of[member_id] = tally
    overlay = _overlay_slots(plan) if plan is not None else {}
    if overlay:
        tree = _territory_tree(plan)
        territory_closed = _closed_by(workspace, period, "territory")
        territory_open = _open_by(workspace, period, "account__territory_id")
        own = {t: _tally_from(territory_closed.get(t), territory_open.get(t)) for t in tree}
        rolled = _rolled_up(tree, own)
        for territory_id, slots in overlay.items():
            source = rolled.get(territory_id)
            if source is None:
                continue
            for member_id, percent in slots:
                tally = tally_of.setdefault(member_id, Tally())
                tally.won_amount += source.won_amount * percent / 100
                tally.open_pipeline += source.open_pipeline * percent / 100
    members = Member.objects.filter(workspace_id=workspace.pk).filter(
        Q(is_active=True) | Q(pk__in=list(tally_of))
    )
    if plan is not None and (kind or level is not None):
        tree = _territory_tree(plan)
        wanted = [
            node.id
            for node in tree.values()
            if (not kind or node.kind == kind) and (level is None or node.level == level)
        ]
        members = members.filter(
            pk__in=TerritorySlot.objects.filter(territory_id__in=wanted).values("member_id")
        )
    rows = []
    for member_id, name, email in members.order_by("name", "id").values_list("id", "name", "email"):
        tally = tally_of.get(member_id, Tally())
        rows.append(
            {
                "member": {"id": member_id, "name": name, "email": email},
                **metrics(tally),
                "overlay_credit_won": _money(tally.won_amount - tally.own_won_amount),
                "overlay_credit_pipeline": _money(tally.open_pipeline - tally.own_open_pipeline),
            }
        )
    return rows


def balance_score(*, plan) -> float | None:
    """DESIGN §8: 100 × (1 − CV) of accounts per primary rep of the plan (floored at 0), CV =
    population standard deviation / mean; null without primaries or accounts."""
    primaries = set(
        TerritorySlot.objects.filter(territory__plan=plan, role=SlotRole.PRIMARY).values_list(
            "member_id", flat=True
        )
    )
    if not primaries:
        return None
    owned = _count_by(
        Account.objects.filter(workspace_id=plan.workspace_id, owner_id__in=primaries), "owner_id"
    )
    counts = [owned.get(member_id, 0) for member_id in primaries]
    mean = statistics.fmean(counts)
    if not mean:
        return None
    cv = statistics.pstdev(counts) / mean
    return round(max(0.0, 100 * (1 - cv)), 1)
