"""Language pools: a client waits for a worker who shares a language (or French service), not just any FTE."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from caseload.domain import Agency, Client, NeedLevel, Policy, Status, Worker
from simulation import run_scenario, start_state_from_agency
from simulation.start import Pool
from tests.simulation.conftest import START, make_agency, make_scenario
from tests.simulation.test_conservation import busy_scenario


def _tigrinya_agency(tigrinya_workers: int) -> Agency:
    """English speakers with room to spare; Tigrinya speakers waiting; maybe a Tigrinya-speaking worker."""
    staff = [Worker(f"en{i}", 1.0, ("en",)) for i in range(3)]
    staff += [Worker(f"ti{i}", 1.0, ("ti",)) for i in range(tigrinya_workers)]
    clients = [Client(f"t{i}", NeedLevel.LOW, ("ti",), referral_date=START - timedelta(days=30 + i))
               for i in range(8)]
    clients += [Client(f"e{i}", NeedLevel.LOW, ("en",), referral_date=START - timedelta(days=10 + i))
                for i in range(8)]
    return Agency(clients, staff, Policy(), as_of=START)


def _pool_scenario(**changes):
    base = dict(horizon_months=6, referrals_per_month=4, start_from="agency built in code", language_pools=True,
                attrition_per_year=0, dropout_per_month=0, funding=[{"month": 0, "cost_per_fte": 78000}])
    base.update(changes)
    return make_scenario(**base)


def test_start_state_pools_and_their_shares() -> None:
    state = start_state_from_agency(_tigrinya_agency(0), START)
    assert set(state.pools) == {Pool(frozenset({"ti"}), False), Pool(frozenset({"en"}), False)}
    np.testing.assert_allclose(state.pool_mix, [0.5, 0.5])  # 8 and 8 waiting, nobody referred and placed
    assert all(w.languages == frozenset({"en"}) for w in state.workers)


def test_a_pool_nobody_speaks_keeps_its_clients_waiting() -> None:
    result = run_scenario(_pool_scenario(), replications=3, start_state=start_state_from_agency(
        _tigrinya_agency(0), START), audit=True)
    ti = result.inputs.pools.index(Pool(frozenset({"ti"}), False))
    assert result.inputs.notes and any("no worker" in n for n in result.inputs.notes)
    # Every English speaker is placed at once; the Tigrinya speakers (8 today, more arriving) all still wait.
    waiting_end = result.waitlist_by_language[:, result.inputs.languages.index("ti")]
    assert (waiting_end >= 8).all()
    assert (result.metric("waitlist")[:, 1:] >= 8).all()
    assert result.inputs.pool_language[ti] == result.inputs.languages.index("ti")


def test_without_pools_any_worker_serves_them() -> None:
    """The same agency without pools: the English speakers' room is used for everyone (the old model)."""
    result = run_scenario(_pool_scenario(language_pools=False), replications=3,
                          start_state=start_state_from_agency(_tigrinya_agency(0), START))
    assert (result.metric("waitlist")[:, 1] < 8).all()


def test_a_tigrinya_speaker_clears_the_tigrinya_pool() -> None:
    result = run_scenario(_pool_scenario(), replications=3, start_state=start_state_from_agency(
        _tigrinya_agency(1), START), audit=True)
    assert (result.waitlist_by_language[:, result.inputs.languages.index("ti")] == 0).all()


@pytest.mark.parametrize("french_pool", ["shared", "reserved"])
def test_audit_recount_with_pools(french_pool: str) -> None:
    """Conservation holds with pools, attrition, funding changes, reneging and French service all on."""
    sc = busy_scenario(french_pool=french_pool, language_pools=True)
    result = run_scenario(sc, replications=4, start_state=start_state_from_agency(make_agency(), START),
                          audit=True)
    assert len(result.inputs.pools) > 2
    assert result.metric("returned")[:, 1:].sum() > 0


def test_french_service_pool_only_with_french_capable_workers() -> None:
    staff = [Worker("en0", 1.0, ("en", "fr"))]  # speaks French but is not French-capable for the pathway
    clients = [Client(f"f{i}", NeedLevel.LOW, ("fr",), french_service=True, referral_date=START)
               for i in range(3)]
    clients.append(Client("act", NeedLevel.LOW, ("en",), status=Status.ACTIVE, worker_id="en0"))
    agency = Agency(clients, staff, Policy(), as_of=START)
    result = run_scenario(_pool_scenario(referrals_per_month=0), replications=2,
                          start_state=start_state_from_agency(agency, START))
    assert (result.metric("waitlist")[:, 1:] == 3).all()
