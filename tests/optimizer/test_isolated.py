"""Solver calls in worker processes (`optimizer.isolated`): a call whose worker dies or hangs costs that call
only; the others keep their results, and the pool carries on with fresh workers."""

from __future__ import annotations

import os

import numpy as np
import pytest

import optimizer.mip_search as mip_search
from optimizer.isolated import CRASHED, FAILED, OVERRAN, SolverPool
from tests.optimizer import failing_solves
from tests.optimizer.test_mip_search import _room_for, _setup

GENEROUS_S = 120.0  # far beyond any call here: only a call that never returns meets it


@pytest.fixture
def pool():
    p = SolverPool(2)
    yield p
    p.close()


def test_calls_run_in_other_processes_and_keep_their_order(pool):
    outcome = pool.map(failing_solves.pid_plus, [(k,) for k in range(5)], timeout_s=GENEROUS_S)
    assert outcome.failures == {}
    assert [value for _, value in outcome.results] == [1, 2, 3, 4, 5]
    assert all(pid != os.getpid() for pid, _ in outcome.results)


def test_a_call_that_raises_fails_alone(pool):
    outcome = pool.map(divmod, [(7, 2), (1, 0), (9, 4)], timeout_s=GENEROUS_S)
    assert outcome.results == [(3, 1), None, (2, 1)]
    assert outcome.failures == {1: FAILED}


def test_a_dead_worker_loses_its_call_and_is_replaced(pool):
    outcome = pool.map(failing_solves.die, [()], timeout_s=GENEROUS_S)
    assert outcome.results == [None] and outcome.failures == {0: CRASHED}
    after = pool.map(failing_solves.pid_plus, [(1,), (2,)], timeout_s=GENEROUS_S)
    assert after.failures == {} and [v for _, v in after.results] == [2, 3]


def test_a_hung_call_is_killed_and_the_pool_carries_on(pool):
    warm = pool.map(failing_solves.pid_plus, [(0,), (0,)], timeout_s=GENEROUS_S)  # workers started
    before = {pid for pid, _ in warm.results}
    outcome = pool.map(failing_solves.hang, [()], timeout_s=1.0)
    assert outcome.results == [None] and outcome.failures == {0: OVERRAN}
    after = pool.map(failing_solves.pid_plus, [(4,)], timeout_s=GENEROUS_S)
    assert after.failures == {} and after.results[0][1] == 5
    assert after.results[0][0] not in before  # the hung worker (and its pool) were replaced


class _DyingPool(SolverPool):
    """Workers that die on every call, whatever it is (a real death: the process exits)."""

    def map(self, fn, calls, timeout_s):
        return super().map(failing_solves.die, calls, timeout_s)


def test_a_neighbourhood_whose_worker_dies_changes_nothing():
    dying = _DyingPool(2)
    _, cap, _, cl = _setup(_room_for([2, 1, 3], waiting=8))
    rows = mip_search._Rows(cl, cap)
    x = np.zeros(len(cl.columns), dtype=np.int64)
    hoods = [mip_search._Neighbourhood(rows, np.nonzero(cl.columns.worker == j)[0]) for j in (0, 1)]
    shares = mip_search._shares(rows, hoods, x)
    log = mip_search.MipSearchLog()
    plans, all_failed = mip_search._solve_side_by_side(dying, rows, hoods, x, shares, [0, 1], log)
    assert plans == [None, None] and all_failed and log.failed == {CRASHED: 2}
    dying.close()


def test_workers_that_cannot_run_hand_the_search_to_this_process(monkeypatch):
    monkeypatch.setattr(mip_search, "shared_pool", lambda n: _DyingPool(n))
    _, cap, _, cl = _setup(_room_for([2, 1, 3], waiting=8))
    log = mip_search.MipSearchLog()
    x = mip_search.search(cl, cap, np.zeros(len(cl.columns), dtype=np.int64), seconds=30, threads=2, seed=0,
                          log=log)
    assert log.failed == {CRASHED: mip_search.FAILING_ROUNDS}  # one neighbourhood a round here, then no more
    assert log.workers == "this process" and log.as_dict()["workers"] == "this process"
    assert mip_search._Rows(cl, cap).placed(x) == 6  # the optimum, found in this process
