"""Every phase stops when more time buys nothing (issue 15): proven optimal, within the policy's gap, or
stalled; the time limit is only the ceiling. The solver's work is counted (deterministic time, rounds),
never the wall clock."""

from __future__ import annotations

import math

import numpy as np
import pytest
from ortools.sat.python import cp_model

import optimizer.mip_search as mip_search
import optimizer.restrictions as restrictions
from optimizer import assign
from optimizer.check import violations
from optimizer.classes import build_classes
from optimizer.decode import encode, plan_columns
from optimizer.eligibility import compute_eligibility, worker_capacity
from optimizer.greedy import greedy_fill
from optimizer.lp import lp_relaxation
from optimizer.mip import branch_and_cut
from optimizer.model import build_model
from optimizer.stages import DETERMINISTIC_PER_SECOND, STOPS, StageRunner, stall_period
from optimizer.units import ranked, rule_family_one_worker
from tests.optimizer.agencies import agency, caseload, client, worker
from tests.optimizer.generate import random_agency

BUDGET_S = 100.0  # a stage budget far above what these tiny models need: a stage that spends it fails


def _room_for(n_low_free: list[int], waiting: int):
    clients = [c for k, free in enumerate(n_low_free) for c in caseload(f"W{k}", n_low=50 - free)]
    clients += [client(f"C{n}", languages=["en", "fr"] if n % 2 else ["en"]) for n in range(waiting)]
    return agency(clients, [worker(f"W{k}", languages=["en", "fr"] if k % 2 else ["en"])
                            for k in range(len(n_low_free))])


def _model(ag):
    el = compute_eligibility(ag)
    cap = worker_capacity(ag, el)
    units = rule_family_one_worker(ag, el)
    cl = build_classes(ag, el, cap, units, ranked(units))
    greedy = greedy_fill(el, cap, units)
    return cl, cap, greedy


def _runner(ag, gap: float = 0.0) -> tuple[StageRunner, np.ndarray]:
    cl, cap, greedy = _model(ag)
    am = build_model(cl, cap)
    hint = encode(am, plan_columns(cl, greedy))
    return StageRunner(am, cap, seed=0, num_workers=1, time_limit_s=BUDGET_S, gap=gap), hint


def test_a_stage_that_proves_optimality_returns_before_its_budget():
    runner, hint = _runner(_room_for([2, 1, 3], waiting=8))
    runner.run(hint)
    placements = runner.results[0]
    assert placements.name == "placements" and placements.value == 6
    assert placements.stop == "optimal" and placements.status == "OPTIMAL"
    # its share of the budget in deterministic time, of which it used a sliver
    share = BUDGET_S * 0.35 * DETERMINISTIC_PER_SECOND
    assert placements.deterministic_time < 0.05 * share
    assert all(r.stop in STOPS for r in runner.results)


class _NothingBetter:
    """A CP-SAT stand-in that only ever finds the hinted plan and proves nothing: each solve reports it
    as FEASIBLE with a bound far away, having spent its whole deterministic-time limit."""

    real = cp_model.CpSolver
    calls = 0
    bound_offset: float | None = None  # None: far away; else this far from the value

    def __init__(self):
        self._solver = self.real()
        self.parameters = self._solver.parameters

    def solve(self, model):
        type(self).calls += 1
        self.parameters.fix_variables_to_their_hinted_value = True
        assert self._solver.solve(model) == cp_model.OPTIMAL  # the hint, the only plan it can see
        self.objective_value = self._solver.objective_value
        self.response_proto = self._solver.response_proto
        maximise = model.proto.objective.scaling_factor < 0
        offset = self.bound_offset if self.bound_offset is not None else 1000.0 + abs(self.objective_value)
        self.best_objective_bound = self.objective_value + (offset if maximise else -offset)
        self.deterministic_time = self.parameters.max_deterministic_time
        return cp_model.FEASIBLE

    def status_name(self, _status=None):
        return "FEASIBLE"


@pytest.fixture
def nothing_better(monkeypatch):
    monkeypatch.setattr(_NothingBetter, "calls", 0)
    monkeypatch.setattr(cp_model, "CpSolver", _NothingBetter)
    return _NothingBetter


def test_a_stall_stop_fires_when_the_solver_finds_nothing_better(nothing_better):
    runner, hint = _runner(_room_for([2, 1, 3], waiting=8))
    runner.run(hint, only=("placements",))
    (result,) = runner.results
    stall = stall_period(len(runner.am.model.proto.variables))
    assert result.stop == "stalled" and nothing_better.calls == 1
    assert result.deterministic_time == pytest.approx(stall)
    assert stall < BUDGET_S * DETERMINISTIC_PER_SECOND / 10  # it stopped far inside its budget


def test_a_later_stage_stops_within_the_policy_gap(nothing_better, monkeypatch):
    runner, hint = _runner(_room_for([2, 1, 3], waiting=8), gap=0.02)
    runner.require("placements", 0)
    sense, expr = runner.am.objectives["priority_and_wait"]
    runner.values = hint
    value = runner.evaluate(expr)
    assert value > 100  # so that 2 is within 2% of it
    monkeypatch.setattr(nothing_better, "bound_offset", 2.0)
    runner.run(None, only=("priority_and_wait",))
    assert runner.results[-1].stop == "gap" and nothing_better.calls == 1
    # with no gap allowed, the same stage stalls instead
    monkeypatch.setattr(nothing_better, "calls", 0)
    strict, hint = _runner(_room_for([2, 1, 3], waiting=8), gap=0.0)
    strict.run(hint, only=("priority_and_wait",))
    assert strict.results[-1].stop == "stalled"


def test_the_neighbourhood_search_stalls_on_an_optimal_plan_and_stops_at_its_ceiling():
    cl, cap, _ = _model(_room_for([2, 1, 3], waiting=8))
    best = branch_and_cut(cl, cap, None, None, time_limit_s=10, node_limit=100, seed=0)
    assert best.proven and best.placements(cl) == 6
    log = mip_search.MipSearchLog()
    mip_search.search(cl, cap, best.values, seconds=1000, threads=2, seed=0, log=log)
    assert log.stop == "stalled" and log.rounds == mip_search.stall_rounds(len(cap.capacity), 2)
    assert log.improved == 0 and log.work < 1000 * mip_search.COLUMNS_PER_SECOND
    at_ceiling = mip_search.MipSearchLog()
    mip_search.search(cl, cap, best.values, seconds=1000, threads=2, seed=0, log=at_ceiling, ceiling=6)
    assert at_ceiling.stop == "optimal" and at_ceiling.rounds == 0


def test_stall_patience_grows_with_the_agency():
    assert mip_search.stall_rounds(150, 2) == 30  # the 6,000-client benchmark keeps its former patience
    assert mip_search.stall_rounds(1000, 2) > mip_search.stall_rounds(150, 2) >= mip_search.MIN_STALL_ROUNDS
    assert stall_period(100_000) > stall_period(2_000) >= stall_period(10)


def test_rounds_stop_at_a_proven_ceiling_and_after_rounds_without_a_gain():
    cl, cap, _ = _model(_room_for([2, 1, 3], waiting=8))
    lp = lp_relaxation(cl, cap, time_limit_s=10)
    best = branch_and_cut(cl, cap, None, None, time_limit_s=10, node_limit=100, seed=0)
    log = restrictions.RoundsLog()
    restrictions.search(cl, cap, lp, best.values, seconds=1000, seed=0, log=log, ceiling=6)
    assert log.stop == "optimal" and log.rounds == 0
    stalled = restrictions.RoundsLog()
    restrictions.search(cl, cap, lp, best.values, seconds=1000, seed=0, log=stalled)
    assert stalled.stop == "stalled" and stalled.rounds == restrictions.STALL_ROUNDS


def test_same_seed_same_plan_and_same_stops():
    ag = random_agency(200, 8, seed=2)
    first = assign(ag, time_limit_s=10, seed=3)
    second = assign(ag, time_limit_s=10, seed=3)
    assert [(a.client_id, a.worker_id) for a in first.assignments] == \
        [(a.client_id, a.worker_id) for a in second.assignments]

    def stops(plan):
        return [(s["name"], s["stop"], s["value"]) for s in plan.summary["stages"]]

    assert stops(first) == stops(second)
    assert first.summary["objective"] == second.summary["objective"]


def test_the_summary_says_why_each_phase_stopped_and_when_placements_settled():
    ag = random_agency(200, 8, seed=2)
    shown = []
    plan = assign(ag, time_limit_s=10, seed=1, on_placements=shown.append)
    s = plan.summary
    assert [st["name"] for st in s["stages"]][:2] == ["lp_relaxation", "start_plan"]
    for st in s["stages"]:
        assert st["kind"] in ("placements", "stage") and isinstance(st["wall_time_s"], float)
        assert st["stop"] in (*STOPS, "done", "held", "not expressible"), st
        assert 0 <= st["started_s"] <= s["wall_time_s"]
    profile = s["placements_profile"]
    assert [p[1] for p in profile] == sorted(p[1] for p in profile)
    assert profile[-1][1] == s["placed"] + s["replaced"]
    assert s["time_to_final_placements_s"] <= s["placements_settled_s"] <= s["wall_time_s"]
    # the provisional plan: shown once, before the later stages, and the final plan places as many
    (early,) = shown
    assert early.summary["provisional"] is True and "provisional" not in s
    assert violations(ag, early) == []
    assert early.summary["placed"] + early.summary["replaced"] == s["placed"] + s["replaced"]
    assert early.summary["wall_time_s"] <= s["wall_time_s"] and not math.isnan(early.summary["wall_time_s"])
