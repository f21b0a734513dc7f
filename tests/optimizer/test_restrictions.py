"""Branch and cut over restrictions drawn from the LP (`optimizer.restrictions`): a draw keeps each class's
least-priced columns and breaks their ties at random by the seed, the converged guide is the LP optimum,
and rounds never place fewer than their start nor break a row."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

import optimizer.restrictions as restrictions
import optimizer.solve as solve_module
from optimizer import assign
from optimizer.check import violations
from optimizer.decode import plan_columns
from optimizer.eligibility import compute_eligibility, worker_capacity
from optimizer.greedy import greedy_fill
from optimizer.lp import complete_rows, lp_relaxation
from optimizer.mip import rows_hold
from optimizer.units import rule_family_one_worker
from tests.optimizer.agencies import agency, caseload, client, worker
from tests.optimizer.generate import random_agency
from tests.optimizer.strategies import agencies
from tests.optimizer.test_lp import _full_lp
from tests.optimizer.test_mip import _classes


def _tied_agency(n_workers: int = 12):
    """One class of waiting low-need clients and many workers with the same room: every column is tied."""
    clients = [c for k in range(n_workers) for c in caseload(f"W{k}", n_low=45)]
    clients += [client(f"C{n}") for n in range(6)]
    return agency(clients, [worker(f"W{k}") for k in range(n_workers)])


def _unit_columns_drawn(cl, selected) -> set[int]:
    units = ~cl.columns.is_move
    return {int(col) for col in selected if units[col]}


def test_a_draw_breaks_ties_by_the_seed_not_by_room():
    cap, cl = _classes(_tied_agency())
    guide = lp_relaxation(cl, cap, time_limit_s=10, close_enough=0.0)
    none = np.zeros(len(cl.columns), dtype=np.int64)
    draws = [_unit_columns_drawn(cl, restrictions.draw(cl, guide, none, 2, np.random.default_rng([7, r])))
             for r in range(6)]
    again = _unit_columns_drawn(cl, restrictions.draw(cl, guide, none, 2, np.random.default_rng([7, 0])))
    assert again == draws[0]  # the same seed draws the same restriction
    assert len({frozenset(d) for d in draws}) > 1  # other seeds draw other tied columns
    assert all(len(d) <= 2 + np.count_nonzero(guide.values > 1e-6) for d in draws)


def test_a_draw_keeps_each_class_least_priced_columns_and_the_plan():
    cap, cl = _classes(random_agency(400, 12, seed=3))
    guide = lp_relaxation(cl, cap, time_limit_s=30, close_enough=0.0)
    c = cl.columns
    plan = np.zeros(len(c), dtype=np.int64)
    plan[c.class_start[0]] = 1  # any column the plan holds joins, however it is priced
    selected = restrictions.draw(cl, guide, plan, 3, np.random.default_rng(0))
    inside = np.zeros(len(c), dtype=bool)
    inside[selected] = True
    assert inside[c.class_start[0]] and np.all(inside[guide.values > 1e-6])
    assert np.all(inside[c.is_move & (guide.reduced_cost < -restrictions.TIED)])
    for k in range(len(cl.classes)):
        cols = np.arange(c.class_start[k], c.class_start[k + 1])
        cols = cols[np.isfinite(guide.reduced_cost[cols])]
        drawn, left = cols[inside[cols]], cols[~inside[cols]]
        assert len(drawn) >= min(3, len(cols))
        if len(left) and len(drawn):  # nothing left out is priced clearly better than something drawn
            best_left = guide.reduced_cost[left].min()
            extra = np.setdiff1d(drawn, np.nonzero(guide.values > 1e-6)[0])
            extra = extra[extra != c.class_start[0]]
            if len(extra):
                assert guide.reduced_cost[extra].max() <= best_left + 2 * restrictions.TIED


def test_the_guide_is_the_lp_optimum_from_a_relaxation_stopped_early(monkeypatch):
    cap, cl = _classes(random_agency(400, 12, seed=3))
    monkeypatch.setattr("optimizer.lp.START_PER_CLASS", 1)
    monkeypatch.setattr("optimizer.lp.ADD_PER_ROUND", 50)
    early = lp_relaxation(cl, cap, time_limit_s=30, close_enough=0.2)
    guide = restrictions.converged_guide(cl, cap, early, np.zeros(len(cl.columns), dtype=np.int64),
                                         time_limit_s=30)
    assert guide.converged and guide.objective == pytest.approx(_full_lp(cl, cap), abs=1e-6)
    assert guide.objective <= early.objective + 1e-6


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(agencies())
def test_rounds_never_place_fewer_than_their_start_nor_break_a_row(ag):
    el = compute_eligibility(ag)
    cap = worker_capacity(ag, el)
    units = rule_family_one_worker(ag, el)
    cap, cl = _classes(ag)
    if not len(cl.columns):
        return
    start = plan_columns(cl, greedy_fill(el, cap, units))
    guide = lp_relaxation(cl, cap, time_limit_s=10, close_enough=0.0)
    log = restrictions.RoundsLog()
    values, _ = restrictions.search(cl, cap, guide, start, seconds=2, seed=0, log=log)
    matrix, rhs, upper = complete_rows(cl, cap)
    units_ = ~cl.columns.is_move
    assert rows_hold(matrix, rhs, upper, values)
    assert values[units_] @ cl.columns.size[units_] >= start[units_] @ cl.columns.size[units_]
    assert log.rounds >= 1 and log.placed == sorted(log.placed)


def test_the_large_path_runs_rounds_and_gives_the_same_plan_for_a_seed(monkeypatch):
    monkeypatch.setattr(solve_module, "EXACT_COLUMNS", 0)
    ag = random_agency(400, 12, seed=6)
    first = assign(ag, time_limit_s=10, seed=3)
    second = assign(ag, time_limit_s=10, seed=3)
    rounds = first.summary["model"]["restricted_rounds"]
    assert rounds["rounds"] >= 1 and rounds["placed"] == sorted(rounds["placed"])
    assert first.summary["model"]["lp_converged"] is True
    assert violations(ag, first) == []
    s = first.summary
    assert s["placement_bound"] >= s["placed"] + s["replaced"]
    assert first.assignments == second.assignments
