"""A plan given to `optimizer.assign` to start from (`optimizer.start_plan`): what breaks tonight's rules is
dropped and counted, the model keeps the columns its moves need, and the run never places fewer than it kept."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from caseload.domain import Policy
from optimizer import assign
from optimizer.check import violations
from optimizer.classes import build_classes, move_budget_of
from optimizer.eligibility import compute_eligibility, worker_capacity
from optimizer.solve import EXACT_COLUMNS
from optimizer.start_plan import start_moves, start_state
from optimizer.units import ranked, rule_family_one_worker
from tests.optimizer.agencies import active, agency, caseload, client, worker
from tests.optimizer.generate import random_agency
from tests.optimizer.strategies import agencies

PROPERTY = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _parts(ag):
    el = compute_eligibility(ag)
    cap = worker_capacity(ag, el)
    units = rule_family_one_worker(ag, el)
    return el, cap, units, ranked(units)


def test_a_start_entry_that_breaks_a_rule_is_dropped_and_counted():
    # W1 (English) has room for one low-need client; W2 speaks only Arabic
    ag = agency(caseload("W1", n_low=49) + [client("C1"), client("C2"), client("C3")],
                [worker("W1"), worker("W2", languages=("ar",))])
    el, cap, units, order = _parts(ag)
    start = {"C1": "W1", "C2": "W1", "C3": "W2", "AW1L0": "W1"}  # C2: no room left; C3: no shared language
    state, log = start_state(el, cap, units, order, 0, start, start_moves(el, start))
    assert log.placed == 1 and log.moved == 0
    assert log.dropped == 2  # the entry sending AW1L0 to the worker they have is no change, not a drop
    placed = {el.clients[units[u].members[0]].client_id for u in range(len(units)) if state.unit_worker[u] >= 0}
    assert placed == {"C1"}  # the queue's first; C2 would put W1 over target


def test_a_start_that_splits_a_family_is_dropped():
    # A1 is served by W1: their waiting relative B1 goes to W1 too (families whole), whatever the start says
    ag = agency([active("A1", "W1", family_id="F"), client("B1", family_id="F")], [worker("W1"), worker("W2")])
    el, cap, units, order = _parts(ag)
    start = {"B1": "W2"}
    state, log = start_state(el, cap, units, order, 0, start, start_moves(el, start))
    assert (log.placed, log.dropped) == (0, 1)
    plan = assign(ag, time_limit_s=5, start_from=start)
    assert violations(ag, plan) == [] and plan.summary["start"]["dropped"] == 1


def test_a_start_move_beyond_the_move_budget_is_dropped():
    ag = agency(caseload("W1", n_low=50) + [client("C1", languages=("ar",))],
                [worker("W1", languages=("ar", "en")), worker("W2"), worker("W3")], max_moves_share=0.02)
    el, cap, units, order = _parts(ag)
    start = {"AW1L0": "W2", "AW1L1": "W3", "C1": "W1"}
    state, log = start_state(el, cap, units, order, 1, start, start_moves(el, start))
    assert log.moved == 1 and log.placed == 1 and log.dropped == 1


def test_a_start_move_keeps_its_column_beyond_the_destinations_with_most_room():
    # W1 is full, and only it speaks Arabic: its English speakers may move; W2 has more room than W3
    ag = agency(caseload("W1", n_low=50) + caseload("W3", n_low=40) + [client("C1", languages=("ar",))],
                [worker("W1", languages=("ar", "en")), worker("W2"), worker("W3")], max_moves_share=0.1)
    el, cap, units, order = _parts(ag)
    w3 = el.worker_index["W3"]
    plain = build_classes(ag, el, cap, units, order, move_destinations=1)
    assert all(w3 not in mc.workers for mc in plain.move_classes)
    keep = start_moves(el, {"AW1L0": "W3"})
    assert keep == {(el.client_index["AW1L0"],): w3}
    kept = build_classes(ag, el, cap, units, order, move_destinations=1, keep_moves=keep)
    (mc,) = [mc for mc in kept.move_classes if any(item[0] == el.client_index["AW1L0"] for item in mc.items)]
    assert w3 in mc.workers and el.worker_index["W2"] in mc.workers


def test_a_large_agencys_run_places_at_least_its_start_whatever_its_time():
    ag = random_agency(900, 24, seed=7, fill=0.95, waiting_share=0.3, policy=Policy(max_moves_share=0.02))
    first = assign(ag, time_limit_s=30, seed=1)
    assert first.summary["model"]["columns"] > EXACT_COLUMNS  # the large path, whose search the clock stops
    start = {a.client_id: a.worker_id for a in first.assignments if a.worker_id and a.decision.value != "kept"}
    again = assign(ag, time_limit_s=0.5, seed=2, start_from=start)
    assert again.summary["start"]["used"] and again.summary["start"]["dropped"] == 0
    assert again.summary["objective"]["placements"] >= first.summary["objective"]["placements"]
    assert violations(ag, again) == []


@PROPERTY
@given(ag=agencies(), data=st.data())
def test_any_start_gives_a_plan_that_breaks_no_rule_and_places_at_least_what_it_kept(ag, data):
    ids = [w.worker_id for w in ag.workers] + ["NOBODY"]
    start = {c.client_id: data.draw(st.sampled_from(ids)) for c in ag.clients if data.draw(st.booleans())}
    el, cap, units, order = _parts(ag)
    kept, _ = start_state(el, cap, units, order, move_budget_of(ag), start, start_moves(el, start))
    plan = assign(ag, time_limit_s=5, start_from=start)
    assert violations(ag, plan) == []
    assert plan.summary["objective"]["placements"] >= kept.placed_count()
    if start:  # an empty start is no start
        log = plan.summary["start"]
        assert log["given"] == len(start) and log["placed"] == kept.placed_count()
        assert log["dropped"] == len(start) - log["placed"] - log["moved"] - sum(
            1 for c in ag.clients if c.worker_id and start.get(c.client_id) == c.worker_id
            and c.client_id in el.client_index and el.current[el.client_index[c.client_id]] >= 0)
