"""Nobody is lost or counted twice: every month of every replication, everyone who arrived is waiting,
active, graduated, exited or reneged, in the model's own recount (audit) and in its published numbers."""

from __future__ import annotations

import numpy as np
import pytest

from simulation import run_scenario, start_state_from_agency
from simulation.model import ConservationError, Replication
from tests.simulation.conftest import START, make_agency, make_scenario


def busy_scenario(**changes):
    """Everything on at once: start state, French line, reassessment, dropout, renege, attrition, a cut
    and a rise in funding, a month-by-month referral pattern."""
    rates = [25 + (m % 12) * 2 for m in range(30)]
    base = dict(
        horizon_months=30, referrals_per_month=rates, waitlist_renege_months=4, attrition_per_year=0.5,
        hiring_lag_months=1.5, dropout_per_month=0.03, step_down_share=0.4, step_up_share=0.2,
        reassessment_every_months=2,
        funding=[{"month": 0, "fte": 5.6, "cost_per_fte": 78000}, {"month": 8, "fte": 3.3},
                 {"month": 16, "fte": 7.25}, {"month": 20, "cost_per_fte": 80000}],
        start_from="agency built in code",
    )
    base.update(changes)
    return make_scenario(**base)


@pytest.mark.parametrize("french_pool", ["shared", "reserved"])
def test_audit_recount_every_month(french_pool: str) -> None:
    sc = busy_scenario(french_pool=french_pool)
    result = run_scenario(sc, replications=6, start_state=start_state_from_agency(make_agency(), START),
                          audit=True)
    assert result.metric("returned")[:, 1:].sum() > 0  # attrition and the cut sent clients back
    assert result.metric("reneged")[:, 1:].sum() > 0
    assert result.metric("exits")[:, 1:].sum() > 0


def test_published_numbers_balance_every_month() -> None:
    start = start_state_from_agency(make_agency(), START)
    result = run_scenario(busy_scenario(), replications=6, processes=2, start_state=start)
    arrived_at_start = start.active.size + start.waiting.size
    stocks = result.metric("waitlist") + result.metric("active_high") + result.metric("active_low")
    flows = ("referrals", "graduations", "exits", "reneged")
    cum = {name: np.cumsum(np.nan_to_num(result.metric(name)), axis=1) for name in flows}
    arrived = arrived_at_start + cum["referrals"]
    left = cum["graduations"] + cum["exits"] + cum["reneged"]
    np.testing.assert_array_equal(arrived, stocks + left)
    assert (result.metric("waitlist")[:, 0] == start.waiting.size).all()
    assert (result.metric("active_high")[:, 0] + result.metric("active_low")[:, 0] == start.active.size).all()


def test_audit_catches_a_lost_client() -> None:
    """The recount is not vacuous: a client dropped from the books is reported."""
    sc = make_scenario(horizon_months=3)
    from simulation.inputs import resolve

    replication = Replication(resolve(sc, None), seed=1, replication=0, audit=True)
    original = replication._on_month_end

    def lose_one(event):
        replication.waiting += 1
        original(event)

    replication._on_month_end = lose_one
    with pytest.raises(ConservationError, match="waiting"):
        replication.run()
