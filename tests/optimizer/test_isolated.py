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


def test_a_neighbourhood_whose_worker_dies_leaves_the_plan_as_it_was(monkeypatch):
    monkeypatch.setattr(mip_search, "_solve_sub", failing_solves.die)
    monkeypatch.setattr(mip_search, "shared_pool", lambda n: SolverPool(n))
    _, cap, _, cl = _setup(_room_for([2, 1, 3], waiting=8))
    start = np.zeros(len(cl.columns), dtype=np.int64)
    log = mip_search.MipSearchLog()
    x = mip_search.search(cl, cap, start, seconds=5, threads=2, seed=0, log=log)
    assert np.array_equal(x, start)
    assert log.stop == "workers failed" and log.rounds == mip_search.FAILING_ROUNDS  # not the whole stall
    assert log.failed == {CRASHED: log.rounds} and log.improved == 0  # one neighbourhood a round here
    assert log.as_dict()["failed"] == log.failed
