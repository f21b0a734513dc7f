"""Benchmark of the staffing planner on real-shaped agencies: against an independent optimum and a manager's rule.

For each size it generates an agency with `scenarios.generate` (15% of clients waiting) and a candidate list
of positions across its cities and languages (`benchmark_candidates`: every city x language, full-time
female, full-time male, half-time female and a French-capable full-time variant), then for three budgets,
side by side on the same agency:

* `planning.staffing.plan_hires` (the planner): clients placed with its hires, their cost, its bound, wall time,
  with existing clients kept (the reference's footing) and under the nightly policy with its moves;
* `benchmarks.staff_reference.solve_staffing_reference`: hires and placements in one HiGHS MIP from
  `scenarios.rules`, written apart from the optimizer: the optimum (or HiGHS's best and bound);
* the simple rule (`simple_rule_hires`: the largest group still waiting tonight by language, then city, until
  the budget runs out), then the nightly `optimizer.assign` on the agency with those hires;

and, at the middle budget, the planner's 10-step frontier and its wall time. The machine is shared: `uptime`'s
load average is recorded beside every timing.

Usage: ``python benchmarks/staff.py --sizes 1500,6000,20000 --seed 1 --reference-limit 1500:150,6000:240,20000:180
--frontier-sizes 6000 --out /tmp/staff.md`` (staff_results.md adds findings written by hand).
"""

from __future__ import annotations

import argparse
import json
import math
import shlex
import sys
import time
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere: scenarios/ and benchmarks/ live in the repo
    sys.path.insert(0, str(ROOT))

from benchmarks.assign import WORKERS_FOR, machine  # noqa: E402
from benchmarks.staff_reference import (  # noqa: E402
    StaffReference,
    solve_staffing_reference,
    with_hires,
)
from caseload.domain import Agency, Candidate, Policy, Status  # noqa: E402
from planning.simple_rule import simple_rule_hires  # noqa: E402
from scenarios.generate import CITIES, MIXES, STANDARD_MIX, Mix, generate_agency, n_cities_for  # noqa: E402

SIZES_WORKERS = {1500: 40, **WORKERS_FOR}
BUDGET_FTE = {1500: (2, 5, 10), 6000: (5, 10, 20), 20000: (10, 25, 50), 1000: (2, 5, 10), 50000: (20, 50, 100)}
PLAN_LIMIT_S = 60.0  # the planner's ceiling per budget (the target for 6,000 clients: <= 60 s)
FRONTIER_LIMIT_S = 180.0  # its 10-step frontier (target: <= 180 s)
FRONTIER_STEPS = 10
ASSIGN_LIMIT_S = 60.0  # the nightly assign after the simple rule's hires
REFERENCE_LIMIT_S = 600.0
CANDIDATE_TRAVEL_KM = 30.0
TARGET_REFERENCE = 0.99
TARGET_OVER_SIMPLE = 1.25
TARGET_PLAN_S = {6000: 60.0}
TARGET_FRONTIER_S = {6000: 180.0}


def load_average() -> str:
    """`uptime`'s 1-, 5- and 15-minute load averages (the machine is shared with other engineers)."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def benchmark_candidates(agency: Agency, n_workers: int, mix: Mix = STANDARD_MIX) -> list[Candidate]:
    """Positions across the agency's cities and the mix's postings (each community's languages, English
    generalists)."""
    cities = CITIES[: n_cities_for(n_workers)]
    out = []
    for city in cities:
        slug = city.name.lower().replace("é", "e").replace(" ", "-")
        for base in mix.posting_languages():
            lang = base[0]
            french = "fr" in base
            common = dict(latitude=city.latitude, longitude=city.longitude, max_travel_km=CANDIDATE_TRAVEL_KM)
            out.append(Candidate(f"{lang}-{slug}-f", 1.0, base, french=french, gender="female", **common))
            out.append(Candidate(f"{lang}-{slug}-m", 1.0, base, french=french, gender="male", **common))
            out.append(Candidate(f"{lang}-{slug}-half", 0.5, base, french=french, gender="female", **common))
            if not french:
                out.append(Candidate(f"{lang}-{slug}-fr", 1.0, (*base, "fr"), french=True, gender="female",
                                     **common))
    return out


@dataclass
class BudgetRow:
    budget: float
    planner_placed: int
    planner_without: int
    planner_cost: float
    planner_hires: int
    planner_bound: int | None
    planner_s: float
    planner_load: str
    reference_placed: int | None
    reference_bound: float
    reference_status: str
    reference_cost: float
    reference_hires: int
    reference_s: float
    simple_placed: int  # the nightly assign on the simple rule's hires, existing clients kept (as the planner)
    simple_cost: float
    simple_hires: int
    simple_s: float
    simple_nightly: int | None = None  # the nightly assign with the policy's moves (up to 2% of active clients)
    nightly_without: int | None = None  # the nightly assign with no hire, with those moves
    # the planner on the reference's footing: existing clients kept (max_moves_share 0), like for like
    kept_placed: int | None = None
    kept_without: int | None = None
    kept_cost: float = 0.0
    kept_hires: int = 0
    kept_bound: int | None = None
    kept_s: float = 0.0
    kept_load: str = ""
    # the nightly assign (moves allowed) on the planner's hires: what tonight's run places once
    # workers_with_hires.csv is loaded, measured as the simple rule's hires are (`simple_nightly`)
    planner_nightly: int | None = None
    # the same nightly assign begun from the planner's plan (`caseload assign --start`, plan_with_hires.csv)
    planner_from_plan: int | None = None

    @property
    def ratio(self) -> float | None:
        """The planner over the reference, both with existing clients kept (no moves)."""
        if self.kept_placed is None or not self.reference_placed:
            return None
        return self.kept_placed / self.reference_placed

    @property
    def over_simple(self) -> float | None:
        """Clients the planner's hires add over no hire, against the simple rule's (same budget), both with
        existing clients kept."""
        return _added_ratio(self.kept_placed, self.kept_without, self.simple_placed, self.kept_without)

    @property
    def over_simple_moves(self) -> float | None:
        """The same with the nightly moves on both sides (the planner's product plan, the simple rule's hires
        under the nightly assign)."""
        return _added_ratio(self.planner_placed, self.planner_without, self.simple_nightly, self.nightly_without)

    @property
    def tonight_over_simple(self) -> float | None:
        """Clients the planner's hires add tonight over no hire, against the simple rule's, both measured by the
        same nightly assign (moves allowed): one measuring stick for both sides' hires."""
        return _added_ratio(self.planner_nightly, self.nightly_without, self.simple_nightly, self.nightly_without)

    @property
    def most_over_simple(self) -> float | None:
        """The most any plan could give over the simple rule, no moves: the reference's proven bound over the same
        no-hire count (when the reference ran and found a bound), so a target above it is out of any planner's
        reach on this agency."""
        bound = self.reference_bound
        if self.reference_status in ("skipped", "not run") or bound is None or bound != bound:  # nan: none
            return None
        return _added_ratio(int(math.floor(bound + 1e-6)), self.kept_without, self.simple_placed, self.kept_without)


def _added_ratio(placed: int | None, without: int | None, simple: int | None,
                 simple_without: int | None) -> float | None:
    """Clients the planner's hires add over its no-hire plan, against those the simple rule's add over its own;
    None when a figure is missing or the simple rule adds nobody."""
    if placed is None or without is None or simple is None or simple_without is None:
        return None
    simple_added = simple - simple_without
    return (placed - without) / simple_added if simple_added > 0 else None


@dataclass
class SizeRow:
    clients: int
    workers: int
    waiting: int
    candidates: int
    generate_s: float
    budgets: list[BudgetRow] = field(default_factory=list)
    frontier_budget: float = 0.0
    frontier_s: float | None = None
    frontier_load: str = ""
    frontier: list[dict] = field(default_factory=list)
    plan_limit: float = PLAN_LIMIT_S
    mix: str = STANDARD_MIX.name
    mode: str = "full"  # "full", "simple" (--only-simple) or "tonight" (--tonight)


def _placements(plan) -> int:
    return int(plan.summary["objective"]["placements"])


def run_size(n_clients: int, seed: int, say, *, reference_limit: float, plan_limit: float, frontier_on: bool,
             budgets_fte: tuple[float, ...] | None = None, mode: str = "full",
             reference_on: bool = True, mix: Mix = STANDARD_MIX) -> SizeRow:
    from optimizer import assign
    from planning.staffing import plan_hires

    n_workers = SIZES_WORKERS.get(n_clients, max(10, n_clients // 40))
    t0 = time.perf_counter()
    agency = generate_agency(n_clients, n_workers, seed=seed, mix=mix)
    candidates = benchmark_candidates(agency, n_workers, mix)
    row = SizeRow(n_clients, n_workers, sum(c.status == Status.WAITING for c in agency.clients), len(candidates),
                  time.perf_counter() - t0, plan_limit=plan_limit, mix=mix.name, mode=mode)
    cost = Policy().cost_per_fte
    say(f"{n_clients} clients ({mix.name} mix): {n_workers} workers, {row.waiting} waiting, "
        f"{len(candidates)} candidates")

    say("  nightly assign with no hire (what the manager sees still waiting)")
    base_plan = assign(agency, time_limit_s=ASSIGN_LIMIT_S, seed=seed)
    placed_ids = {a.client_id for a in base_plan.assignments if a.worker_id}
    still_waiting = [c for c in agency.waiting if c.client_id not in placed_ids]
    cities = [(c.name, c.latitude, c.longitude) for c in CITIES[:n_cities_for(n_workers)]]
    kept = replace(agency, policy=replace(agency.policy, max_moves_share=0.0))
    for fte in budgets_fte or BUDGET_FTE.get(n_clients, (2, 5, 10)):
        budget = fte * cost
        planner_fields: dict = {}
        full_fields: dict = {}
        if mode != "simple":
            say(f"  budget ${budget:,.0f}: planner")
            load = load_average()
            t = time.perf_counter()
            plan = plan_hires(agency, candidates, budget, seed=seed, time_limit_s=plan_limit)
            planner_s = time.perf_counter() - t
            say(f"    planner {plan.placed_without} -> {plan.placed_with} (bound {plan.bound}) in {planner_s:.1f}s; "
                "the nightly assign on its hires")
            hired = with_hires(agency, candidates, plan.hires)  # workers_with_hires.csv: the plan's worker ids
            planner_nightly = _placements(assign(hired, time_limit_s=ASSIGN_LIMIT_S, seed=seed))
            say(f"    the nightly assign places {planner_nightly} with the planner's hires; begun from its plan")
            planner_from_plan = _placements(assign(hired, time_limit_s=ASSIGN_LIMIT_S, seed=seed,
                                                   start_from=plan.start_from()))
            say(f"    begun from the planner's plan, it places {planner_from_plan}")
            planner_fields = dict(planner_placed=plan.placed_with, planner_without=plan.placed_without,
                                  planner_cost=plan.cost, planner_hires=sum(plan.hires.values()),
                                  planner_bound=plan.bound, planner_s=planner_s, planner_load=load,
                                  planner_nightly=planner_nightly, planner_from_plan=planner_from_plan)
        if mode == "full":
            say("    the planner with existing clients kept")
            kept_load = load_average()
            t = time.perf_counter()
            on_kept = plan_hires(kept, candidates, budget, seed=seed, time_limit_s=plan_limit)
            kept_s = time.perf_counter() - t
            say(f"    planner, no moves {on_kept.placed_without} -> {on_kept.placed_with} (bound {on_kept.bound}) "
                f"in {kept_s:.1f}s; reference")
            skipped = StaffReference("skipped", None, float("nan"), {}, 0.0, 0.0, 0.0)
            ref = solve_staffing_reference(agency, candidates, budget, time_limit_s=reference_limit) \
                if reference_on and reference_limit > 0 else skipped
            say(f"    reference {ref.placed} (bound {ref.bound}, {ref.status}) in {ref.wall_time_s:.1f}s")
            full_fields = dict(
                reference_placed=ref.placed, reference_bound=ref.bound, reference_status=ref.status,
                reference_cost=ref.cost, reference_hires=sum(ref.hires.values()), reference_s=ref.wall_time_s,
                kept_placed=on_kept.placed_with, kept_without=on_kept.placed_without, kept_cost=on_kept.cost,
                kept_hires=sum(on_kept.hires.values()), kept_bound=on_kept.bound, kept_s=kept_s, kept_load=kept_load)
        simple = _simple_row(agency, kept, candidates, budget, still_waiting, cities, seed, say,
                             _placements(base_plan))
        row.budgets.append(replace(simple, **planner_fields, **full_fields))
    if frontier_on and mode == "full":
        from planning.staffing import frontier

        fte = (budgets_fte or BUDGET_FTE.get(n_clients, (2, 5, 10)))[1]
        row.frontier_budget = fte * cost
        say(f"  frontier to ${row.frontier_budget:,.0f} in {FRONTIER_STEPS} steps")
        row.frontier_load = load_average()
        t = time.perf_counter()
        row.frontier = frontier(agency, candidates, row.frontier_budget, FRONTIER_STEPS, seed=seed,
                                time_limit_s=FRONTIER_LIMIT_S)
        row.frontier_s = time.perf_counter() - t
        say(f"    frontier in {row.frontier_s:.1f}s: " + ", ".join(str(r["placed"]) for r in row.frontier))
    return row


def _simple_row(agency: Agency, kept: Agency, candidates: list[Candidate], budget: float, still_waiting, cities,
                seed: int, say, nightly_without: int) -> BudgetRow:
    """The simple rule's hires, then the nightly assign on them: with existing clients kept (the planner's and
    the reference's footing: the comparison) and with the policy's moves (what tonight's run would do)."""
    from optimizer import assign

    t = time.perf_counter()
    hires = simple_rule_hires(agency, candidates, budget, still_waiting=still_waiting, cities=cities)
    on_kept = assign(with_hires(kept, candidates, hires), time_limit_s=ASSIGN_LIMIT_S, seed=seed)
    simple_s = time.perf_counter() - t
    nightly = assign(with_hires(agency, candidates, hires), time_limit_s=ASSIGN_LIMIT_S, seed=seed)
    by_id = {c.candidate_id: c for c in candidates}
    simple_cost = sum(by_id[cid].cost(agency.policy) * n for cid, n in hires.items())
    say(f"    simple rule {sum(hires.values())} hires ${simple_cost:,.0f}: {_placements(on_kept)} placed with "
        f"existing clients kept, {_placements(nightly)} by the nightly assign (moves allowed)")
    return BudgetRow(budget=budget, planner_placed=0, planner_without=0, planner_cost=0.0, planner_hires=0,
                     planner_bound=None, planner_s=0.0, planner_load="", reference_placed=None, reference_bound=0.0,
                     reference_status="not run", reference_cost=0.0, reference_hires=0, reference_s=0.0,
                     simple_placed=_placements(on_kept), simple_cost=simple_cost, simple_hires=sum(hires.values()),
                     simple_s=simple_s, simple_nightly=_placements(nightly), nightly_without=nightly_without)


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.2f}%"


def _verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("met" if ok else "MISSED")


def render(rows: list[SizeRow], info: dict[str, str], command: str, started: str, finished: str,
           load_before: str, load_after: str) -> str:
    lines = [
        "# Staffing planner benchmark",
        "",
        f"Command: `{command}`",
        f"Started {started}, finished {finished} (UTC). Machine: {info['cpu']}, {info['nproc']} cores, "
        f"Python {info['python']}, highspy {info.get('highspy version', '?')}, "
        f"ortools {info.get('ortools version', '?')}, commit {info['commit']}.",
        "",
        f"**The machine is shared with other engineers** (2 cores): the load average (`/proc/loadavg`, as "
        f"`uptime` shows it: 1, 5, 15 min) was {load_before} at the start and {load_after} at the end, and is "
        "recorded beside each timing. Wall times on a busy machine are upper bounds of what a quiet one gives.",
        "",
    ]
    return "\n".join(lines) + "\n" + _tables(rows)


def _tables(rows: list[SizeRow]) -> str:
    lines = [
        "Placed = waiting clients placed tonight. Two footings, each compared only with itself. **No moves** "
        "(existing clients kept, `max_moves_share` 0): the planner (`plan_hires` on the agency with moves off, "
        "its ceiling per size under the time targets), the reference (one HiGHS MIP of hires and placements, "
        "`benchmarks/staff_reference.py`, rules from `scenarios.rules`, existing clients kept; its time cap per "
        "budget in the command) and the simple rule (hire for the largest group still waiting tonight by "
        "language, then city, until the budget runs out, then the nightly `optimizer.assign` with moves off). "
        "**Moves** (the nightly policy: up to 2% of active clients moved): the planner as the CLI runs it, and the "
        "simple rule's hires under the nightly `assign`. `vs ref`: planner / reference, no moves "
        f"(target >= {100 * TARGET_REFERENCE:.0f}%); `vs simple`: clients placed by the planner's hires (over "
        "no hire) / by the simple rule's hires, same footing, same budget "
        f"(target >= {TARGET_OVER_SIMPLE:.2f}x); `most any plan could vs simple`: the same ratio for the reference's "
        "proven bound, i.e. the most any plan could add over the simple rule's hires on that agency (no moves). "
        "Load: `/proc/loadavg` when the run started.",
        "",
        "| clients | budget | no hire | planner, no moves: placed (hires, cost) | bound | s (load) | reference "
        "placed (bound, status, hires, cost) | ref s | vs ref | simple, no moves (hires, cost) | vs simple | "
        "most any plan could vs simple | "
        "no hire, moves | planner, moves: placed (hires, cost) | bound | s (load) | simple, moves | vs simple |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    side = [r for r in rows if r.mode != "full"
            or (r.budgets and all(b.reference_status == "not run" for b in r.budgets))]
    simple_only = [r for r in side if r.mode != "tonight"]
    for r in rows:
        if r in side:
            continue
        for b in r.budgets:
            ok_ref = None if b.ratio is None else b.ratio >= TARGET_REFERENCE - 1e-12
            ok_simple = None if b.over_simple is None else b.over_simple >= TARGET_OVER_SIMPLE
            ok_moves = None if b.over_simple_moves is None else b.over_simple_moves >= TARGET_OVER_SIMPLE
            if b.reference_status == "skipped":
                reference = "skipped | - | -"
            else:
                reference = (f"{b.reference_placed} ({b.reference_bound:.0f}, {b.reference_status}, "
                             f"{b.reference_hires}, ${b.reference_cost:,.0f}) | {b.reference_s:.1f} | "
                             f"{_pct(b.ratio)} {_verdict(ok_ref)}")
            lines.append(
                f"| {r.clients:,} | ${b.budget:,.0f} | {b.kept_without} | {b.kept_placed} ({b.kept_hires}, "
                f"${b.kept_cost:,.0f}) | {b.kept_bound} | {b.kept_s:.1f} ({b.kept_load}) | {reference} | "
                f"{b.simple_placed} ({b.simple_hires}, ${b.simple_cost:,.0f}) | "
                f"{'n/a' if b.over_simple is None else f'{b.over_simple:.2f}x'} {_verdict(ok_simple)} | "
                f"{'n/a' if b.most_over_simple is None else f'{b.most_over_simple:.2f}x'} | "
                f"{b.planner_without} | {b.planner_placed} ({b.planner_hires}, ${b.planner_cost:,.0f}) | "
                f"{b.planner_bound} | {b.planner_s:.1f} ({b.planner_load}) | {b.simple_nightly} "
                f"({b.nightly_without}) | "
                f"{'n/a' if b.over_simple_moves is None else f'{b.over_simple_moves:.2f}x'} {_verdict(ok_moves)} |")
    if simple_only:
        lines += ["", "## The simple rule alone (`--only-simple`)", "",
                  "| clients | budget | hires | cost | placed, existing clients kept | placed, nightly (moves) | "
                  "nightly, no hire | s |", "|---|---|---|---|---|---|---|---|"]
        for r in simple_only:
            for b in r.budgets:
                lines.append(f"| {r.clients:,} | ${b.budget:,.0f} | {b.simple_hires} | ${b.simple_cost:,.0f} | "
                             f"{b.simple_placed} | {b.simple_nightly} | {b.nightly_without} | {b.simple_s:.1f} |")
    tonight = [r for r in rows if any(b.planner_nightly is not None for b in r.budgets)]
    if tonight:
        lines += ["", "## Tonight's assign on each side's hires", "",
                  "Both sides' hires measured by the same stick: the nightly `optimizer.assign` (moves allowed, "
                  f"{ASSIGN_LIMIT_S:.0f} s) on the agency with the hires added, i.e. what tonight's run places once "
                  "`workers_with_hires.csv` is loaded. `vs simple`: clients the planner's hires add over no hire / "
                  f"those the simple rule's add (target >= {TARGET_OVER_SIMPLE:.2f}x).", "",
                  "`begun from the plan`: the same run given the planner's plan to start from (`caseload assign "
                  "--start`); the promise: at least the planner's own plan.", "",
                  "| clients | budget | nightly, no hire | planner: hires, cost | planner's own plan | nightly on the "
                  "planner's hires | begun from the plan | simple rule: hires, cost | nightly on the simple rule's "
                  "hires | vs simple |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
        for r in tonight:
            for b in r.budgets:
                ratio = b.tonight_over_simple
                ok = None if ratio is None else ratio >= TARGET_OVER_SIMPLE
                lines.append(f"| {r.clients:,} | ${b.budget:,.0f} | {b.nightly_without} | {b.planner_hires}, "
                             f"${b.planner_cost:,.0f} | {b.planner_placed} | {b.planner_nightly} | "
                             f"{'n/a' if b.planner_from_plan is None else b.planner_from_plan} | "
                             f"{b.simple_hires}, ${b.simple_cost:,.0f} | {b.simple_nightly} | "
                             f"{'n/a' if ratio is None else f'{ratio:.2f}x'} {_verdict(ok)} |")
    lines += ["", "## Time targets (6,000 clients, 2 cores)", ""]
    for r in rows:
        if r in simple_only:
            continue
        target_plan = TARGET_PLAN_S.get(r.clients)
        target_front = TARGET_FRONTIER_S.get(r.clients)
        worst = max((max(b.planner_s, b.kept_s) for b in r.budgets), default=None)
        plan_ok = None if target_plan is None or worst is None else worst <= target_plan
        front_ok = None if target_front is None or r.frontier_s is None else r.frontier_s <= target_front
        lines.append(f"- {r.clients:,} clients, {r.mix} mix ({r.workers} workers, {r.waiting} waiting, "
                     f"{r.candidates} candidates): one budget's plan at most {worst:.1f} s "
                     f"(ceiling {r.plan_limit:.0f} s)"
                     + (f" (target {target_plan:.0f} s: {_verdict(plan_ok)})" if target_plan else "")
                     + (f"; {FRONTIER_STEPS}-step frontier to ${r.frontier_budget:,.0f} in {r.frontier_s:.1f} s "
                        f"(load {r.frontier_load})" if r.frontier_s is not None else "; frontier not run")
                     + (f" (target {target_front:.0f} s: {_verdict(front_ok)})" if target_front
                        and r.frontier_s is not None else ""))
    lines += ["", "## Frontiers (placed per budget step)", ""]
    for r in rows:
        if r.frontier:
            steps = ", ".join(f"${f['budget'] / 1000:,.0f}k: {f['placed']}" for f in r.frontier)
            lines.append(f"- {r.clients:,} clients: {steps}")
    lines += ["", RAW + json.dumps([asdict(r) for r in rows], default=str) + " -->", ""]
    return "\n".join(lines)


RAW = "<!-- raw: "
SHARED = "**The machine is shared"


def rerender(text: str) -> str:
    """A recorded run's results file with its tables rendered again from its raw figures by this script (its
    header, command, machine and loads kept as recorded): new columns without running again."""
    raw = json.loads(text[text.index(RAW) + len(RAW):text.rindex(" -->")])
    rows = []
    for r in raw:
        budgets = [BudgetRow(**b) for b in r.pop("budgets")]
        rows.append(SizeRow(**r, budgets=budgets))
    head = text[:text.index("\n\n", text.index(SHARED)) + 2]
    return head + _tables(rows)


def _per_size(text: str) -> dict[str, str]:
    """"1500:150,6000:240" -> {"1500": "150", "6000": "240"}; a plain number gives {} (the same for every size)."""
    return dict(part.split(":") for part in text.split(",") if ":" in part)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1500,6000", help="client counts, comma-separated")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=None, help="write the results (markdown) here")
    parser.add_argument("--reference-limit", default=str(REFERENCE_LIMIT_S),
                        help="seconds per budget, or per size: 1500:150,6000:240 (0 skips the reference)")
    parser.add_argument("--frontier-sizes", default="", help="sizes that run the frontier (default: every size)")
    parser.add_argument("--plan-limit", default=str(PLAN_LIMIT_S),
                        help="the planner's ceiling in seconds, or per size: 6000:60,20000:180")
    parser.add_argument("--mix", choices=sorted(MIXES), default="standard",
                        help="the agencies' communities (scenarios.generate): standard (7) or wide (a long tail of 19)")
    parser.add_argument("--no-frontier", action="store_true")
    parser.add_argument("--budgets-fte", default="",
                        help="budgets in FTE at the policy's cost, comma-separated (default: the size's three)")
    only = parser.add_mutually_exclusive_group()
    only.add_argument("--only-simple", action="store_true", help="only the simple rule (both footings)")
    only.add_argument("--tonight", action="store_true",
                        help="only the planner as the CLI runs it and the simple rule, each side's hires measured by "
                             "the nightly assign (no reference, no frontier)")
    parser.add_argument("--no-reference", action="store_true", help="skip the reference (minutes per budget)")
    parser.add_argument("--rerender", type=Path, default=None,
                        help="render a recorded results file's tables again from its raw figures, and stop")
    args = parser.parse_args(argv)
    if args.rerender:
        print(rerender(args.rerender.read_text(encoding="utf-8")))
        return 0
    began = time.perf_counter()

    def say(message: str) -> None:
        print(f"[{time.perf_counter() - began:7.1f}s load {load_average()}] {message}", flush=True)

    started = datetime.now(UTC).strftime("%Y-%m-%d %H:%M")
    load_before = load_average()
    info = machine()
    rows = []
    command = "python benchmarks/staff.py " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:]))
    limits = _per_size(args.reference_limit)
    plan_limits = _per_size(args.plan_limit)
    frontier_sizes = {int(x) for x in args.frontier_sizes.split(",") if x.strip()}
    for size in (int(s) for s in args.sizes.split(",") if s.strip()):
        limit = float(limits.get(str(size), REFERENCE_LIMIT_S)) if limits else float(args.reference_limit)
        plan_limit = float(plan_limits.get(str(size), PLAN_LIMIT_S)) if plan_limits else float(args.plan_limit)
        rows.append(run_size(size, args.seed, say, reference_limit=limit, plan_limit=plan_limit,
                             frontier_on=not args.no_frontier and (not frontier_sizes or size in frontier_sizes),
                             mode="simple" if args.only_simple else "tonight" if args.tonight else "full",
                             reference_on=not args.no_reference, mix=MIXES[args.mix],
                             budgets_fte=tuple(float(x) for x in args.budgets_fte.split(",") if x.strip()) or None))
        text = render(rows, info, command, started, datetime.now(UTC).strftime("%Y-%m-%d %H:%M"), load_before,
                      load_average())
        if args.out:
            args.out.write_text(text, encoding="utf-8")  # after each size: a crash keeps what was measured
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
