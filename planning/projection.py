"""Over time: today's waitlist projected with and without the hires, and the FTE that keeps the wait short.

Tonight's plan says how many waiting clients the hires take on now; a manager also asks what happens next
year, when new referrals keep arriving and clients graduate. This module runs the simulation from today's
caseload (`simulation.start`, the data contract's files) with language pools on, so a Tigrinya waitlist
is cleared only by a Tigrinya speaker, and answers with a mean and a 90% interval per month, never one
number.

Both runs use the same seed, so replication i of each sees the same referrals, stays and dropouts (common
random numbers, `simulation.model`): the difference is the hires', not luck's, and is reported as a paired
difference.

The wait that the target is checked on is, per replication and month, the larger of the 90th-percentile
wait of the clients placed that month and the 90th percentile of the time already waited by the clients
still waiting at its end, both counted from today (a client referred before today counts from today:
what today's waitlist has already waited, no hire can undo, and counting it would make any target
shorter than today's longest wait unreachable). The first alone would miss a pool nobody can serve (its
clients are never placed, so their waits never count). The projected p90 wait of a month is the mean of
that across replications.

`smallest_fte_for_wait` searches for the least added FTE whose projected p90 wait stays at or under the
target in every month of the horizon. The hires it adds come in a fixed order (a ladder): each rung adds
one hire of the candidate that serves the most stretched language pool (the pool's FTE needed for its
flow of referrals and today's backlog, against the FTE that can serve it, shared in proportion to need).
The search over the rungs runs the simulation: a bisection when run here, several rungs at a time as Dask
tasks when a scheduler is given. It assumes more FTE never lengthens the wait, which common random numbers
make nearly exact (a hire's attrition draws shift other workers' later ones; the report says which rungs
were run).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from caseload.contract_io import save_png
from caseload.domain import Agency, Candidate, Worker
from simulation.inputs import ModelInputs, resolve
from simulation.model import METRICS, ReplicationResult
from simulation.replications import run_inputs, run_replications
from simulation.schema import Scenario, scenario_from_dict
from simulation.start import Pool, StartState, start_state_from_agency, start_worker

DEFAULT_MONTHS = 12
DEFAULT_REPLICATIONS = 20
DEFAULT_TARGET_WAIT_MONTHS = 3.0
DEFAULT_MAX_ADDED_FTE = 30.0
RECENT_DAYS = 365  # referrals of the last year give the referral rate
SCHEDULER_CONNECT_S = 10.0  # an unreachable --scheduler is reported after this long
INTERVAL = "low/high are the 5th and 95th percentiles across replications"

Progress = Callable[[int, int], None]


# --- the scenario: today's agency as the simulation's start ------------------------------------------------


def referral_rate(agency: Agency) -> float:
    """Referrals a month: the last year's referral dates, or the flow that keeps today's caseload steady."""
    recent = [c for c in agency.clients if c.referral_date is not None
              and 0 <= (agency.as_of - c.referral_date).days <= RECENT_DAYS]
    if recent:
        return len(recent) / 12.0
    active = agency.active
    if not active:
        return len(agency.waiting) / 12.0
    stay = np.mean([agency.policy.expected_duration_months(c.need_level.value) for c in active])
    return len(active) / float(stay)


def projection_scenario(agency: Agency, fte: float, *, months: int, replications: int, seed: int,
                        referrals_per_month: float | None = None, attrition_per_year: float = 0.12,
                        hiring_lag_months: float = 2.0) -> Scenario:
    """The scenario the projection runs: today's agency with language pools, the policy's stays and costs."""
    policy = agency.policy

    def stay(mean: float) -> dict[str, Any]:
        return {"distribution": "lognormal", "mean": mean, "sd": mean / 4}  # the schema's default spread

    rate = referral_rate(agency) if referrals_per_month is None else referrals_per_month
    return scenario_from_dict({
        "name": "staffing projection",
        "start": agency.as_of,
        "horizon_months": months,
        "replications": replications,
        "seed": seed,
        "referrals_per_month": float(rate),
        "duration_months": {"high": stay(policy.expected_duration_high_months),
                            "low": stay(policy.expected_duration_low_months)},
        "reassessment_every_months": policy.reassessment_every_months,
        "funding": [{"month": 0, "fte": round(fte, 9), "cost_per_fte": policy.cost_per_fte}],
        "attrition_per_year": attrition_per_year,
        "hiring_lag_months": hiring_lag_months,
        "targets": {"high_need_ratio": policy.high_need_ratio, "low_need_ratio": policy.low_need_ratio},
        "language_pools": True,
    }, source="staffing projection")


def _inputs(agency: Agency, state: StartState, extra: Sequence[Worker], joins_month: float, *, months: int,
            replications: int, seed: int, **options: Any) -> ModelInputs:
    hires = tuple(start_worker(w, joins_month) for w in extra)
    with_hires = replace(state, workers=state.workers + hires)
    # Funded FTE = today's workers and the hires (joining later or not): the funding step changes nothing.
    scenario = projection_scenario(agency, with_hires.fte, months=months, replications=replications, seed=seed,
                                   **options)
    return replace(resolve(scenario, with_hires), waiting_ages=True)


# --- running: here (processes) or on Dask -----------------------------------------------------------------


def _run_all(inputs: Sequence[ModelInputs], replications: int, seed: int, *, scheduler: str | None,
             processes: int | None, progress: Progress | None) -> list[list[ReplicationResult]]:
    """Every inputs' replications 0..n-1 under one seed (the same seeds for each: common random numbers)."""
    if not scheduler:
        out = []
        for k, inp in enumerate(inputs):
            # run_inputs shares the replications out to processes; the scenario only labels its result.
            result = run_inputs(inp, None, replications, seed, processes)  # type: ignore[arg-type]
            out.append(_as_results(result))
            if progress:
                progress(k + 1, len(inputs))
        return out
    from dask.distributed import Client, as_completed

    client = Client(scheduler, timeout=SCHEDULER_CONNECT_S)
    try:
        cores = max(1, sum(client.nthreads().values()))
        size = max(1, min(replications, -(-replications * len(inputs) // (cores * 4))))
        chunks = [list(range(i, min(i + size, replications))) for i in range(0, replications, size)]
        futures = {}
        for p, inp in enumerate(inputs):
            shared = client.scatter(inp, broadcast=False)
            for chunk in chunks:
                futures[client.submit(run_replications, shared, seed, chunk, pure=False)] = (p, chunk)
        got: list[dict[int, ReplicationResult]] = [{} for _ in inputs]
        done = 0
        for future in as_completed(futures):
            p, chunk = futures[future]
            for r, result in zip(chunk, future.result(), strict=True):
                got[p][r] = result
            done += len(chunk)
            if progress:
                progress(done, replications * len(inputs))
    finally:
        client.close()
    return [[g[r] for r in range(replications)] for g in got]


def _as_results(result: Any) -> list[ReplicationResult]:
    """The per-replication arrays of a run, as the ReplicationResults `_band` reads."""
    return [ReplicationResult(result.per_replication[r], result.totals[r], result.waitlist_by_language[r], 0, 0)
            for r in range(result.per_replication.shape[0])]


# --- what comes back ---------------------------------------------------------------------------------------


def _metric(results: Sequence[ReplicationResult], name: str) -> np.ndarray:
    return np.stack([r.monthly[METRICS.index(name)] for r in results])


def p90_wait(results: Sequence[ReplicationResult]) -> np.ndarray:
    """(replications, months + 1): the larger of the placed clients' and the still-waiting clients' p90 wait,
    both counted from today."""
    placed = np.nan_to_num(_metric(results, "placed_since_start_p90_months"), nan=0.0)
    waiting = np.nan_to_num(_metric(results, "waiting_since_start_p90_months"), nan=0.0)
    return np.maximum(placed, waiting)


def _band(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return values.mean(axis=0), np.percentile(values, 5, axis=0), np.percentile(values, 95, axis=0)


@dataclass
class Projection:
    """Monthly waitlist and p90 wait without and with the hires (same seeds), with 90% intervals."""

    months: int
    replications: int
    seed: int
    added_fte: float
    waitlist_without: np.ndarray  # (replications, months + 1); month 0 is today
    waitlist_with: np.ndarray
    p90_without: np.ndarray
    p90_with: np.ndarray
    referrals_per_month: float
    pools: int
    notes: list[str] = field(default_factory=list)

    @property
    def frame(self) -> pd.DataFrame:
        """`month, metric, plan, mean, low, high` with plan `without`, `with` or `difference` (with - without)."""
        rows = []
        series = {("waitlist", "without"): self.waitlist_without, ("waitlist", "with"): self.waitlist_with,
                  ("waitlist", "difference"): self.waitlist_with - self.waitlist_without,
                  ("wait_p90_months", "without"): self.p90_without, ("wait_p90_months", "with"): self.p90_with,
                  ("wait_p90_months", "difference"): self.p90_with - self.p90_without}
        for (metric, plan), values in series.items():
            mean, low, high = _band(values)
            for month in range(self.months + 1):
                rows.append({"month": month, "metric": metric, "plan": plan, "mean": float(mean[month]),
                             "low": float(low[month]), "high": float(high[month])})
        return pd.DataFrame(rows)

    def worst_p90(self, with_hires: bool = True) -> float:
        """The largest projected (mean) p90 wait over months 1..horizon."""
        values = self.p90_with if with_hires else self.p90_without
        return float(values.mean(axis=0)[1:].max()) if self.months else 0.0

    def to_dict(self) -> dict[str, Any]:
        frame = self.frame
        table: dict[str, dict[str, list]] = {}
        for (metric, plan), part in frame.groupby(["metric", "plan"], sort=False):
            table.setdefault(metric, {})[plan] = [
                {"month": int(m), "mean": round(float(a), 4), "low": round(float(b), 4), "high": round(float(c), 4)}
                for m, a, b, c in zip(part["month"], part["mean"], part["low"], part["high"], strict=True)]
        return {
            "months": self.months, "replications": self.replications, "seed": self.seed,
            "added_fte": self.added_fte, "referrals_per_month": round(self.referrals_per_month, 4),
            "language_pools": self.pools,
            "interval": INTERVAL + "; with and without use the same seeds (common random numbers), "
                                   "difference is with - without per replication",
            "wait_p90_months": "per replication and month, the larger of the placed clients' 90th-percentile "
                               "wait and the 90th percentile of the time already waited by those still waiting, "
                               "both counted from today (time waited before today is left out)",
            "worst_p90_wait_months": {"without": round(self.worst_p90(False), 4),
                                      "with": round(self.worst_p90(True), 4)},
            "monthly": table,
            "notes": self.notes,
        }


def project(agency: Agency, extra_workers: Sequence[Worker], *, months: int = DEFAULT_MONTHS,
            replications: int = DEFAULT_REPLICATIONS, seed: int = 0, scheduler: str | None = None,
            processes: int | None = None, joins_month: float = 0.0, referrals_per_month: float | None = None,
            attrition_per_year: float = 0.12, hiring_lag_months: float = 2.0,
            progress: Progress | None = None) -> Projection:
    """Today's caseload over `months`, without and with `extra_workers` (the hires), on the same seeds.

    `joins_month`: when the hires start (0: today, as tonight's plan assumes). Workers on leave are
    simulated as available (the simulation does not model leave; its notes say so).
    """
    state = start_state_from_agency(agency)
    options = {"referrals_per_month": referrals_per_month, "attrition_per_year": attrition_per_year,
               "hiring_lag_months": hiring_lag_months}
    inputs = [_inputs(agency, state, extra, joins_month, months=months, replications=replications, seed=seed,
                      **options) for extra in ((), tuple(extra_workers))]
    without, with_ = _run_all(inputs, replications, seed, scheduler=scheduler, processes=processes,
                              progress=progress)
    return Projection(
        months=months, replications=replications, seed=seed, added_fte=float(sum(w.fte for w in extra_workers)),
        waitlist_without=_metric(without, "waitlist"), waitlist_with=_metric(with_, "waitlist"),
        p90_without=p90_wait(without), p90_with=p90_wait(with_),
        referrals_per_month=float(inputs[0].rates[0]) if inputs[0].rates else 0.0,
        pools=len(inputs[0].pools), notes=list(dict.fromkeys(inputs[1].notes)),
    )


# --- the smallest added FTE for the target wait ------------------------------------------------------------


def _pool_need(state: StartState, inputs: ModelInputs) -> np.ndarray:
    """FTE each pool needs: its flow of referrals at the steady caseload, plus today's backlog."""
    def mean_stay(duration: Any) -> float:
        for attr in ("mean", "value"):
            if hasattr(duration, attr):
                return float(getattr(duration, attr))
        return (float(duration.low) + float(duration.high)) / 2

    share = inputs.high_need_share
    fte_per_client = share / inputs.high_need_ratio + (1 - share) / inputs.low_need_ratio
    fte_months = (share * mean_stay(inputs.duration_high) / inputs.high_need_ratio
                  + (1 - share) * mean_stay(inputs.duration_low) / inputs.low_need_ratio)
    rate = float(np.mean(inputs.rates)) if inputs.rates else 0.0
    backlog = np.bincount(state.waiting.pool, minlength=len(state.pools)).astype(float)
    return rate * np.asarray(inputs.pool_mix) * fte_months + backlog * fte_per_client


def _serves(pools: Sequence[Pool], languages: frozenset[str], french: bool) -> np.ndarray:
    return np.array([p.served_by(languages, french) for p in pools], dtype=bool)


def hire_ladder(agency: Agency, candidates: Sequence[Candidate], max_added_fte: float,
                inputs: ModelInputs | None = None) -> list[Candidate]:
    """Candidates in the order the FTE search adds them: each serves the most stretched pool it can.

    A pool's stretch is its need (FTE for its flow and backlog) over the FTE that serves it, each worker's
    FTE shared among its pools in proportion to their need. Ties go to the cheaper candidate, then the
    candidate's order. A candidate with `max_hires` is not added more often than that.
    """
    state = start_state_from_agency(agency)
    if inputs is None:
        inputs = _inputs(agency, state, (), 0.0, months=1, replications=1, seed=0)
    pools = state.pools
    if not pools or not candidates:
        return []
    need = _pool_need(state, inputs)
    supply = np.zeros(len(pools))

    def add(languages: frozenset[str], french: bool, fte: float) -> None:
        mask = _serves(pools, languages, french)
        weight = need * mask
        if weight.sum() > 0:
            supply[:] += fte * weight / weight.sum()
        elif mask.any():
            supply[mask] += fte / mask.sum()

    for w in state.workers:
        add(w.languages, w.french, w.fte)
    masks = [_serves(pools, start_worker(c.hire(1)).languages, c.french) for c in candidates]
    costs = [c.cost(agency.policy) for c in candidates]
    hired = [0] * len(candidates)
    ladder: list[Candidate] = []
    total = 0.0
    while True:
        stretch = np.where(need > 0, need / np.maximum(supply, 1e-9), 0.0)
        best, best_key = -1, None
        for k, c in enumerate(candidates):
            if c.max_hires is not None and hired[k] >= c.max_hires:
                continue
            if total + c.fte > max_added_fte + 1e-9 or not masks[k].any():
                continue
            key = (-float(stretch[masks[k]].max()), costs[k], k)
            if best_key is None or key < best_key:
                best, best_key = k, key
        if best < 0 or best_key is None or best_key[0] == 0.0:
            return ladder
        c = candidates[best]
        hired[best] += 1
        ladder.append(c)
        total += c.fte
        add(start_worker(c.hire(1)).languages, c.french, c.fte)


def _workers_of(ladder: Sequence[Candidate], rung: int) -> list[Worker]:
    count: dict[str, int] = {}
    out = []
    for c in ladder[:rung]:
        count[c.candidate_id] = count.get(c.candidate_id, 0) + 1
        out.append(c.hire(count[c.candidate_id]))
    return out


@dataclass
class FteSearch:
    """The least added FTE (on the ladder) whose projected p90 wait meets the target every month."""

    target_wait_months: float
    added_fte: float | None  # None: not met within the ladder (max_added_fte or no candidate serves a pool)
    hires: dict[str, int]
    worst_p90_by_rung: dict[int, float]  # rungs run: the largest monthly mean p90 wait
    ladder_fte: list[float]  # added FTE at each rung (rung 0: none)
    months: int
    replications: int
    seed: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "target_wait_months": self.target_wait_months,
            "smallest_added_fte": self.added_fte,
            "met": self.added_fte is not None,
            "hires": self.hires,
            "rungs_run": [{"rung": r, "added_fte": round(self.ladder_fte[r], 4), "worst_p90_wait_months": round(v, 4),
                           "meets_target": v <= self.target_wait_months}
                          for r, v in sorted(self.worst_p90_by_rung.items())],
            "months": self.months, "replications": self.replications, "seed": self.seed,
            "method": "bisection over a ladder of hires (each adds one hire of the candidate serving the most "
                      "stretched language pool), each rung run on the simulation with the same seeds; the "
                      "projected p90 wait of a month is the mean across replications",
        }


def smallest_fte_for_wait(agency: Agency, candidates: Sequence[Candidate], *,
                          target_wait_months: float = DEFAULT_TARGET_WAIT_MONTHS, months: int = DEFAULT_MONTHS,
                          replications: int = DEFAULT_REPLICATIONS, seed: int = 0,
                          max_added_fte: float = DEFAULT_MAX_ADDED_FTE, scheduler: str | None = None,
                          processes: int | None = None, batch: int | None = None,
                          ladder: Sequence[Candidate] | None = None, progress: Progress | None = None,
                          **options: Any) -> FteSearch:
    """Search the ladder's rungs on the simulation for the first one that meets the target every month.

    Locally one rung is run at a time (bisection); with a Dask scheduler `batch` rungs (default: the
    cluster's cores, at least 2) are run together and the bracket shrinks by that many parts per round.
    """
    state = start_state_from_agency(agency)
    base = _inputs(agency, state, (), 0.0, months=months, replications=replications, seed=seed, **options)
    if ladder is None:
        ladder = hire_ladder(agency, candidates, max_added_fte, base)
    fte_at = [0.0]
    for c in ladder:
        fte_at.append(fte_at[-1] + c.fte)
    worst: dict[int, float] = {}
    if batch is None:
        batch = max(2, os.cpu_count() or 1) if scheduler else 1

    def run(rungs: list[int]) -> None:
        todo = [r for r in rungs if r not in worst]
        if not todo:
            return
        inputs = [_inputs(agency, state, _workers_of(ladder, r), 0.0, months=months, replications=replications,
                          seed=seed, **options) for r in todo]
        for r, results in zip(todo, _run_all(inputs, replications, seed, scheduler=scheduler,
                                             processes=processes, progress=None), strict=True):
            worst[r] = float(p90_wait(results).mean(axis=0)[1:].max()) if months else 0.0
            if progress:
                progress(len(worst), max(len(worst), math.ceil(math.log2(len(ladder) + 2)) + 2))

    def ok(r: int) -> bool:
        return worst[r] <= target_wait_months + 1e-12

    top = len(ladder)
    run(sorted({0, top}) if batch > 1 else [0])  # here: the top rung only when today's staff misses the target
    found: int | None
    if not ok(0):
        run([top])
    if ok(0):
        found = 0
    elif not ok(top):
        found = None
    else:
        low, high = 0, top  # low fails, high meets
        while high - low > 1:
            inside = list(range(low + 1, high))
            picks = sorted({inside[(len(inside) * (i + 1)) // (batch + 1)] for i in range(min(batch, len(inside)))})
            run(picks)
            for r in picks:
                if ok(r):
                    high = min(high, r)
            low = max([low] + [r for r in picks if r < high and not ok(r)])
        found = high
    hires: dict[str, int] = {}
    if found is not None:
        for c in ladder[:found]:
            hires[c.candidate_id] = hires.get(c.candidate_id, 0) + 1
    return FteSearch(target_wait_months, None if found is None else round(fte_at[found], 9), hires, worst, fte_at,
                     months, replications, seed)



# --- the files: a fan chart and the JSON blocks for staffing.json ---------------------------------------

PROJECTION_PNG = "projection.png"


def plot_projection(projection: Projection, path: Path, target_wait_months: float | None = None) -> Path:
    """Waitlist and p90 wait per month, without and with the hires: the mean and the 90% band of each."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    months = np.arange(projection.months + 1)
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), dpi=110)
    panels = ((axes[0], "waitlist", projection.waitlist_without, projection.waitlist_with, "clients waiting"),
              (axes[1], "wait", projection.p90_without, projection.p90_with, "90th-percentile wait (months)"))
    for ax, _name, without, with_, label in panels:
        for values, colour, plan in ((without, "tab:grey", "without the hires"), (with_, "tab:blue", "with the hires")):
            mean, low, high = _band(values)
            ax.fill_between(months, low, high, color=colour, alpha=0.2)
            ax.plot(months, mean, color=colour, marker="o", markersize=3, label=plan)
        ax.set_xlabel("months from today")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    if target_wait_months is not None:
        axes[1].axhline(target_wait_months, color="tab:red", linestyle="--", linewidth=1,
                        label=f"target {target_wait_months:g} months")
    axes[1].legend(fontsize=8)
    fig.suptitle(f"Projection from today's caseload: mean and 90% band of {projection.replications} replications "
                 "(same seeds with and without)", fontsize=9)
    fig.tight_layout()
    try:
        return save_png(fig, path)
    finally:
        plt.close(fig)
    return path
