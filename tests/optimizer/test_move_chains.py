"""Optional moves in a chain: a waiting client is placed only if one worker's client moves to a second
worker while one of the second's moves on to a third (the one-step model could not, and its "proven"
bound was a restriction's: the 480-client sample placed 63 where the reference MIP placed 64)."""

from __future__ import annotations

from optimizer import assign
from optimizer.check import violations
from optimizer.classes import build_classes
from optimizer.eligibility import compute_eligibility, worker_capacity
from optimizer.units import ranked, rule_family_one_worker
from tests.optimizer.agencies import active, agency, caseload, client, worker


def _chain_agency():
    """C1 speaks only Arabic: only W1 (Arabic, Farsi), who is at target with Farsi speakers. W2 (Farsi,
    English) is at target with English speakers; W3 (English) has room for one."""
    farsi = [active(f"F{n}", "W1", languages=("fa",)) for n in range(50)]
    clients = farsi + caseload("W2", n_low=50) + caseload("W3", n_low=49) + [client("C1", languages=("ar",))]
    workers = [worker("W1", languages=("ar", "fa")), worker("W2", languages=("fa", "en")), worker("W3")]
    return agency(clients, workers, max_moves_share=0.1)


def test_a_chain_of_two_moves_places_the_waiting_client():
    ag = _chain_agency()
    plan = assign(ag, time_limit_s=10, seed=0)
    assert violations(ag, plan) == []
    by_id = {a.client_id: a for a in plan.assignments}
    assert by_id["C1"].worker_id == "W1"
    moved = {a.client_id: a.worker_id for a in plan.assignments if a.decision == "moved"}
    assert sorted(moved.values()) == ["W2", "W3"]  # a Farsi speaker to W2, an English speaker to W3
    assert plan.summary["status"] == "OPTIMAL" and plan.summary["placement_bound"] == 1


def test_only_the_complete_model_claims_its_bound_for_tonight():
    ag = _chain_agency()
    el = compute_eligibility(ag)
    cap = worker_capacity(ag, el)
    units = rule_family_one_worker(ag, el)
    one_step = build_classes(ag, el, cap, units, ranked(units))
    every = build_classes(ag, el, cap, units, ranked(units), every_move=True)
    assert not one_step.moves_complete  # W2, whom no waiting client can use, holds movable clients
    assert every.moves_complete
    assert every.columns.is_move.sum() > one_step.columns.is_move.sum()


def _chain_plan_state(ag, el, cap, units):
    """The chain plan by hand: C1 with W1, a Farsi speaker W1 -> W2, an English speaker W2 -> W3."""
    from optimizer.caseloads import Caseloads

    state = Caseloads(el, cap, units)
    c = el.client_index
    state.move(c["F0"], el.worker_index["W2"])
    state.move(c["AW2L0"], el.worker_index["W3"])
    u = next(n for n, unit in enumerate(units) if c["C1"] in unit.members)
    state.place(u, el.worker_index["W1"])
    return state


def test_a_plan_is_cut_to_what_a_model_holds_and_no_worker_is_left_over_target():
    """keep_expressible: the one-step model has neither chain move, so both are undone and C1, who needed
    them, waits again; the complete model holds the plan whole and nothing changes."""
    from optimizer.decode import keep_expressible, plan_columns

    ag = _chain_agency()
    el = compute_eligibility(ag)
    cap = worker_capacity(ag, el)
    units = rule_family_one_worker(ag, el)
    order = ranked(units)
    every = build_classes(ag, el, cap, units, order, every_move=True)
    state = _chain_plan_state(ag, el, cap, units)
    assert keep_expressible(every, state, order) == 0
    assert state.placed_count() == 1 and len(state.move_to) == 2

    one_step = build_classes(ag, el, cap, units, order)
    state = _chain_plan_state(ag, el, cap, units)
    assert keep_expressible(one_step, state, order) == 1
    assert state.placed_count() == 0 and state.move_to == {}
    assert all(state.room(j) >= 0 for j in range(el.n_workers))
    values = plan_columns(one_step, state)
    assert int(values @ one_step.columns.size) == 0  # whole: nothing the model lacks is left
