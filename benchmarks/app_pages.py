"""Benchmark of the coordinator's pages on a large agency (issue 17): History, the Nightly run on the store
with its approval, and the Waitlist, driven by Streamlit's AppTest (no browser; the page scripts' own work).

It generates an agency with `scenarios.generate` (15% waiting), imports it into a fresh SQLite store, records
two proposals with `run_and_record(propose=True)` (the history the History page lists and compares), then
times, wall clock, each page action as the coordinator does it:

* History: first render (reads the runs, one run's plan, compares the two), a rerun (the plan and the
  comparison are cached: runs are written once), a decision filter;
* Nightly on the store: the recorded proposal (a solve with the given time limit) and Approve (applying the
  plan to the store, reading it again, drawing the page);
* Waitlist: first render from tonight's plan (`planning.waitlist` given the plan), a rerun, a language filter.

The machine is shared (2 cores): the load average is recorded beside the timings. Not a test: no test
depends on these times.

Usage: ``python benchmarks/app_pages.py --clients 6000 --time-limit 30 --out benchmarks/app_pages_results.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

APP = ROOT / "app" / "streamlit_app.py"
WORKERS_FOR = {1000: 30, 6000: 150, 20000: 500}


def load() -> str:
    return Path("/proc/loadavg").read_text().split(" ", 3)[0] if Path("/proc/loadavg").exists() else "n/a"


def timed(rows: list[tuple[str, float, str, str]], what: str, action: Callable[[], object], note: str = "") -> None:
    start = time.perf_counter()
    action()
    rows.append((what, time.perf_counter() - start, load(), note))
    print(f"{what}: {rows[-1][1]:.2f} s (load {rows[-1][2]}) {note}", flush=True)


def button(at, label: str):
    return next(b for b in at.button if b.label == label)


def measure(clients: int, time_limit_s: float, seed: int) -> tuple[list[tuple[str, float, str, str]], dict]:
    from streamlit.testing.v1 import AppTest

    from caseload.store.database import open_engine
    from caseload.store.runs import run_and_record
    from caseload.store.state import import_agency
    from optimizer import assign
    from scenarios.generate import generate_agency

    rows: list[tuple[str, float, str, str]] = []
    folder = Path(tempfile.mkdtemp(prefix="caseload-bench-app-"))
    os.chdir(folder)
    agency = generate_agency(clients, WORKERS_FOR.get(clients, max(1, clients // 40)), seed=seed)
    url = f"sqlite:///{folder / 'agency.db'}"
    engine = open_engine(url)
    import_agency(engine, agency)
    facts = {"clients": clients, "workers": len(agency.workers), "waiting": len(agency.waiting)}
    for s in (seed, seed + 1):
        timed(rows, f"setup: run_and_record(propose=True), seed {s}", lambda s=s: run_and_record(
            engine, lambda a: assign(a, time_limit_s=time_limit_s, seed=s), seed=s, time_limit_s=time_limit_s,
            propose=True, user="bench"))
    engine.dispose()
    os.environ.pop("CASELOAD_AUTH_FILE", None)
    os.environ["CASELOAD_DB"] = url
    at = AppTest.from_file(str(APP), default_timeout=3600)
    at.run()

    def ok() -> None:
        assert not at.exception, [e.value for e in at.exception]

    timed(rows, "History: first render (runs, a plan, two runs compared)",
          lambda: (at.switch_page("app_pages/history.py").run(), ok()))
    timed(rows, "History: rerun (plan and comparison cached)", lambda: (at.run(), ok()))
    timed(rows, "History: decision filter", lambda: (at.multiselect(key="history_decisions").set_value(["new"]).run(),
                                                     ok()))
    at.switch_page("app_pages/assignment.py").run()
    at.radio[0].set_value("store").run()
    at.text_input[0].set_value(url)
    button(at, "Read the store").click().run()
    at.number_input(key="nightly_time_limit").set_value(time_limit_s)
    timed(rows, f"Nightly on the store: recorded proposal (solve, limit {time_limit_s:g} s)",
          lambda: (button(at, "Run the nightly assignment").click().run(), ok()))
    timed(rows, "Nightly: Approve (apply, read the store again, draw)",
          lambda: (button(at, "Approve").click().run(), ok()))
    assert any("approved by" in s.value for s in at.success)
    timed(rows, "Waitlist: first render (queue from tonight's plan)",
          lambda: (at.switch_page("app_pages/waitlist.py").run(), ok()))
    timed(rows, "Waitlist: rerun", lambda: (at.run(), ok()))
    shown = [c.value for c in at.caption if "waiting clients" in c.value]
    facts["queue"] = shown[0].split(" waiting clients")[0].split(" of ")[-1] if shown else "?"
    language = at.multiselect(key="queue_languages").options[:1]
    timed(rows, f"Waitlist: language filter ({language[0] if language else 'none'})",
          lambda: (at.multiselect(key="queue_languages").set_value(language).run(), ok()))
    return rows, facts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=6000)
    parser.add_argument("--time-limit", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    out = args.out.resolve() if args.out else None  # the measurement runs in a temporary folder
    started = datetime.now(UTC)
    load_before = Path("/proc/loadavg").read_text().strip() if Path("/proc/loadavg").exists() else "n/a"
    rows, facts = measure(args.clients, args.time_limit, args.seed)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout
    lines = [
        "# App pages benchmark: History, the Nightly run on the store with Approve, and the Waitlist",
        "",
        f"- command: `python benchmarks/app_pages.py --clients {args.clients} --time-limit {args.time_limit:g} "
        f"--seed {args.seed} --out {args.out}`",
        f"- date: {started:%Y-%m-%d %H:%M} UTC; repository commit {commit.strip()}",
        f"- machine: {os.cpu_count()} CPUs; {platform.platform()}; Python {platform.python_version()}",
        f"- **shared machine** (2 cores, other engineers' work running): load average at the start {load_before}; "
        "the 1-minute load is given beside each timing (above 2: the cores were shared and wall times inflate)",
        f"- agency: `generate_agency({facts['clients']}, {facts['workers']}, seed={args.seed})`, "
        f"{facts['waiting']:,} waiting; after the approved plan: {facts['queue']} waiting clients in the queue",
        "- wall clock of `AppTest.run()` for each action (the page script's work; no browser drawing)",
        "",
        "| action | wall (s) | load (1 min) |",
        "|---|---:|---:|",
        *[f"| {what} | {seconds:.2f} | {load_1} |" for what, seconds, load_1, _ in rows],
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if out:
        out.write_text(text)


if __name__ == "__main__":
    main()
