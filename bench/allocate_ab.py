"""Allocation throughput of two versions of the code, interleaved on the same machine.

bench/allocate.py measures one version; on a shared machine its figures drift by tens of
percent from one minute to the next, so "before, then after" compares the machine's moods as
much as the code. This runs both at once instead: a git worktree of `--before` and the current
checkout, each a 4-worker gunicorn on its own database seeded as bench/allocate.py seeds it;
then rounds of `--seconds` at concurrency 8, alternating which version goes first (ABBA), one
server driven at a time. It prints every round and the median ratio after/before.

    .venv/bin/python bench/allocate_ab.py --before c67f463 [--rounds 10] [--seconds 8]
"""

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _bench_module(root: Path, tag: str, port: int):
    """bench/allocate.py of `root`, pointed at its own database and port."""
    spec = importlib.util.spec_from_file_location(f"allocate_{tag}", root / "bench/allocate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.ROOT, module.DB, module.PORT = root, f"revorg_bench_{tag}", port
    module.ENV = {**module.ENV, "DATABASE_URL": f"{module.PG}/{module.DB}"}
    return module


def _serve(module):
    key = module.setup_database()
    server = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "revorg.wsgi:application", "-w", "4", "-b",
         f"127.0.0.1:{module.PORT}", "--log-level", "warning"],
        cwd=module.ROOT, env=module.ENV,
    )  # fmt: skip
    module.wait_ready()
    # As bench/allocate.py does: warm up, then ANALYZE so plans are made on real statistics.
    module.drive(key, 8, 3)
    module.vacuum_analyze()
    module.drive(key, 8, 3)
    return key, server


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", required=True, help="git revision to compare with")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=8)
    args = parser.parse_args()
    worktree = Path(tempfile.mkdtemp(prefix="revorg-before-"))
    subprocess.run(
        ["git", "worktree", "add", "--detach", str(worktree), args.before], cwd=ROOT, check=True
    )
    os.symlink(ROOT / ".venv", worktree / ".venv")
    servers = []
    try:
        versions = {}
        for tag, root, port in (("before", worktree, 8766), ("after", ROOT, 8767)):
            module = _bench_module(root, tag, port)
            key, server = _serve(module)
            servers.append(server)
            versions[tag] = (module, key)
        rates = {"before": [], "after": []}
        for round_no in range(args.rounds):
            order = ("before", "after") if round_no % 2 == 0 else ("after", "before")
            for tag in order:
                module, key = versions[tag]
                rates[tag].append(module.drive(key, 8, args.seconds)["per_s"])
            before, after = rates["before"][-1], rates["after"][-1]
            print(
                f"round {round_no + 1:>2} ({order[0]} first): before {before:6.0f}/s  "
                f"after {after:6.0f}/s  ratio {after / before:.3f}",
                flush=True,
            )
        ratios = [a / b for a, b in zip(rates["after"], rates["before"], strict=True)]
        print(
            f"median allocations/s at c=8: before {statistics.median(rates['before']):.0f}, "
            f"after {statistics.median(rates['after']):.0f}; "
            f"median ratio after/before {statistics.median(ratios):.3f} "
            f"(min {min(ratios):.3f}, max {max(ratios):.3f})"
        )
    finally:
        for server in servers:
            server.terminate()
            server.wait()
        subprocess.run(
            ["git", "worktree", "remove", "--force", str(worktree)], cwd=ROOT, check=False
        )


if __name__ == "__main__":
    sys.exit(main())
