"""Benchmark of `planning.waitlist` (issue 17: the waitlist of a 6,000-client agency in <= 5 s).

For each size it generates an agency with `scenarios.generate` (15% waiting), makes tonight's plan once with
`optimizer.assign` (timed on its own: the waitlist is built *given* a plan, as the app and `--db` use it),
then times, separately:

* `waitlist(agency, plan)`: the queue, the reasons and the Monte Carlo of placement dates (``--repeats``
  runs, median and max reported), with its parts (eligibility and units, positions, the Monte Carlo);
* the whole command, `caseload waitlist DATA_DIR --out OUT` in a subprocess (reading the files, solving the
  plan with the optimizer's budget, the waitlist, writing waitlist.csv), with ``--whole`` (default on).

The machine is shared with other engineers (2 cores): `/proc/loadavg` (what `uptime` shows: 1, 5, 15 min)
is recorded beside every timing.

Usage: ``python benchmarks/waitlist.py --sizes 6000 --out benchmarks/waitlist_results.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere: scenarios/ lives in the repo
    sys.path.insert(0, str(ROOT))

from scenarios.generate import agency_notes, generate_agency, write_contract  # noqa: E402

WORKERS_FOR = {1000: 30, 6000: 150, 20000: 500, 50000: 1000}  # as benchmarks/assign.py
TARGET_S = {6000: 5.0}


def load_average() -> str:
    """`uptime`'s 1-, 5- and 15-minute load averages."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


def git_commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def child_cpu_s() -> float:
    """Processor time (user + system) used so far by finished child processes: on a shared machine the wall
    time of a command includes waiting for a core, its processor time does not."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def parts(agency, plan, seed: int) -> dict[str, float]:
    """Wall time of each part of `waitlist` (the same steps, timed one by one)."""
    from optimizer import compute_eligibility, worker_capacity
    from optimizer.units import ranked, rule_family_one_worker
    from planning.waitlist import expected_weeks, positions, tonight

    t0 = time.perf_counter()
    el = compute_eligibility(agency)
    cap = worker_capacity(agency, el)
    now = tonight(agency, el, plan)
    units = rule_family_one_worker(agency, el)
    queue = [u for u in ranked(units) if all(now.worker_of[i] < 0 for i in units[u].members)]
    t1 = time.perf_counter()
    positions(units, queue, el.n_workers)
    t2 = time.perf_counter()
    expected_weeks(agency, el, cap, units, queue, now, seed=seed)
    t3 = time.perf_counter()
    return {"eligibility, capacity, units": t1 - t0, "positions": t2 - t1, "Monte Carlo": t3 - t2,
            "queue units": float(len(queue))}


def run_size(n: int, seed: int, repeats: int, time_limit: float, whole: bool) -> dict:
    import pandas as pd

    from optimizer import assign
    from planning.waitlist import REPLICATIONS, waitlist

    workers = WORKERS_FOR.get(n, max(1, n // 40))
    t = time.perf_counter()
    agency = generate_agency(n, workers, seed=seed)
    generated = time.perf_counter() - t
    row: dict = {"clients": n, "workers": workers, "notes": agency_notes(agency), "generate_s": generated}

    row["assign_load"] = load_average()
    t = time.perf_counter()
    plan = assign(agency, time_limit_s=time_limit, seed=seed)
    row["assign_s"] = time.perf_counter() - t
    row["placed"] = plan.summary.get("placed")
    row["left_waiting"] = plan.summary.get("waiting")

    times, cpus, loads = [], [], []
    table = None
    for _ in range(repeats):
        loads.append(load_average())
        t, cpu = time.perf_counter(), time.process_time()
        table = waitlist(agency, plan, seed=seed)
        times.append(time.perf_counter() - t)
        cpus.append(time.process_time() - cpu)
        print(f"  {n:,} clients: waitlist given the plan {times[-1]:.2f} s wall, {cpus[-1]:.2f} s processor "
              f"(load {loads[-1]})", flush=True)
    row.update(waitlist_s=times, waitlist_cpu_s=cpus, waitlist_loads=loads, replications=REPLICATIONS)
    row["parts"] = parts(agency, plan, seed)
    row["rows"] = len(table)
    row["not_expected"] = int(table["expected_placement"].isna().sum())
    row["no_eligible"] = int((table["eligible_workers"] == 0).sum())
    row["median_weeks_to_placement"] = float(
        ((table["expected_placement"] - pd.Timestamp(agency.as_of)).dt.days / 7).median())

    if whole:
        folder = Path(tempfile.mkdtemp(prefix=f"waitlist-bench-{n}-"))
        try:
            write_contract(agency, folder / "agency")
            cmd = [sys.executable, "-m", "caseload.cli", "waitlist", str(folder / "agency"), "--out",
                   str(folder / "out"), "--as-of", agency.as_of.isoformat(), "--time-limit", f"{time_limit:g}",
                   "--seed", str(seed), "--rows", "0"]
            row["whole_load_before"] = load_average()
            t, cpu = time.perf_counter(), child_cpu_s()
            done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
            row["whole_s"] = time.perf_counter() - t
            row["whole_cpu_s"] = child_cpu_s() - cpu
            row["whole_load_after"] = load_average()
            row["whole_ok"] = done.returncode == 0
            row["whole_cmd"] = (f"caseload waitlist DATA_DIR --out OUT --as-of {agency.as_of.isoformat()} "
                                f"--time-limit {time_limit:g} --seed {seed}")
            if done.returncode != 0:
                print(done.stderr[-2000:], file=sys.stderr)
            # The store's path: the latest recorded run is the plan, so the command does not solve.
            store = str(folder / "store.db")
            for step in (["import", str(folder / "agency"), "--db", store],
                         ["assign", "--db", store, "--as-of", agency.as_of.isoformat(), "--time-limit",
                          f"{time_limit:g}", "--seed", str(seed)]):
                subprocess.run([sys.executable, "-m", "caseload.cli", *step], cwd=ROOT, capture_output=True,
                               text=True, check=True)
            cmd = [sys.executable, "-m", "caseload.cli", "waitlist", "--db", store, "--out", str(folder / "db-out"),
                   "--as-of", agency.as_of.isoformat(), "--seed", str(seed), "--rows", "0"]
            row["db_load_before"] = load_average()
            t, cpu = time.perf_counter(), child_cpu_s()
            done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
            row["db_s"] = time.perf_counter() - t
            row["db_cpu_s"] = child_cpu_s() - cpu
            row["db_load_after"] = load_average()
            row["db_ok"] = done.returncode == 0 and "queue after run" in done.stdout
            if not row["db_ok"]:
                print(done.stdout[-2000:], done.stderr[-2000:], file=sys.stderr)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    return row


def report(rows: list[dict], args: argparse.Namespace, started: str, load_start: str) -> str:
    lines = [
        "# Waitlist benchmark: `planning.waitlist` given tonight's plan, and the whole command",
        "",
        f"- command: `python benchmarks/waitlist.py --sizes {args.sizes} --seed {args.seed} --repeats {args.repeats} "
        f"--time-limit {args.time_limit:g} --out {args.out}`",
        f"- date: {started} (finished {datetime.now(UTC):%Y-%m-%d %H:%M} UTC)",
        f"- machine: {os.cpu_count()} CPUs; {platform.platform()}; Python {platform.python_version()}; "
        f"repository commit {git_commit()}",
        f"- **the machine is shared with other engineers** (2 cores): load average (`/proc/loadavg`, as `uptime` "
        f"shows it: 1, 5, 15 min) {load_start} at the start, {load_average()} at the end; it is given beside "
        "each timing. A load above 2 means other work shared the cores, which inflates wall times.",
        "- agencies: `scenarios.generate.generate_agency(clients, workers, waiting_share=0.15, seed)`, workers as "
        "in benchmarks/assign.py; tonight's plan from `optimizer.assign` with the time limit above, timed apart",
        "",
        "| clients | workers | waiting after the plan | waitlist given the plan: median (s) | max (s) | load (1 min) "
        "| target (s) | whole command, folder (s) | load before / after | whole command, --db (s) "
        "| load before / after | assign alone (s) |",
        "|---:|---:|---:|---:|---:|---|---:|---:|---|---:|---|---:|",
    ]
    for r in rows:
        median = statistics.median(r["waitlist_s"])
        whole = f"{r['whole_s']:.1f} ({r['whole_cpu_s']:.1f} cpu)" + ("" if r.get("whole_ok", True) else " (failed)") \
            if "whole_s" in r else "-"
        db = f"{r['db_s']:.1f} ({r['db_cpu_s']:.1f} cpu)" + ("" if r.get("db_ok", True) else " (failed)") \
            if "db_s" in r else "-"
        lines.append(
            f"| {r['clients']:,} | {r['workers']} | {r['rows']:,} | **{median:.2f}** | {max(r['waitlist_s']):.2f} | "
            f"{', '.join(x.split()[0] for x in r['waitlist_loads'])} | {TARGET_S.get(r['clients'], '-')} | {whole} | "
            f"{r.get('whole_load_before', '-')} / {r.get('whole_load_after', '-')} | {db} | "
            f"{r.get('db_load_before', '-')} / {r.get('db_load_after', '-')} | {r['assign_s']:.1f} |")
    lines += ["", "## Against the target", ""]
    for r in rows:
        target = TARGET_S.get(r["clients"])
        if target:
            median = statistics.median(r["waitlist_s"])
            verdict = "met" if median <= target else "NOT met"
            lines.append(f"- {r['clients']:,} clients: the waitlist given a plan in {median:.2f} s (median of "
                         f"{len(r['waitlist_s'])}, max {max(r['waitlist_s']):.2f} s) vs. target {target:g} s: "
                         f"{verdict}")
    lines += ["", "## Details per size", ""]
    for r in rows:
        p = r["parts"]
        lines += [
            f"### {r['clients']:,} clients, {r['workers']} workers",
            "",
            f"- agency: {r['notes']} (generated in {r['generate_s']:.1f} s)",
            f"- tonight's plan: `optimizer.assign` placed {r['placed']}, left {r['left_waiting']} waiting, in "
            f"{r['assign_s']:.1f} s (load {r['assign_load']} at its start)",
            f"- waitlist: {r['rows']:,} waiting clients in {int(p['queue units'])} placement units, "
            f"{r['replications']} replications over 260 weeks; {r['no_eligible']} with no eligible worker, "
            f"{r['not_expected']} not expected within the horizon (those included); median time to expected "
            f"placement {r['median_weeks_to_placement']:.1f} weeks",
            f"- parts (one more run, timed step by step): eligibility, capacity and units "
            f"{p['eligibility, capacity, units']:.2f} s; positions {p['positions']:.2f} s; Monte Carlo "
            f"{p['Monte Carlo']:.2f} s",
            f"- runs: {', '.join(f'{t:.2f}' for t in r['waitlist_s'])} s wall; processor time "
            f"{', '.join(f'{t:.2f}' for t in r['waitlist_cpu_s'])} s",
        ]
        if "whole_s" in r:
            lines.append(f"- whole command: `{r['whole_cmd']}` in {r['whole_s']:.1f} s wall, "
                         f"{r['whole_cpu_s']:.1f} s processor time (exit "
                         f"{'0' if r['whole_ok'] else 'non-zero'}): reading, the optimizer's plan, the waitlist, "
                         "writing waitlist.csv")
        if "db_s" in r:
            lines.append(f"- whole command on the store: `caseload waitlist --db STORE --out OUT` in {r['db_s']:.1f} s "
                         f"wall, {r['db_cpu_s']:.1f} s processor time (exit {'0' if r['db_ok'] else 'non-zero'}): "
                         "starting Python and importing the package, reading the store and its latest run (recorded "
                         "beforehand by `caseload assign --db`, not timed), the waitlist, writing waitlist.csv")
        lines.append("")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="6000")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--time-limit", type=float, default=30.0, help="the optimizer's budget for the plan")
    parser.add_argument("--no-whole", dest="whole", action="store_false", help="skip the whole command")
    parser.add_argument("--out", default="benchmarks/waitlist_results.md")
    args = parser.parse_args(argv)
    started = f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    load_start = load_average()
    rows = []
    for n in (int(s) for s in args.sizes.split(",")):
        print(f"{n:,} clients...", flush=True)
        rows.append(run_size(n, args.seed, args.repeats, args.time_limit, args.whole))
        Path(args.out).write_text(report(rows, args, started, load_start), encoding="utf-8")
    print(Path(args.out).read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
