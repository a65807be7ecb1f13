"""Run trackbook's performance budgets against MLflow (and other peers) in one go.

Usage::

    python benchmarks/run.py            # the sizes the budgets are stated for
    python benchmarks/run.py --quick    # smaller sizes: a smoke run of every script
    python benchmarks/run.py --only record,fingerprint

Prints one table: measurement, trackbook figure, MLflow/peer figure, ratio
(how many times better trackbook is), budget, PASS/FAIL. Exits 1 when a
budget fails or a measurement errors.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import Result, log, render_table, warm_bytecode

#: Group name -> module; run in this order (cheap first, so a smoke run fails fast).
GROUPS = {
    "record": "bench_record",
    "startup": "bench_startup",
    "environment": "bench_environment",
    "model": "bench_model",
    "runs_frame": "bench_runs_frame",
    "fingerprint": "bench_fingerprint",
    "memory": "bench_memory",
    "server": "bench_server",
    "sidebar": "bench_sidebar",
    "audit": "bench_audit",
    "replay": "bench_replay",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    parser.add_argument("--only", default=None, help="comma-separated groups: " + ", ".join(GROUPS))
    parser.add_argument("--json", default=None, help="also write the results to this JSON file")
    args = parser.parse_args(argv)
    names = list(GROUPS) if args.only is None else [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = [n for n in names if n not in GROUPS]
    if unknown:
        parser.error(f"unknown group(s) {', '.join(unknown)}; choose from {', '.join(GROUPS)}")

    results: list[Result] = []
    started = time.perf_counter()
    log("compiling bytecode into benchmarks/.cache/pycache (slow only the first time)")
    warm_bytecode()
    for name in names:
        log(f"== {name}")
        group_start = time.perf_counter()
        try:
            results.extend(importlib.import_module(GROUPS[name]).measure(args.quick))
        except Exception as exc:  # noqa: BLE001  (one broken group must not hide the others)
            traceback.print_exc()
            results.append(Result(f"{name}: {type(exc).__name__}", None, "", notes=[str(exc)[-300:]]))
        log(f"   {name} took {time.perf_counter() - group_start:.0f} s")

    mode = "quick" if args.quick else "full"
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"trackbook benchmarks ({mode}; Python {platform.python_version()}, {platform.machine()}, "
          f"{os.cpu_count()} CPUs, load average at the end {load}; "
          f"total {time.perf_counter() - started:.0f} s)\n")
    print(render_table(results))
    if args.json:
        Path(args.json).write_text(json.dumps([
            {"name": r.name, "value": r.value, "unit": r.unit, "peer": r.peer, "ratio": r.ratio,
             "budget": r.budget, "kind": r.kind, "verdict": r.verdict, "notes": r.notes,
             "invalid": r.invalid}
            for r in results
        ], indent=2))
    return 0 if all(r.verdict in ("PASS", "info") for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
