"""The make-room pass (`optimizer.moves.make_room`): it moves an active client to place a waiting one, and
keeps to the destinations it is given (so a start plan stays one the model's columns can express)."""

from __future__ import annotations

import numpy as np

from optimizer.caseloads import Caseloads
from optimizer.eligibility import compute_eligibility, worker_capacity
from optimizer.moves import make_room
from optimizer.units import ranked, rule_family_one_worker
from tests.optimizer.agencies import agency, caseload, client, worker


def _full_arabic_speaker():
    """W1 (Arabic, English) is at target; W2 (English) has room for one; C1 speaks only Arabic."""
    ag = agency(caseload("W1", n_low=50) + caseload("W2", n_low=49) + [client("C1", languages=("ar",))],
                [worker("W1", languages=("ar", "en")), worker("W2")], max_moves_share=0.1)
    el = compute_eligibility(ag)
    cap = worker_capacity(ag, el)
    units = rule_family_one_worker(ag, el)
    allowed = {u: unit.eligible for u, unit in enumerate(units)}
    return el, Caseloads(el, cap, units), ranked(units), allowed


def test_make_room_moves_one_client_to_place_a_waiting_one():
    el, state, order, allowed = _full_arabic_speaker()
    assert make_room(state, order, 5, allowed) == 1
    assert len(state.move_to) == 1 and set(state.move_to.values()) == {1}  # to W2
    assert state.placed_count() == 1


def test_make_room_keeps_to_the_destinations_it_is_given():
    el, state, order, allowed = _full_arabic_speaker()
    nowhere = {i: np.zeros(0, dtype=np.int32) for i in range(len(el.clients))}
    assert make_room(state, order, 5, allowed, nowhere) == 0
    assert not state.move_to and state.placed_count() == 0
    to_w2 = {i: np.array([1], dtype=np.int32) for i in range(len(el.clients))}
    assert make_room(state, order, 5, allowed, to_w2) == 1
