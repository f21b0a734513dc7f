"""HiGHS' neighbourhood search (`optimizer.mip_search`): it never places fewer than its start, its plans
keep every row, and neighbourhoods solved side by side share what they both draw on."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings

import optimizer.mip_search as mip_search
from optimizer.classes import build_classes
from optimizer.decode import plan_columns
from optimizer.eligibility import compute_eligibility, worker_capacity
from optimizer.greedy import greedy_fill
from optimizer.mip import branch_and_cut
from optimizer.units import ranked, rule_family_one_worker
from tests.optimizer.agencies import agency, caseload, client, worker
from tests.optimizer.strategies import agencies


def _setup(ag):
    el = compute_eligibility(ag)
    cap = worker_capacity(ag, el)
    units = rule_family_one_worker(ag, el)
    return el, cap, units, build_classes(ag, el, cap, units, ranked(units))


def _room_for(n_low_free: list[int], waiting: int):
    """Workers with room for the given numbers of low-need clients, all speaking the waiting clients'
    language, so every worker is linked to every other by the one class."""
    clients = [c for k, free in enumerate(n_low_free) for c in caseload(f"W{k}", n_low=50 - free)]
    clients += [client(f"C{n}") for n in range(waiting)]
    return agency(clients, [worker(f"W{k}") for k in range(len(n_low_free))])


def test_search_fills_the_room_an_empty_plan_leaves():
    _, cap, _, cl = _setup(_room_for([2, 1, 3], waiting=8))
    log = mip_search.MipSearchLog()
    x = mip_search.search(cl, cap, np.zeros(len(cl.columns), dtype=np.int64), seconds=5, threads=2, seed=0, log=log)
    best = branch_and_cut(cl, cap, None, None, time_limit_s=10, node_limit=100, seed=0)
    rows = mip_search._Rows(cl, cap)
    assert rows.holds(x)
    assert rows.placed(x) == best.placements(cl) == 6
    assert log.placed_before == 0 and log.placed_after == 6 and log.improved >= 1


def test_side_by_side_neighbourhoods_split_a_shared_class():
    # one waiting client, two workers with room: each neighbourhood alone would place the client
    _, cap, _, cl = _setup(_room_for([1, 1], waiting=1))
    rows = mip_search._Rows(cl, cap)
    c = cl.columns
    x = np.zeros(len(c), dtype=np.int64)
    hoods = [mip_search._Neighbourhood(rows, np.nonzero(~c.is_move & (c.worker == j))[0]) for j in (0, 1)]
    shares = mip_search._shares(rows, hoods, x)
    plans = [mip_search._solve_neighbourhood(rows, h, x, s, seed=0) for h, s in zip(hoods, shares, strict=True)]
    together = x + sum(y - x for y in plans)
    assert rows.holds(together)
    assert [rows.placed(y) for y in plans] == [1, 0]  # the first gets the slack, the second none
    alone = mip_search._solve_neighbourhood(rows, hoods[1], x, rows.rhs, seed=0)
    assert rows.placed(alone) == 1  # without the split the second would have taken the client too


def test_search_keeps_a_better_plan_and_counts_its_work(monkeypatch):
    monkeypatch.setattr(mip_search, "NEIGHBOURHOOD_WORKERS", 1)  # one worker each, two side by side
    _, cap, _, cl = _setup(_room_for([1, 1, 1, 1], waiting=3))
    log = mip_search.MipSearchLog()
    x = mip_search.search(cl, cap, np.zeros(len(cl.columns), dtype=np.int64), seconds=5, threads=2, seed=3, log=log)
    rows = mip_search._Rows(cl, cap)
    assert rows.holds(x) and rows.placed(x) == 3
    assert log.work > 0 and log.rounds >= 2


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(agencies())
def test_search_never_places_fewer_and_breaks_no_row(ag):
    el, cap, units, cl = _setup(ag)
    start = plan_columns(cl, greedy_fill(el, cap, units))
    rows = mip_search._Rows(cl, cap)
    x = mip_search.search(cl, cap, start, seconds=0.5, threads=2, seed=1)
    if not rows.holds(start):  # a greedy placement the classes cannot express: the search leaves it
        assert np.array_equal(x, start)
        return
    assert rows.holds(x)
    assert rows.placed(x) >= rows.placed(start)


def test_search_drops_a_move_the_placements_do_not_need():
    # W0 is full and W1 has room: a plan that moves a client off W0 to place the waiting one there places
    # no more than placing them with W1 directly, and the move would hold budget other workers could use
    _, cap, _, cl = _setup(_room_for([0, 3], waiting=1))
    rows = mip_search._Rows(cl, cap)
    c = cl.columns
    x = np.zeros(len(c), dtype=np.int64)
    x[np.nonzero(c.is_move & (c.source == 0) & (c.worker == 1))[0][0]] = 1
    x[np.nonzero(~c.is_move & (c.worker == 0))[0][0]] = 1
    assert rows.holds(x) and rows.score(x) == (1, -1)
    log = mip_search.MipSearchLog()
    y = mip_search.search(cl, cap, x, seconds=5, threads=2, seed=0, log=log)
    assert rows.holds(y)
    assert rows.score(y) == (1, 0)
    assert log.improved >= 1 and log.placed_after == 1
