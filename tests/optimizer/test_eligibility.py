"""The vectorised eligibility agrees with the checker's plain reading of the rules, pair by pair."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from caseload.domain import Status
from optimizer.check import broken_pair_rules
from optimizer.eligibility import RULE_NAMES, compute_eligibility, integer_weights, worker_capacity
from tests.optimizer.agencies import agency, client, worker
from tests.optimizer.strategies import agencies


@settings(max_examples=60, deadline=None)
@given(agencies())
def test_eligibility_matches_the_checker(agency):
    el = compute_eligibility(agency)
    assert [c.client_id for c in el.clients] == [c.client_id for c in agency.clients
                                                 if c.status in (Status.WAITING, Status.ACTIVE)]
    for i, c in enumerate(el.clients):
        eligible = set(el.eligible(i).tolist())
        for j, w in enumerate(el.workers):
            staying = c.status == Status.ACTIVE and c.worker_id == w.worker_id
            broken = broken_pair_rules(agency, c, w, staying=staying)
            assert (j in eligible) == (not broken), (c.client_id, w.worker_id, broken)
            assert el.excluding_rule(i, j) == (broken[0] if broken else None)
        current = el.current[i]
        if current >= 0:
            assert el.forced[i] == (int(current) not in eligible)


def test_rules_are_in_documented_order():
    assert RULE_NAMES == ("french_service", "language_shared", "worker_areas", "max_travel_km",
                          "worker_gender_preference", "excluded_workers", "unavailable_takes_no_one_new",
                          "forbidden_by_coordinator", "pinned_by_coordinator", "held_by_coordinator")


@settings(max_examples=200, deadline=None)
@given(st.sampled_from([0.2, 0.33, 0.5, 0.8, 1.0, 1.5]), st.sampled_from([10.0, 12.5, 15.0, 20.0, 4.0]),
       st.sampled_from([50.0, 40.0, 6.0, 33.3]), st.integers(0, 30), st.integers(0, 80))
def test_integer_weights_are_exactly_the_fte_rule(fte, high_ratio, low_ratio, high, low):
    _, capacity, hw, lw = integer_weights(fte, high_ratio, low_ratio)
    exact = (Fraction(high) / Fraction(high_ratio).limit_denominator(10_000)
             + Fraction(low) / Fraction(low_ratio).limit_denominator(10_000)
             <= Fraction(fte).limit_denominator(10_000))
    assert (high * hw + low * lw <= capacity) == exact


def test_worker_capacity_figures():
    from datetime import timedelta

    from tests.optimizer.agencies import AS_OF, active
    clients = [active("A1", "W1", intake_date=AS_OF - timedelta(days=1)),
               active("A2", "W1", intake_date=AS_OF - timedelta(days=10), excluded_workers=frozenset({"W1"})),
               client("C1")]
    a = agency(clients, [worker("W1", fte=0.8, max_new_per_week=3), worker("W2", available=False)])
    cap = worker_capacity(a)
    assert cap.capacity.tolist() == [120, 150]             # 0.8 and 1.0 FTE, 150 units per FTE
    assert (cap.high_weight.tolist(), cap.low_weight.tolist()) == ([10, 10], [3, 3])
    assert cap.current_load.tolist() == [6, 0]             # both active clients count now
    assert cap.kept_load.tolist() == [3, 0]                # A2 excluded W1: a forced mover leaves
    assert cap.accepts_new.tolist() == [True, False]       # W2 on leave
    assert cap.new_allowance[0] == 2                       # 3 a week, one intake yesterday
