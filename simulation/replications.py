"""Running a scenario's replications in parallel processes, and what comes back.

Replication i always uses the seed sequence (seed, i): results for a seed are identical whether one
process runs them all or many share them out, and replication i of two scenarios sees the same referrals
(common random numbers), which is what makes `compare` an honest paired difference.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from caseload.processes import main_is_importable
from caseload.validation import InputError
from simulation.inputs import ModelInputs, resolve
from simulation.model import METRICS, ReplicationResult, run_replication
from simulation.schema import Scenario, ScenarioError
from simulation.start import StartState, load_start_state
from simulation.statistics import monthly_frame, paired_difference, summary_rows, totals_block

Progress = Callable[[int, int], None]


@dataclass
class ScenarioResult:
    """All replications of one scenario: per-replication arrays, and the tables built from them."""

    scenario: Scenario
    inputs: ModelInputs
    seed: int
    per_replication: np.ndarray  # (replications, len(METRICS), horizon + 1)
    totals: np.ndarray  # (replications, len(TOTALS))
    waitlist_by_language: np.ndarray  # (replications, languages) at the end of the horizon
    events: int
    elapsed_s: float
    cpu_s: float = 0.0  # processor time of all replications, summed over processes
    _monthly: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def replications(self) -> int:
        return int(self.per_replication.shape[0])

    @property
    def horizon(self) -> int:
        return self.inputs.horizon

    @property
    def events_per_second(self) -> float:
        return self.events / self.elapsed_s if self.elapsed_s > 0 else float("nan")

    def metric(self, name: str) -> np.ndarray:
        """(replications, horizon + 1) values of one monthly metric (month 0 is the start)."""
        return self.per_replication[:, METRICS.index(name), :]

    @property
    def monthly(self) -> pd.DataFrame:
        """`month, metric, mean, low, high` (low/high: 5th/95th percentile across replications)."""
        if self._monthly is None:
            self._monthly = monthly_frame(self.per_replication)
        return self._monthly

    @property
    def summary(self) -> dict:
        """Totals over the horizon and end-of-horizon figures, each with its interval. No client ids."""
        start = self.per_replication[0, :, 0]
        st = self.inputs.start_state
        block = totals_block(self.totals)
        languages = {}
        for i, lang in enumerate(self.inputs.languages):
            values = self.waitlist_by_language[:, i]
            if np.any(values > 0):
                languages[lang] = {"mean": round(float(values.mean()), 6),
                                   "low": float(np.percentile(values, 5)), "high": float(np.percentile(values, 95))}
        return {
            "scenario": self.scenario.name,
            "start": self.inputs.start.isoformat(),
            "horizon_months": self.horizon,
            "replications": self.replications,
            "seed": self.seed,
            "interval": "low/high are the 5th and 95th percentiles across replications",
            "start_state": {
                "waitlist": int(start[METRICS.index("waitlist")]),
                "active_high": int(start[METRICS.index("active_high")]),
                "active_low": int(start[METRICS.index("active_low")]),
                "fte": round(float(start[METRICS.index("fte")]), 6),
                "from": str(self.scenario.start_from) if st is not None else None,
            },
            **block,
            "waitlist_by_language_end": languages,
            "assumptions": {
                "referrals_per_month_mean": round(float(np.mean(self.inputs.rates)), 6),
                "high_need_share": round(self.inputs.high_need_share, 6),
                "french_fte_share": round(self.inputs.french_fte_share, 6),
                "french_service_share": round(float(np.dot(self.inputs.language_mix,
                                                           self.inputs.french_service_by_language)), 6),
                "targets": {"high_need_ratio": self.inputs.high_need_ratio,
                            "low_need_ratio": self.inputs.low_need_ratio},
            },
            "notes": list(self.inputs.notes),
        }

    def write(self, out_dir: Path | str, plots: bool = True) -> list[Path]:
        """monthly.csv, summary.json and the PNG charts into `out_dir`; returns the files written."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        written = []
        monthly = out / "monthly.csv"
        self.monthly.to_csv(monthly, index=False, float_format="%.10g")
        written.append(monthly)
        summary = out / "summary.json"
        summary.write_text(json.dumps(self.summary, indent=2) + "\n", encoding="utf-8")
        written.append(summary)
        if plots:
            from simulation.plots import write_pngs

            written += write_pngs(self, out)
        return written


# --- worker processes ----------------------------------------------------------------------------

_INPUTS: ModelInputs | None = None


def _init_worker(inputs: ModelInputs) -> None:
    global _INPUTS
    _INPUTS = inputs


def _run_chunk(seed: int, reps: Sequence[int]) -> list[tuple[int, ReplicationResult]]:
    assert _INPUTS is not None
    return [(r, run_replication(_INPUTS, seed, r)) for r in reps]


def run_replications(inputs: ModelInputs, seed: int, reps: Sequence[int], audit: bool = False
                     ) -> list[ReplicationResult]:
    """Run some replications here, in this process (Dask tasks and small runs use this)."""
    return [run_replication(inputs, seed, r, audit=audit) for r in reps]


def _context() -> multiprocessing.context.BaseContext | None:
    """How to start worker processes here, or None to run the replications in this process.

    fork is fastest to start, but forking a process that runs other threads (an app server, a Dask
    client) can deadlock; forkserver is the safe choice then, when the main script can be re-imported.
    """
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    if not main_is_importable():
        return None
    if "forkserver" in methods:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["simulation.replications"])
        return context
    return multiprocessing.get_context("spawn")


def _chunks(reps: int, processes: int) -> list[list[int]]:
    # Several chunks per process: the progress bar moves, and a slow chunk does not idle the others.
    size = max(1, min(25, -(-reps // (processes * 4))))
    return [list(range(i, min(i + size, reps))) for i in range(0, reps, size)]


def start_state_for(scenario: Scenario) -> StartState | None:
    """Today's agency from the scenario's start_from folder (None without one); errors name the key."""
    if not scenario.start_from:
        return None
    folder = scenario.start_from_path()
    if not folder.is_dir():
        raise ScenarioError([InputError(
            scenario.source, None, "start_from", scenario.start_from,
            f"no such folder (looked for {folder}; a relative path is tried as given, then from the "
            "scenario file's folder)")])
    return load_start_state(folder, scenario.start)


def load_inputs(scenario: Scenario, start_state: StartState | None = None) -> ModelInputs:
    """Resolve a scenario, reading its start_from folder unless a start state is given."""
    if start_state is None:
        start_state = start_state_for(scenario)
    return resolve(scenario, start_state)


def run_inputs(inputs: ModelInputs, scenario: Scenario, replications: int, seed: int,
               processes: int | None = None, progress: Progress | None = None,
               audit: bool = False) -> ScenarioResult:
    processes = processes or os.cpu_count() or 1
    processes = max(1, min(processes, replications))
    began = time.perf_counter()
    results: list[ReplicationResult | None] = [None] * replications
    context = _context() if processes > 1 and not audit else None
    if context is None:
        for r in range(replications):
            results[r] = run_replication(inputs, seed, r, audit=audit)
            if progress:
                progress(r + 1, replications)
    else:
        done = 0
        with ProcessPoolExecutor(processes, mp_context=context, initializer=_init_worker,
                                 initargs=(inputs,)) as pool:
            futures = [pool.submit(_run_chunk, seed, chunk) for chunk in _chunks(replications, processes)]
            for future in as_completed(futures):
                for r, result in future.result():
                    results[r] = result
                    done += 1
                if progress:
                    progress(done, replications)
    elapsed = time.perf_counter() - began
    return collect(scenario, inputs, seed, results, elapsed)  # type: ignore[arg-type]


def collect(scenario: Scenario, inputs: ModelInputs, seed: int, results: Sequence[ReplicationResult],
            elapsed: float) -> ScenarioResult:
    return ScenarioResult(
        scenario=scenario,
        inputs=inputs,
        seed=seed,
        per_replication=np.stack([r.monthly for r in results]),
        totals=np.stack([r.totals for r in results]),
        waitlist_by_language=np.stack([r.waitlist_by_language for r in results]),
        events=sum(r.events for r in results),
        elapsed_s=elapsed,
        cpu_s=sum(r.cpu_s for r in results),
    )


def run_scenario(scenario: Scenario, replications: int | None = None, seed: int | None = None,
                 processes: int | None = None, progress: Progress | None = None,
                 start_state: StartState | None = None, audit: bool = False) -> ScenarioResult:
    """Run a scenario's replications (default: the scenario's own count and seed) in parallel processes.

    `progress(done, total)` is called as replications finish. `audit=True` recounts every client every
    month (slow; for tests) and runs in this process.
    """
    inputs = load_inputs(scenario, start_state)
    return run_inputs(inputs, scenario, replications or scenario.replications,
                      scenario.seed if seed is None else seed, processes, progress, audit)


def compare(result_a: ScenarioResult, result_b: ScenarioResult) -> pd.DataFrame:
    """Side by side, with the difference B - A and its 90% interval from paired replications.

    Replication i of both runs must share its seed for the pairing to mean anything; `attrs["paired"]`
    says whether it does (same seed), and only the first min(n_a, n_b) replications are paired.
    """
    rows_a, rows_b = summary_rows(result_a.totals), summary_rows(result_b.totals)
    table = []
    for name in rows_a:
        a, b = rows_a[name], rows_b[name]
        entry = {"metric": name}
        for label, values in (("a", a), ("b", b)):
            finite = values[np.isfinite(values)]
            entry[f"{label}_mean"] = float(finite.mean()) if finite.size else np.nan
            entry[f"{label}_low"] = float(np.percentile(finite, 5)) if finite.size else np.nan
            entry[f"{label}_high"] = float(np.percentile(finite, 95)) if finite.size else np.nan
        entry["diff_mean"], entry["diff_low"], entry["diff_high"] = paired_difference(a, b)
        table.append(entry)
    frame = pd.DataFrame(table)
    frame.attrs["paired"] = result_a.seed == result_b.seed
    frame.attrs["a"], frame.attrs["b"] = result_a.scenario.name, result_b.scenario.name
    return frame


def compare_monthly(result_a: ScenarioResult, result_b: ScenarioResult) -> pd.DataFrame:
    """Month by month, the paired difference B - A: `month, metric, mean, low, high`."""
    n = min(result_a.replications, result_b.replications)
    h = min(result_a.horizon, result_b.horizon)
    diff = result_b.per_replication[:n, :, : h + 1] - result_a.per_replication[:n, :, : h + 1]
    return monthly_frame(diff)
