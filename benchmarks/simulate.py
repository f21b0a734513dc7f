"""Benchmark of `caseload simulate`: 36 months, 100 replications, an agency of 2,000 active clients.

Target (issue): 15 s or less on a 2-core machine. The agency is made up here (no personal data): 75
workers of 1 FTE (8 French-capable), 2,000 active clients placed at their workers under the ratio
targets, 120 waiting, 60 referrals a month, the data contract's example durations, reassessment, dropout,
renege and attrition all on. Run from the repository root:

    python benchmarks/simulate.py [--replications 100] [--processes 2] [--write]

`--write` records the figures in benchmarks/simulate_results.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from caseload.domain import Agency, Client, NeedLevel, Policy, Status, Worker
from simulation import run_scenario, scenario_from_dict, start_state_from_agency

START = date(2027, 1, 1)
RESULTS = Path(__file__).with_name("simulate_results.md")


def benchmark_agency(active: int = 2000, waiting: int = 120, workers: int = 75, seed: int = 7) -> Agency:
    """A synthetic agency of the requested size, each worker within the weighted ratio rule."""
    rng = np.random.default_rng(seed)
    staff = [Worker(f"w{i:03d}", 1.0, ("en", "fr") if i < 8 else ("en", "ar"), french=i < 8)
             for i in range(workers)]
    room = [1.0] * workers  # FTE left under the targets
    clients = []
    for i in range(active):
        high = rng.random() < 0.35
        french = rng.random() < 0.04
        load = 1 / 15 if high else 1 / 50
        pool = range(8) if french else range(8, workers)
        w = max(pool, key=lambda k: room[k])
        room[w] -= load
        clients.append(Client(
            f"a{i:05d}", NeedLevel.HIGH if high else NeedLevel.LOW, ("fr",) if french else ("ar", "en"),
            french_service=french, status=Status.ACTIVE, worker_id=staff[w].worker_id,
            referral_date=START - timedelta(days=int(rng.integers(200, 600))),
            intake_date=START - timedelta(days=int(rng.integers(1, 540))),
        ))
    for i in range(waiting):
        high = rng.random() < 0.35
        clients.append(Client(
            f"q{i:05d}", NeedLevel.HIGH if high else NeedLevel.LOW, ("es", "en"),
            referral_date=START - timedelta(days=int(rng.integers(1, 180))),
        ))
    return Agency(clients, staff, Policy(), as_of=START)


def scenario(replications: int):
    return scenario_from_dict({
        "name": "Benchmark: 2,000 active, 60 referrals a month",
        "start": START,
        "horizon_months": 36,
        "replications": replications,
        "seed": 1,
        "start_from": "benchmark agency (built in code)",
        "referrals_per_month": 60,
        "high_need_share": 0.35,
        "waitlist_renege_months": 12,
        "funding": [{"month": 0, "fte": 75, "cost_per_fte": 78000}, {"month": 12, "fte": 80}],
    })


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", type=int, default=100)
    parser.add_argument("--processes", type=int, default=None)
    parser.add_argument("--write", action="store_true", help="record the figures in simulate_results.md")
    args = parser.parse_args()

    load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    agency = benchmark_agency()
    sc = scenario(args.replications)
    began = time.perf_counter()
    start_state = start_state_from_agency(agency, START)
    result = run_scenario(sc, processes=args.processes, start_state=start_state)
    wall = time.perf_counter() - began
    processes = args.processes or os.cpu_count() or 1
    cores = min(processes, os.cpu_count() or 1)
    per_rep = result.events / result.replications
    load = load_before
    lines = [
        f"- {date.today().isoformat()}, {platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} cores, {processes} processes, load average {load:.1f} before the run: "
        f"**{wall:.2f} s** wall-clock for {result.replications} replications x 36 months "
        f"({result.events:,} events, {per_rep:,.0f} a replication; {result.events / wall:,.0f} events/s). "
        f"Processor time of the replications {result.cpu_s:.2f} s "
        f"({result.events / result.cpu_s:,.0f} events/s per core; {result.cpu_s / cores:.2f} s of it per core)",
    ]
    print(lines[0].removeprefix("- "))
    if args.write:
        text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else ""
        RESULTS.write_text(text + "\n".join(lines) + "\n", encoding="utf-8")
        print(f"recorded in {RESULTS}")


if __name__ == "__main__":
    main()
