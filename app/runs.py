"""The app's heavy calls into the library, as jobs keyed by their input: an assignment and a scenario run.

A job builds, once, everything the pages derive from its result (the per-client view, the exports), so
a rerun for a new filter only slices frames that already exist.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from app import frames
from app.jobs import Job
from caseload.domain import Agency


def plan_key(agency_key: str, seed: int, time_limit_s: float) -> str:
    return f"assign:{agency_key}:seed={seed}:limit={time_limit_s:g}"


@dataclass
class Planned:
    """An optimizer plan with the frames the pages show; exports are built on first download only."""

    agency: Agency
    plan: Any
    view: pd.DataFrame
    search: pd.Series
    _exports: dict[str, bytes] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def summary(self) -> dict[str, Any]:
        return self.plan.summary

    @property
    def assignments(self) -> list:
        return self.plan.assignments

    def _export(self, name: str, build: Callable[[], bytes]) -> bytes:
        with self._lock:
            if name not in self._exports:
                self._exports[name] = build()
            return self._exports[name]

    def csv_bytes(self) -> bytes:
        return self._export("csv", lambda: frames.assignments_csv(self.assignments))

    def excel_bytes(self) -> bytes:
        def build() -> bytes:
            from caseload.contract_io import assignments_frame

            return frames.excel_bytes({
                "assignments": assignments_frame(self.assignments),
                "summary": frames.summary_frame(self.summary),
                "caseloads": frames.caseload_frame(self.summary),
                "waiting by reason": frames.waiting_by_reason(self.summary),
            })

        return self._export("xlsx", build)


PROVISIONAL_MESSAGE = "placements final; polishing travel and even loads"


def offer_provisional(job: Job, agency: Agency) -> Callable[[Any], None]:
    """`optimizer.assign`'s ``on_placements`` callback for a job: the provisional plan (placements final,
    the later stages still polishing language, needs, travel and loads), with its tables, offered to the
    page while the run goes on."""

    def offer(plan: Any) -> None:
        view = frames.assignment_view(agency, plan.assignments)
        job.offer(Planned(agency=agency, plan=plan, view=view, search=frames.search_text(view)), PROVISIONAL_MESSAGE)

    return offer


def assignment_job(agency: Agency, *, seed: int, time_limit_s: float,
                   start_from: dict[str, str] | None = None) -> Callable[[Job], Planned]:
    """The nightly assignment as a job: `optimizer.assign`, reporting its progress messages to the job and
    offering its provisional plan as soon as placements are final; ``start_from``: a plan to begin from."""

    def work(job: Job) -> Planned:
        from optimizer import assign

        given = {"start_from": start_from} if start_from else {}
        plan = assign(agency, time_limit_s=time_limit_s, seed=seed, progress=lambda m: job.report(str(m)),
                      on_placements=offer_provisional(job, agency), **given)
        job.report("preparing the tables")
        view = frames.assignment_view(agency, plan.assignments)
        return Planned(agency=agency, plan=plan, view=view, search=frames.search_text(view))

    return work


# Below this many replication-months a scenario runs in the app's own process: starting worker processes
# (a fork server, in a threaded server) costs more than the replications themselves. Results are the
# same either way: replication i always uses the seed sequence (seed, i).
IN_PROCESS_WORK = 1_000


def scenario_job(scenario: Any, *, processes: int | None = None) -> Callable[[Job], Any]:
    """A funding scenario's replications as a job; the progress bar counts finished replications."""
    if processes is None and scenario.replications * scenario.horizon_months <= IN_PROCESS_WORK:
        processes = 1

    def work(job: Job) -> Any:
        from simulation.replications import run_scenario

        def progress(done: int, total: int) -> None:
            job.report(f"{done} of {total} replications", done / total if total else None)

        job.report("reading the start state")
        return run_scenario(scenario, processes=processes, progress=progress)

    return work
