"""Starting from today's agency: its caseload, waitlist, staff and referral mix."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from simulation import run_scenario, start_state_from_agency
from simulation.durations import sample, sample_given_elapsed
from simulation.inputs import resolve
from simulation.model import ACTIVE, FRENCH, GENERAL, TIER_RETURNED, WAITING, Replication
from simulation.schema import Exponential, Fixed, Lognormal, Uniform
from tests.conftest import write_folder
from tests.simulation.conftest import START, make_agency, make_scenario


def test_start_state_counts_and_mix() -> None:
    agency = make_agency(active=120, waiting=30, workers=6, french_workers=2)
    st = start_state_from_agency(agency, START)
    assert st.active.size == 120 and st.waiting.size == 30
    assert st.fte == pytest.approx(5.6)
    assert st.french_fte_share == pytest.approx(1.8 / 5.6)
    assert st.language_mix.sum() == pytest.approx(1.0)
    assert set(st.languages) == {"fr", "ar", "es"}
    french_share = np.mean([c.french_service for c in agency.active + agency.waiting])
    assert st.french_service_share == pytest.approx(french_share)
    assert st.waiting.months.max() == pytest.approx(5 * 29 / (365.2425 / 12))


def test_the_projection_starts_from_the_agency_as_it_is() -> None:
    agency = make_agency()
    sc = make_scenario(start_from="in code", funding=[{"month": 0, "cost_per_fte": 78000}])
    result = run_scenario(sc, replications=3, processes=1, start_state=start_state_from_agency(agency, START))
    assert (result.metric("waitlist")[:, 0] == len(agency.waiting)).all()
    high = sum(1 for c in agency.active if c.need_level == "high")
    assert (result.metric("active_high")[:, 0] == high).all()
    assert (result.metric("fte")[:, 0] == pytest.approx(5.6))
    assert result.summary["assumptions"]["french_fte_share"] == pytest.approx(1.8 / 5.6, abs=1e-6)


def replication(agency=None, **changes) -> Replication:
    agency = agency or make_agency()
    sc = make_scenario(start_from="in code", funding=[{"month": 0, "cost_per_fte": 78000}], **changes)
    return Replication(resolve(sc, start_state_from_agency(agency, START)), seed=3, replication=0, audit=True)


def test_urgent_clients_head_the_waitlist() -> None:
    rep = replication()
    rep._load_start()
    head = rep.heaps[GENERAL][0][4]
    assert head.priority == 1


def test_a_leavers_clients_go_back_to_the_head_of_the_waitlist() -> None:
    rep = replication()
    rep._load_start()
    w = rep.eligible[GENERAL][-1]
    returned = list(rep.clients_of[w].values())
    waiting_before = rep.waiting
    rep._remove_worker(w)
    assert returned and rep.flow["returned"] == len(returned)
    placed_referrals = rep.flow["placements"]  # first placements: referrals from the waitlist
    still_waiting = [c for c in returned if c.state == WAITING]
    if placed_referrals:
        assert not still_waiting  # nobody from the waitlist went ahead of a returned client
    for c in returned:
        assert c.state == WAITING or (c.state == ACTIVE and c.worker != w)
    line = sorted(entry[:4] for entry in rep.heaps[GENERAL] if entry[4].state == WAITING)
    assert all(key[0] == TIER_RETURNED for key in line[:len(still_waiting)])
    assert rep.waiting == waiting_before + len(still_waiting) - placed_referrals


@pytest.mark.parametrize("pool", ["shared", "reserved"])
def test_french_service_clients_are_served_by_french_capable_workers(pool: str) -> None:
    rep = replication(french_pool=pool, horizon_months=18, attrition_per_year=0.3)
    rep.run()
    for w, clients in enumerate(rep.clients_of):
        for c in clients.values():
            if c.queue == FRENCH:
                assert rep.french[w]
            if pool == "reserved" and rep.french[w]:
                assert c.queue == FRENCH


def test_start_from_a_data_contract_folder(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "agency")
    path = tmp_path / "s.yaml"
    path.write_text('name: "From files"\nstart: 2026-12-01\nstart_from: agency\nreferrals_per_month: 2\n'
                    "horizon_months: 6\nfunding: [{month: 0, cost_per_fte: 78000}]\n", encoding="utf-8")
    from simulation import load_scenario

    sc = load_scenario(path)
    assert sc.start_from_path() == folder
    result = run_scenario(sc, replications=2, processes=1)
    assert result.summary["start_state"] == {"waitlist": 1, "active_high": 0, "active_low": 1, "fte": 1.5,
                                             "from": "agency"}


def test_a_bad_start_folder_is_reported_not_raised_as_a_crash(tmp_path: Path) -> None:
    from caseload.validation import ValidationFailed

    folder = write_folder(tmp_path / "agency", workers="worker_id,fte,languages\nw1,9,en\n")
    sc = make_scenario(start_from=str(folder), funding=[{"month": 0, "cost_per_fte": 1}])
    with pytest.raises(ValidationFailed) as caught:
        run_scenario(sc, replications=1, processes=1)
    assert any(e.column == "fte" for e in caught.value.errors)


@pytest.mark.parametrize("dist", [
    Lognormal(distribution="lognormal", mean=16, sd=4), Exponential(distribution="exponential", mean=12),
    Uniform(distribution="uniform", low=6, high=18), Fixed(distribution="fixed", value=12),
])
def test_durations(dist) -> None:
    rng = np.random.default_rng(0)
    drawn = sample(dist, 200_000, rng)
    expected = {"lognormal": 16, "exponential": 12, "uniform": 12, "fixed": 12}[dist.distribution]
    assert drawn.mean() == pytest.approx(expected, rel=0.01)
    elapsed = np.array([0.0, 5.0, 11.0, 40.0] * 1000)
    total = sample_given_elapsed(dist, elapsed, rng)
    assert (total > elapsed).all()
    assert (total[elapsed == 40.0] <= 41.0).all() or dist.distribution in ("lognormal", "exponential")
    # Given 5 months served, the stay is drawn from the distribution beyond 5 months.
    beyond = drawn[drawn > 5.0]
    assert total[elapsed == 5.0].mean() == pytest.approx(beyond.mean(), rel=0.03)
