"""Territory matching throughput: compiled matcher vs the reference evaluator.

5,000 territories (geographic 3-level trees, industry and company-size segments within
countries, hybrids, named accounts), 200,000 random records, one core. A record matches a
handful of territories, as in a real plan. Plain data only: no database is involved.

    .venv/bin/python bench/match.py [--territories 5000] [--records 200000] [--repeat 3]
"""

import argparse
import os
import random
import resource
import sys
import time
import tracemalloc

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from territories.matching import CompiledMatcher, PlanData, ReferenceMatcher, TerritoryInfo

COUNTRIES = [f"C{i:02d}" for i in range(60)]
STATES = [f"S{i:02d}" for i in range(40)]
INDUSTRIES = [f"industry-{i}" for i in range(80)]
BANDS = [(0, 49), (50, 199), (200, 999), (1000, 4999), (5000, 100000)]


def build_plan(count: int, rng: random.Random) -> PlanData:
    """Per country: a geographic tree (country > states > postal prefixes); then industry and
    company-size segments within countries, hybrids, and named-account territories."""
    territories: list[TerritoryInfo] = []

    def add(**kwargs):
        tid = len(territories) + 1
        territories.append(TerritoryInfo(id=tid, name=f"t{tid}", **kwargs))
        return territories[-1]

    geo_budget, segment_budget = count * 3 // 10, count * 5 // 10
    for country in COUNTRIES:  # ~25 territories per country, 3 levels
        root = add(
            kind="geographic", priority=10, rule={"field": "country", "op": "eq", "value": country}
        )
        for index in range(0, len(STATES), 5):
            state = add(
                kind="geographic",
                parent_id=root.id,
                depth=2,
                priority=10,
                rule={"field": "state", "op": "in", "value": STATES[index : index + 5]},
            )
            for prefix in rng.sample(range(10, 100), 2):
                add(
                    kind="geographic",
                    parent_id=state.id,
                    depth=3,
                    priority=10,
                    rule={"field": "postal_code", "op": "starts_with", "value": str(prefix)},
                )
        if len(territories) >= geo_budget:
            break
    pairs = rng.sample([(c, i) for c in COUNTRIES for i in INDUSTRIES], segment_budget)
    for country, industry in pairs[: segment_budget // 2]:
        add(
            kind="industry",
            priority=rng.randint(20, 40),
            rule={
                "all": [
                    {"field": "country", "op": "eq", "value": country},
                    {"field": "industry", "op": "eq", "value": industry},
                ]
            },
        )
    for country, industry in pairs[segment_budget // 2 :]:
        low, high = rng.choice(BANDS)
        add(
            kind="company_size",
            priority=rng.randint(20, 40),
            rule={
                "all": [
                    {"field": "country", "op": "eq", "value": country},
                    {"field": "industry", "op": "in", "value": [industry, rng.choice(INDUSTRIES)]},
                    {"field": "employees", "op": "between", "value": [low, high]},
                ]
            },
        )
    while len(territories) < count * 9 // 10:
        low, high = rng.choice(BANDS)
        add(
            kind="hybrid",
            priority=rng.randint(40, 60),
            rule={
                "all": [
                    {"field": "country", "op": "in", "value": rng.sample(COUNTRIES, 2)},
                    {"field": "industry", "op": "in", "value": rng.sample(INDUSTRIES, 3)},
                    {"field": "employees", "op": "between", "value": [low, high]},
                    {"field": "annual_revenue", "op": "gte", "value": rng.randint(0, 50) * 1e6},
                    {
                        "any": [
                            {"field": "language", "op": "eq", "value": "en"},
                            {"field": "language", "op": "not_exists"},
                        ]
                    },
                ]
            },
        )
    while len(territories) < count:
        add(
            kind="named_account",
            priority=90,
            named_accounts=tuple(f"acct{rng.randint(0, 2_000_000)}.com" for _ in range(20)),
        )
    return PlanData(plan_id=1, version=1, territories=tuple(territories))


def make_records(count: int, rng: random.Random) -> list[dict]:
    records = []
    for _ in range(count):
        record = {
            "country": rng.choice(COUNTRIES),
            "state": rng.choice(STATES),
            "postal_code": f"{rng.randint(10000, 99999)}",
            "industry": rng.choice(INDUSTRIES),
            "employees": rng.choice([rng.randint(1, 100000), str(rng.randint(1, 5000))]),
            "annual_revenue": rng.randint(0, 80) * 1e6,
            "language": rng.choice(["en", "fr", "de", None]),
            "domain": f"acct{rng.randint(0, 2_000_000)}.com",
        }
        records.append(record)
    return records


def resolve_rate(matcher, records) -> float:
    """One `resolve()` per record, as the allocation and match endpoints call it."""
    started = time.process_time()
    for record in records:
        matcher.resolve(record).winner  # noqa: B018 - the winner is what callers read
    return len(records) / (time.process_time() - started)


def bulk_rate(matcher, records) -> tuple[float, int]:
    """`winners()` over the whole list, as plan simulation and re-evaluation call it."""
    started = time.process_time()
    winners = matcher.winners(records)
    elapsed = time.process_time() - started
    return len(records) / elapsed, sum(1 for winner in winners if winner is not None)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--territories", type=int, default=5000)
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--reference-records", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    plan = build_plan(args.territories, rng)
    records = make_records(args.records, rng)

    tracemalloc.start()
    started = time.perf_counter()
    compiled = CompiledMatcher(plan)
    build_seconds = time.perf_counter() - started
    _, compile_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    reference = ReferenceMatcher(plan)
    sample = records[: args.reference_records]
    for record in sample:  # same answers on the sample, or the figures mean nothing
        assert compiled.resolve(record).trace == reference.resolve(record).trace
    assert compiled.winners(sample) == reference.winners(sample)

    # CPU time of this process, best of --repeat runs: other work on the machine adds noise.
    resolve = max(resolve_rate(compiled, records) for _ in range(args.repeat))
    bulk, matched = max(bulk_rate(compiled, records) for _ in range(args.repeat))
    reference_rate = resolve_rate(reference, sample)
    partitions = len(compiled.partitions)
    print(f"territories           {len(plan.territories):>12,}")
    print(f"records               {len(records):>12,}  ({matched / len(records):.0%} matched)")
    print(f"compile time          {build_seconds * 1000:>12,.0f} ms")
    print(f"index                 {partitions:>12,} partitions by {compiled.partition_field!r}")
    print(f"compiled, resolve()   {resolve:>12,.0f} records/s  (full Resolution per record)")
    print(f"compiled, winners()   {bulk:>12,.0f} records/s  (bulk re-evaluation)")
    print(f"reference evaluator   {reference_rate:>12,.0f} records/s  (on {len(sample):,} records)")
    print(f"speed-up              {resolve / reference_rate:>12,.0f} x  (resolve vs reference)")
    print(f"compile peak memory   {compile_peak / 2**20:>12,.1f} MiB (tracemalloc)")
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"process peak RSS      {peak_rss:>12,.0f} MiB")


if __name__ == "__main__":
    main()
