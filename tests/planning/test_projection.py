"""The projection over time: same seeds with and without hires, language pools, the smallest FTE search."""

from __future__ import annotations

import logging
from datetime import date, timedelta

import numpy as np
import pytest

from caseload.domain import Agency, Candidate, Client, NeedLevel, Policy, Status, Worker
from planning.projection import hire_ladder, project, smallest_fte_for_wait

AS_OF = date(2027, 3, 1)
QUICK = {"months": 6, "replications": 4, "seed": 3, "processes": 1, "attrition_per_year": 0.0}


def _agency(tigrinya_waiting: int = 6, english_waiting: int = 30, english_workers: int = 2) -> Agency:
    """English-speaking workers near their targets, English and Tigrinya speakers waiting, recent referrals."""
    staff = [Worker(f"w{i}", 1.0, ("en",)) for i in range(english_workers)]
    clients = []
    for i in range(40 * english_workers):
        clients.append(Client(f"a{i}", NeedLevel.LOW, ("en",), status=Status.ACTIVE,
                              worker_id=f"w{i % english_workers}", referral_date=AS_OF - timedelta(days=100 + i),
                              intake_date=AS_OF - timedelta(days=90)))
    for i in range(english_waiting):
        clients.append(Client(f"e{i}", NeedLevel.HIGH if i % 3 == 0 else NeedLevel.LOW, ("en",),
                              referral_date=AS_OF - timedelta(days=5 + 2 * i)))
    for i in range(tigrinya_waiting):
        clients.append(Client(f"t{i}", NeedLevel.LOW, ("ti",), referral_date=AS_OF - timedelta(days=20 + i)))
    return Agency(clients, staff, Policy(), as_of=AS_OF)


ENGLISH = Candidate("english", 1.0, ("en",))
TIGRINYA = Candidate("tigrinya", 1.0, ("ti",))


def test_with_hires_never_worse_paired_on_the_same_seeds() -> None:
    agency = _agency()
    p = project(agency, [ENGLISH.hire(1), TIGRINYA.hire(1)], **QUICK)
    # Month 0 is today for both; same seeds give the same referrals: the difference is the hires'.
    np.testing.assert_array_equal(p.waitlist_with[:, 0], p.waitlist_without[:, 0])
    assert (p.waitlist_with <= p.waitlist_without).all()
    assert (p.waitlist_with[:, 1:] < p.waitlist_without[:, 1:]).any()
    assert (p.p90_with.mean(axis=0) <= p.p90_without.mean(axis=0) + 1e-9).all()
    frame = p.frame
    assert set(frame["plan"]) == {"without", "with", "difference"}
    assert len(frame) == 2 * 3 * (QUICK["months"] + 1)
    summary = p.to_dict()
    assert summary["worst_p90_wait_months"]["with"] <= summary["worst_p90_wait_months"]["without"]


def test_the_same_seed_gives_the_same_projection() -> None:
    agency = _agency()
    a = project(agency, [ENGLISH.hire(1)], **QUICK)
    b = project(agency, [ENGLISH.hire(1)], **QUICK)
    np.testing.assert_array_equal(a.waitlist_with, b.waitlist_with)
    np.testing.assert_array_equal(a.p90_with, b.p90_with)


def test_a_pool_with_no_worker_for_its_language_keeps_its_clients_waiting() -> None:
    """English hires do nothing for the Tigrinya speakers: they wait the whole horizon, and their wait grows."""
    agency = _agency(english_waiting=0)
    p = project(agency, [ENGLISH.hire(1), ENGLISH.hire(2)], **QUICK)
    assert (p.waitlist_with[:, 1:] >= 6).all()
    months = np.arange(QUICK["months"] + 1)
    # Counted from today, today's six Tigrinya speakers have waited the whole of every month so far.
    np.testing.assert_allclose(p.p90_with.mean(axis=0)[1:], months[1:])
    q = project(agency, [TIGRINYA.hire(1)], **QUICK)
    assert (q.waitlist_with[:, 1] < 6).all()  # one Tigrinya speaker places them in the first month


def test_ladder_serves_the_most_stretched_pool_first() -> None:
    ladder = hire_ladder(_agency(), [ENGLISH, TIGRINYA], max_added_fte=3.0)
    assert ladder[0] is TIGRINYA  # nobody serves the Tigrinya pool: infinitely stretched
    assert sum(c.fte for c in ladder) <= 3.0
    limited = hire_ladder(_agency(), [ENGLISH, Candidate("t1", 1.0, ("ti",), max_hires=1)], max_added_fte=5.0)
    assert sum(1 for c in limited if c.candidate_id == "t1") <= 1


@pytest.mark.parametrize("target", [2.0, 4.0])
def test_the_search_returns_the_smallest_rung_that_meets_the_target(target: float) -> None:
    """Every rung run by hand: the search's answer is the first that meets the target (a monotone check)."""
    agency = _agency()
    ladder = [TIGRINYA, ENGLISH, ENGLISH, ENGLISH]
    found = smallest_fte_for_wait(agency, [], target_wait_months=target, ladder=ladder, **QUICK)
    worst = []
    for rung in range(len(ladder) + 1):
        counts: dict[str, int] = {}
        hires = []
        for c in ladder[:rung]:
            counts[c.candidate_id] = counts.get(c.candidate_id, 0) + 1
            hires.append(c.hire(counts[c.candidate_id]))
        worst.append(project(agency, hires, **QUICK).worst_p90(True))
    assert all(b <= a + 1e-9 for a, b in zip(worst, worst[1:], strict=False))  # monotone on this instance
    meets = [r for r, w in enumerate(worst) if w <= target]
    expected = meets[0] if meets else None
    assert (found.added_fte is None) == (expected is None)
    if expected is not None:
        assert found.added_fte == pytest.approx(float(expected))
        assert sum(found.hires.values()) == expected
    for rung, value in found.worst_p90_by_rung.items():
        assert value == pytest.approx(worst[rung])


def test_the_search_says_when_the_target_is_out_of_reach() -> None:
    agency = _agency()
    found = smallest_fte_for_wait(agency, [], target_wait_months=0.01, ladder=[ENGLISH], **QUICK)
    assert found.added_fte is None and found.hires == {}
    assert found.to_dict()["met"] is False


def test_the_search_on_dask_finds_the_same_rung() -> None:
    """With a scheduler, rungs run as Dask tasks several at a time; the answer does not change."""
    from dask.distributed import LocalCluster

    agency = _agency()
    ladder = [TIGRINYA, ENGLISH, ENGLISH, ENGLISH]
    here = smallest_fte_for_wait(agency, [], target_wait_months=2.0, ladder=ladder, **QUICK)
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None,
                      silence_logs=logging.ERROR) as cluster:
        there = smallest_fte_for_wait(agency, [], target_wait_months=2.0, ladder=ladder,
                                      scheduler=cluster.scheduler_address, batch=2, **QUICK)
    assert there.added_fte == here.added_fte and there.hires == here.hires
    for rung, value in there.worst_p90_by_rung.items():
        assert value == pytest.approx(here.worst_p90_by_rung.get(rung, value))
