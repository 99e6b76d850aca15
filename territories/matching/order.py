"""The resolution order of DESIGN.md section 4.1, shared by every matcher: locks, named
accounts, then rule candidates by priority, depth and geographic specificity."""

from .data import (
    GEO_NAMES,
    GEO_SPECIFICITY,
    PlanData,
    Resolution,
    TerritoryInfo,
    normalize_account,
    record_accounts,
)


class _Base:
    def __init__(self, plan: PlanData):
        self.plan = plan
        self.by_id = {t.id: t for t in plan.territories}
        self.active = {t.id for t in plan.territories if self._live(t)}
        self.effective = {t.id: self._effective_rule(t) for t in plan.territories}
        self.specificity = {tid: _geo_specificity(rule) for tid, rule in self.effective.items()}
        order = {t.id: self._order(t.id) for t in plan.territories}
        # One integer per territory in resolution order: sorting candidates compares ints.
        self.rank = {tid: rank for rank, tid in enumerate(sorted(order, key=order.get))}
        self.locks = plan.locks
        self.plan_id, self.version = plan.plan_id, plan.version
        # Resolution traces by (step, candidates): a book of a million accounts falls in a few
        # thousand combinations of territories, each explained once (`Resolution.trace`).
        self.trace_memo: dict[tuple, tuple[dict, ...]] = {}
        self.named: dict[str, list[int]] = {}
        for territory in plan.territories:
            if territory.id in self.active:
                for account in territory.named_accounts:
                    self.named.setdefault(normalize_account(account), []).append(territory.id)
        # Most records name no known account: one set test rules them out.
        self.known_accounts = frozenset(self.named) | frozenset(self.locks)
        # Rule matching: every live territory that has a rule of its own or of an ancestor;
        # a root without a rule is a catch-all unless it is a named-account territory.
        self.rule_ids = [
            t.id
            for t in plan.territories
            if t.id in self.active and (self.effective[t.id] or t.kind != "named_account")
        ]

    def _live(self, territory: TerritoryInfo) -> bool:
        seen = set()
        cursor = territory
        while cursor is not None and cursor.id not in seen:
            if not cursor.is_active:
                return False
            seen.add(cursor.id)
            cursor = self.by_id.get(cursor.parent_id) if cursor.parent_id else None
        return True

    def _effective_rule(self, territory: TerritoryInfo) -> dict | None:
        chain = []
        seen = set()
        cursor = territory
        while cursor is not None and cursor.id not in seen:
            seen.add(cursor.id)
            if cursor.rule:
                chain.append(cursor.rule)
            cursor = self.by_id.get(cursor.parent_id) if cursor.parent_id else None
        if not chain:
            return None
        return chain[0] if len(chain) == 1 else {"all": list(reversed(chain))}

    def _order(self, territory_id: int):
        territory = self.by_id[territory_id]
        specificity = self.specificity[territory_id]
        return (-territory.priority, -territory.depth, -specificity, territory_id)

    def rule_candidates(self, fields: dict) -> list[int]:
        raise NotImplementedError

    def resolve(self, fields: dict) -> Resolution:
        if self.known_accounts:
            resolution = self._account_resolution(fields)
            if resolution is not None:
                return resolution
        candidate_ids = self.rule_candidates(fields)
        return Resolution("territory" if candidate_ids else "none", candidate_ids, self)

    def _account_resolution(self, fields: dict) -> Resolution | None:
        """An account lock, else named-account territories, else None (rules decide)."""
        accounts = record_accounts(fields)
        if not accounts or self.known_accounts.isdisjoint(accounts):
            return None
        for account in accounts:
            lock = self.locks.get(account)
            if lock and lock[0] in self.active:
                return Resolution("lock", (lock[0],), self, lock[1])
        named_ids = {tid for account in accounts for tid in self.named.get(account, ())}
        if named_ids:
            return Resolution("named_account", sorted(named_ids, key=self.rank.__getitem__), self)
        return None

    def winners(self, records) -> list[int | None]:
        """The winning territory id of each record (None: unmatched)."""
        return [
            ids[0] if (ids := self.resolve(fields).candidate_ids) else None for fields in records
        ]

    def explain(self, territory: TerritoryInfo) -> str:
        parts = [f"priority {territory.priority}", f"depth {territory.depth}"]
        geo = self.specificity[territory.id]
        if geo:
            parts.append(f"most specific geography: {GEO_NAMES[geo]}")
        return ", ".join(parts)


def _geo_specificity(rule) -> int:
    if not rule:
        return 0
    if "all" in rule or "any" in rule:
        children = rule.get("all") or rule.get("any")
        return max((_geo_specificity(child) for child in children), default=0)
    if "not" in rule:
        return 0
    return GEO_SPECIFICITY.get(rule.get("field"), 0)
