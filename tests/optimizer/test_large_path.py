"""The large-agency path (LP relaxation, neighbourhood search with moves, later stages on an LP-guided
restriction with moves fixed) on a medium agency, forced onto it by lowering the size threshold.
Checks rules, the bound, the greedy floor and determinism."""

from __future__ import annotations

import pytest

import optimizer.solve as solve_module
from optimizer import assign, greedy_assign
from optimizer.check import violations
from tests.optimizer.generate import random_agency


@pytest.fixture
def large_path(monkeypatch):
    monkeypatch.setattr(solve_module, "EXACT_COLUMNS", 0)


def test_large_path_plans_are_valid_and_bounded(large_path):
    agency = random_agency(500, 16, seed=4)
    plan = assign(agency, time_limit_s=8, seed=1)
    assert violations(agency, plan) == []
    s = plan.summary
    placements = s["placed"] + s["replaced"]
    assert placements >= greedy_assign(agency).summary["placed"]
    assert s["bound_source"].startswith("LP relaxation")
    assert s["placement_bound"] >= placements
    assert s["model"]["exact"] is False


def test_small_path_proves_its_bound_with_cp_sat():
    agency = random_agency(200, 8, seed=2)
    plan = assign(agency, time_limit_s=10, seed=1)
    assert violations(agency, plan) == []
    assert plan.summary["bound_source"].startswith("CP-SAT")
    assert plan.summary["placement_bound"] >= plan.summary["placed"] + plan.summary["replaced"]


def test_same_seed_same_plan_on_a_medium_agency():
    agency = random_agency(300, 10, seed=5)
    first = assign(agency, time_limit_s=20, seed=11)
    second = assign(agency, time_limit_s=20, seed=11)
    assert first.assignments == second.assignments


def test_large_path_runs_the_neighbourhood_search_and_is_deterministic(large_path):
    agency = random_agency(400, 12, seed=6)
    first = assign(agency, time_limit_s=10, seed=2)
    second = assign(agency, time_limit_s=10, seed=2)
    search = first.summary["model"]["mip_search"]
    assert search["rounds"] >= 1 and search["placed_after"] >= search["placed_before"]
    assert first.assignments == second.assignments
    assert violations(agency, first) == []


def test_the_make_room_pass_keeps_the_start_plan_expressible():
    """Branch and cut and HiGHS' search start from a plan only if the model's columns hold it whole, moves
    included. Move classes keep a few destinations each (here one), so the make-room pass must keep to them."""
    from optimizer.classes import build_classes
    from optimizer.decode import plan_columns
    from optimizer.eligibility import compute_eligibility, worker_capacity
    from optimizer.greedy import greedy_fill
    from optimizer.moves import make_room
    from optimizer.units import ranked, rule_family_one_worker

    agency = random_agency(400, 12, seed=7)
    el = compute_eligibility(agency)
    cap = worker_capacity(agency, el)
    units = rule_family_one_worker(agency, el)
    order = ranked(units)
    cl = build_classes(agency, el, cap, units, order, move_destinations=1)
    kept = greedy_fill(el, cap, units)
    make_room(kept, order, cl.move_budget, solve_module._allowed(cl), solve_module._destinations(cl))
    free = greedy_fill(el, cap, units)
    make_room(free, order, cl.move_budget, solve_module._allowed(cl))
    assert kept.move_to and solve_module._expressible(cl, kept, plan_columns(cl, kept))
    assert not solve_module._expressible(cl, free, plan_columns(cl, free))  # what the restriction prevents


def test_move_classes_keep_the_destinations_asked_for():
    from optimizer.classes import build_classes
    from optimizer.eligibility import compute_eligibility, worker_capacity
    from optimizer.units import ranked, rule_family_one_worker

    agency = random_agency(400, 12, seed=7)
    el = compute_eligibility(agency)
    cap = worker_capacity(agency, el)
    units = rule_family_one_worker(agency, el)
    narrow = build_classes(agency, el, cap, units, ranked(units), move_destinations=1)
    wide = build_classes(agency, el, cap, units, ranked(units), move_destinations=30)
    assert max(len(mc.workers) for mc in narrow.move_classes) == 1
    assert max(len(mc.workers) for mc in wide.move_classes) > 1
    assert len(wide.move_classes) == len(narrow.move_classes)
    assert wide.columns.is_move.sum() > narrow.columns.is_move.sum()


def _restrictions_that_find_nothing(el, cap, units, cl, plan, lp, seconds, seed, log, phases, ceiling):
    return plan, None, lp


def test_time_the_restrictions_leave_goes_to_branch_and_cut_over_the_whole_model(monkeypatch):
    agency = random_agency(300, 10, seed=7)  # first fit places 14 of tonight's 15
    exact = assign(agency, time_limit_s=30, seed=1)  # the small path proves tonight's optimum
    optimum = exact.summary["placed"] + exact.summary["replaced"]
    assert exact.summary["placement_bound"] == optimum
    monkeypatch.setattr(solve_module, "EXACT_COLUMNS", 0)
    monkeypatch.setattr(solve_module, "_restricted", _restrictions_that_find_nothing)
    monkeypatch.setattr(solve_module, "_mip_search", lambda el, cap, units, cl, plan, *rest: plan)
    plan = assign(agency, time_limit_s=30, seed=1)
    names = [s["name"] for s in plan.summary["stages"] if s["kind"] == "placements"]
    assert names[-1] == "branch_and_cut"
    assert plan.summary["placed"] + plan.summary["replaced"] == optimum
    assert plan.summary["placement_bound"] == optimum  # the whole model's bound holds for tonight
    assert violations(agency, plan) == []
    monkeypatch.setattr(solve_module, "WHOLE_MIP_COLUMNS", 0)  # a model too large for it: the rounds' plan stands
    held = assign(agency, time_limit_s=30, seed=1)
    assert "branch_and_cut" not in [s["name"] for s in held.summary["stages"]]
    assert violations(agency, held) == []
