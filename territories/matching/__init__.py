"""Territory resolution for one plan: plain data in, decision out, no ORM.

`CompiledMatcher` turns every territory's effective rule (its rule AND its ancestors') into a
closure and indexes the conjuncts every match must satisfy — equality/`in` values in hash
maps, numeric ranges in precomputed stabbing tables — so that a record is checked only against
territories that can match it. `ReferenceMatcher` evaluates every rule in turn with
`territories.rules.evaluate`; both share the resolution order of DESIGN.md section 4.1
(`order`). Modules: `data` (types), `order`, `reference`, `index`, `codegen`.
"""

from .codegen import compile_rule
from .data import (
    ACCOUNT_FIELDS,
    GEO_NAMES,
    GEO_SPECIFICITY,
    PlanData,
    Resolution,
    SlotInfo,
    TerritoryInfo,
    normalize_account,
    record_accounts,
)
from .index import CompiledMatcher
from .reference import ReferenceMatcher

__all__ = [
    "ACCOUNT_FIELDS",
    "GEO_NAMES",
    "GEO_SPECIFICITY",
    "CompiledMatcher",
    "PlanData",
    "ReferenceMatcher",
    "Resolution",
    "SlotInfo",
    "TerritoryInfo",
    "compile_rule",
    "normalize_account",
    "record_accounts",
]
