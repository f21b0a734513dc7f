"""Branch and cut on the placement stage (`optimizer.mip`): it finds what only a move allows, its bound
holds, and a plan it returns is never taken on trust (the caller's pipeline keeps the better plan)."""

from __future__ import annotations

import numpy as np

from optimizer.classes import build_classes
from optimizer.eligibility import compute_eligibility, worker_capacity
from optimizer.mip import branch_and_cut
from optimizer.units import ranked, rule_family_one_worker
from tests.optimizer.agencies import active, agency, caseload, client, worker
from tests.optimizer.test_rules import _family_move_case


def _classes(ag):
    el = compute_eligibility(ag)
    cap = worker_capacity(ag, el)
    units = rule_family_one_worker(ag, el)
    return cap, build_classes(ag, el, cap, units, ranked(units))


def test_branch_and_cut_moves_a_family_whole_to_place_two():
    cap, cl = _classes(_family_move_case(0.05))
    result = branch_and_cut(cl, cap, None, None, time_limit_s=10, node_limit=100, seed=0)
    assert result.complete and result.placements(cl) == 2
    assert result.bound is not None and result.bound < 3  # two waiting clients: nothing more to place
    moved = result.values[cl.columns.is_move] @ cl.columns.size[cl.columns.is_move]
    assert moved == 2  # the family of two, whole


def test_branch_and_cut_respects_the_move_budget():
    cap, cl = _classes(_family_move_case(0.03))  # one move allowed: the family of two cannot move
    result = branch_and_cut(cl, cap, None, None, time_limit_s=10, node_limit=100, seed=0)
    assert result.placements(cl) == 0
    assert result.bound is not None and result.bound < 1


def test_branch_and_cut_keeps_to_the_selected_columns_and_reports_the_restriction():
    # two waiting clients, two workers with room for one each: the restriction to W1's columns places one
    ag = agency(caseload("W1", n_low=49) + caseload("W2", n_low=49) + [client("C1"), client("C2")],
                [worker("W1"), worker("W2")])
    cap, cl = _classes(ag)
    c = cl.columns
    full = branch_and_cut(cl, cap, None, None, time_limit_s=10, node_limit=100, seed=0)
    w1 = np.nonzero(~c.is_move & (c.worker == 0))[0]
    part = branch_and_cut(cl, cap, w1, None, time_limit_s=10, node_limit=100, seed=0)
    assert full.placements(cl) == 2 and full.complete
    assert part.placements(cl) == 1 and not part.complete
    assert not part.values[np.setdiff1d(np.arange(len(c)), w1)].any()


def test_assign_reports_branch_and_cut_and_its_proven_bound(solve):
    ag = agency(caseload("W1", n_low=48) + [active("X", "W2")] + [client(f"C{n}") for n in range(4)],
                [worker("W1"), worker("W2", fte=0.04)])  # room for 2 low-need on W1, 1 on W2 (2/50 - 1/50)
    plan = solve(ag)
    assert plan.summary["placed"] == 3
    assert plan.summary["placement_bound"] == 3 and plan.summary["status"] == "OPTIMAL"
    # the start plan reaches the LP relaxation's bound (3): proven at once, so no placement search runs
    phases = {r["name"]: r for r in plan.summary["stages"] if r["kind"] == "placements"}
    assert phases["lp_relaxation"]["stop"] == "optimal" and phases["start_plan"]["value"] == 3
    assert "branch_and_cut" not in phases and "branch_and_cut" not in plan.summary["model"]
