"""The plain data a matcher reads and answers: territories, slots, a plan, a resolution."""

import re
from dataclasses import dataclass, field
from functools import cached_property

GEO_SPECIFICITY = {"postal_code": 5, "city": 4, "state": 3, "country": 2, "region": 1}
GEO_NAMES = {value: key for key, value in GEO_SPECIFICITY.items()}


@dataclass(frozen=True)
class SlotInfo:
    member_id: int
    role: str
    weight: int
    position: int


@dataclass(frozen=True)
class TerritoryInfo:
    id: int
    name: str
    priority: int = 0
    depth: int = 1
    parent_id: int | None = None
    kind: str = "custom"
    distribution: str = "round_robin"
    rule: dict | None = None
    member_rule: dict | None = None
    named_accounts: tuple[str, ...] = ()
    fallback_member_id: int | None = None
    fallback_territory_id: int | None = None
    is_active: bool = True
    slots: tuple[SlotInfo, ...] = ()

    # What the allocation engine reads of the slots for every record it decides, computed
    # once per territory (a million accounts of a first assignment would each rebuild them).
    @cached_property
    def pools(self) -> dict[str, tuple[tuple[int, ...], tuple[SlotInfo, ...]]]:
        """role -> (its members in slot order, once each; its slots)."""
        pools = {}
        for role in ("primary", "backup", "overlay"):
            slots = tuple(s for s in self.slots if s.role == role)
            pools[role] = (tuple(dict.fromkeys(s.member_id for s in slots)), slots)
        return pools

    @cached_property
    def rotation_order(self) -> tuple[int, ...]:
        """The round robin's turns: primaries and backups in slot order, once each."""
        return tuple(dict.fromkeys(s.member_id for s in self.slots if s.role != "overlay"))


@dataclass(frozen=True)
class PlanData:
    plan_id: int
    version: int
    territories: tuple[TerritoryInfo, ...]
    locks: dict[str, tuple[int, str]] = field(default_factory=dict)  # account -> (id, reason)


# Distinct candidate combinations a matcher remembers the trace of (a bound on memory for
# long-lived matchers; a plan's real combinations are far fewer).
TRACE_MEMO_MAX = 100_000


class Resolution:
    """The outcome for one record: cheap to make, because bulk re-evaluation reads only the
    winner; territories, conflicts and the human-readable trace are built when read."""

    __slots__ = ("_matcher", "_trace", "candidate_ids", "lock_reason", "step")

    def __init__(self, step: str, candidate_ids=(), matcher=None, lock_reason: str = ""):
        self.step = step  # lock | named_account | territory | none
        self.candidate_ids = candidate_ids  # in resolution order: the winner first
        self._matcher = matcher
        self.lock_reason = lock_reason
        self._trace = None

    def __repr__(self) -> str:
        return f"Resolution(step={self.step!r}, candidates={list(self.candidate_ids)})"

    @property
    def winner(self) -> TerritoryInfo | None:
        return self._matcher.by_id[self.candidate_ids[0]] if self.candidate_ids else None

    @property
    def candidates(self) -> tuple[TerritoryInfo, ...]:
        return tuple(self._matcher.by_id[tid] for tid in self.candidate_ids)

    @property
    def conflicts(self) -> tuple[TerritoryInfo, ...]:
        return self.candidates[1:]

    @property
    def plan_id(self) -> int | None:
        return self._matcher.plan_id if self._matcher else None

    @property
    def plan_version(self) -> int | None:
        return self._matcher.version if self._matcher else None

    def explain(self, territory: TerritoryInfo) -> str:
        return self._matcher.explain(territory)

    @property
    def trace(self) -> tuple[dict, ...]:
        """The resolution's steps; shared by every record with the same candidates (the
        matcher's memo): read them, copy before changing one."""
        if self._trace is None:
            if self.step not in ("territory", "named_account"):  # a lock names its reason
                self._trace = self._build_trace()
                return self._trace
            key = (self.step, tuple(self.candidate_ids))
            memo = self._matcher.trace_memo
            self._trace = memo.get(key)
            if self._trace is None:
                self._trace = self._build_trace()
                if len(memo) < TRACE_MEMO_MAX:
                    memo[key] = self._trace
        return self._trace

    def _build_trace(self) -> tuple[dict, ...]:
        winner = self.winner
        if winner is None:
            detail = "no active plan" if self.plan_id is None else "no territory matched"
            return ({"step": "territory", "outcome": "no_match", "detail": detail},)
        if self.step == "lock":
            detail = f"account is locked to {winner.name}"
            if self.lock_reason:
                detail = f"{detail}: {self.lock_reason}"
        elif self.step == "named_account":
            detail = f"named account of {winner.name}"
        else:
            detail = self.explain(winner)
        steps = [
            {"step": self.step, "outcome": "matched", "territory": winner.id, "detail": detail}
        ]
        steps.extend(
            {
                "step": "conflict",
                "outcome": "lost",
                "territory": other.id,
                "detail": f"also matched: {other.name} ({self.explain(other)})",
            }
            for other in self.conflicts
        )
        return tuple(steps)


def normalize_account(value) -> str:
    """Domains and CRM account ids compare trimmed, lower-case, without scheme or www."""
    text = str(value).strip().lower()
    if "/" not in text and not text.startswith("www."):
        return text
    text = re.sub(r"^[a-z]+://", "", text)
    text = text.removeprefix("www.")
    return text.split("/", 1)[0] if "." in text else text


def record_accounts(fields: dict) -> list[str]:
    accounts = []
    for key in ACCOUNT_FIELDS:
        value = fields.get(key)
        if type(value) is str:
            account = value.strip().lower()
            if "/" in account or account.startswith("www."):
                account = normalize_account(account)
        elif isinstance(value, int):
            account = normalize_account(value)
        else:
            continue
        if account:
            accounts.append(account)
    return accounts


ACCOUNT_FIELDS = ("domain", "account_id")
