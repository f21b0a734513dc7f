"""Large-neighbourhood search with HiGHS over the class model's columns, neighbourhoods solved in parallel.

Why: on a large agency branch and cut over the whole model stalls at its root (6,000 clients: the
LP-guided restriction's root takes most of its share and caps the plan at that restriction's bound,
584-585), and CP-SAT's neighbourhoods (`optimizer.neighbourhoods`) are only a few workers wide, because
CP-SAT is weak on these knapsack rows. HiGHS proves a neighbourhood of about fifteen workers, with every
column they own, in a second or two: its cuts close the room each worker's load row leaves. Measured on
the 6,000-client benchmark agency (2 cores): from branch and cut's 576-579 placements, 580-583 after
10-15 s, where the CP-SAT search added 0-1; 50,000 clients: 2,600 -> 2,702 in 60 s. It levels off: from
582, neither 90 s of it (neighbourhoods of 15-75 workers) nor HiGHS on every column for 150 s found more.

A neighbourhood is a few workers linked by shared classes (`neighbourhoods._grow`); its columns are the
unit columns to its workers and the move columns out of them. Every other column keeps its value: it is
folded into the rows' right-hand sides, so the sub-model holds only the neighbourhood's columns and the
rows they touch, and its optimum never places fewer than the plan (the plan is its start). Among plans
placing as many it prefers fewer moves, so move budget a neighbourhood does not need goes back to the
others (on 6,000 clients the budget is spent whole, and a move can only be re-placed by a neighbourhood
holding both its old and its new use). Each round
solves one disjoint neighbourhood per thread from the same plan, each in a worker process
(`optimizer.isolated`: two HiGHS instances in two threads of one process once aborted it); rows they share
(a class's waiting clients, the move budget) have their slack split between them, so their changes add up.
A neighbourhood whose worker fails is counted in the log and changes nothing.

Determinism: neighbourhoods are drawn from the seed and the search stops on a work count (columns
searched, COLUMNS_PER_SECOND times its time share) or a run of rounds without a gain, so the same seed
visits the same neighbourhoods; the clock is a safety net. A neighbourhood whose root outlasts
SUB_SECONDS stops on the clock: HiGHS offers no work limit inside its root (see `optimizer.mip`), so on
large agencies two runs can differ there.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from caseload.processes import main_is_importable
from optimizer.classes import Classes
from optimizer.eligibility import WorkerCapacity
from optimizer.isolated import SolverPool, shared_pool
from optimizer.lp import _add_columns, _add_rows, _new_highs, complete_rows
from optimizer.mip import FEASIBILITY_TOLERANCE, rows_hold, solve_integer
from optimizer.neighbourhoods import _grow, worker_links

NEIGHBOURHOOD_WORKERS = 15  # measured on 6,000 clients: 12-25 workers reach 580-583 in 10-15 s; 10 is slower
SUB_SECONDS = 2.0           # a neighbourhood's safety limit (most finish, proven, in 0.1-1.5 s)
COLUMNS_PER_SECOND = 16_000  # the deterministic stop: a round's work is its neighbourhoods' mean number of
                            # columns; the search ends when the rounds' work passes seconds x this (measured on
                            # 50,000 clients: 12 rounds of ~12,500 columns in 9.3 s; on 6,000 clients rounds of
                            # ~1,500 columns take ~0.5 s, so there the clock ends it first)
STALL_SWEEPS = 6            # ... or after rounds without a gain that could have visited every worker this often
MIN_STALL_ROUNDS = 10       # (150 workers, 2 threads: 30 rounds, as before; 1,000 workers: 200), at least this
FAILING_ROUNDS = 3          # rounds in a row whose every neighbourhood failed: the search goes on in this process
HANG_MARGIN_S = 8.0         # a neighbourhood still running this long past SUB_SECONDS is killed (its HiGHS has
                            # stopped checking its clock, as its RENS once did for 12 minutes in the planner)


@dataclass(slots=True)
class MipSearchLog:
    rounds: int = 0
    neighbourhoods: int = 0
    improved: int = 0
    combined: int = 0
    work: int = 0
    placed_before: int = 0
    placed_after: int = 0
    failed: dict[str, int] = field(default_factory=dict)  # neighbourhoods lost, by how (`optimizer.isolated`)
    workers: str = ""  # where neighbourhoods were solved last: "processes" (side by side) or "this process"
    stop: str = ""  # optimal (the proven ceiling reached), stalled, budget (its work count), time
    trace: list[tuple[float, int]] = field(default_factory=list)  # (time.monotonic(), placed) at each gain

    def as_dict(self) -> dict:
        return {"rounds": self.rounds, "neighbourhoods": self.neighbourhoods, "improved": self.improved,
                "combined": self.combined, "work_columns": self.work, "placed_before": self.placed_before,
                "placed_after": self.placed_after, "failed": dict(self.failed), "workers": self.workers,
                "stop": self.stop}


def start_workers(threads: int) -> None:
    """Start the worker processes a search on ``threads`` will use, in the background (`SolverPool.start`)."""
    if threads > 1:
        shared_pool(threads).start()


def stall_rounds(n_workers: int, threads: int) -> int:
    """Rounds without a gain before the search stops: a larger agency needs more rounds to visit its workers."""
    per_round = max(1, threads) * NEIGHBOURHOOD_WORKERS
    return max(MIN_STALL_ROUNDS, int(np.ceil(STALL_SWEEPS * n_workers / per_round)))


class _Rows:
    """The model's rows ``A x <= b, 0 <= x <= upper`` over every column, built once per search."""

    def __init__(self, cl: Classes, cap: WorkerCapacity):
        matrix, self.rhs, self.upper = complete_rows(cl, cap)
        self.matrix: sp.csc_matrix = matrix.tocsc()
        c = cl.columns
        self.placements = np.where(c.is_move, 0, c.size).astype(np.int64)
        self.moves = np.where(c.is_move, c.size, 0).astype(np.int64)
        # a neighbourhood's objective: placements, then fewer moves (worth less than one placement in all),
        # so a neighbourhood that can do with fewer moves frees move budget for the others
        self.cost = -self.placements + self.moves / (2.0 * cl.move_budget + 2.0)

    def holds(self, x: np.ndarray) -> bool:
        return rows_hold(self.matrix, self.rhs, self.upper, x)

    def placed(self, x: np.ndarray) -> int:
        return int(self.placements @ x)

    def score(self, x: np.ndarray) -> tuple[int, int]:
        """Placements, then fewer moves: what a round keeps the best of."""
        return int(self.placements @ x), -int(self.moves @ x)


class _Neighbourhood:
    """A neighbourhood's columns, their part of the matrix, and the rows they touch."""

    def __init__(self, rows: _Rows, free: np.ndarray):
        self.free = free
        self.matrix: sp.csc_matrix = rows.matrix[:, free]
        self.touched = np.unique(self.matrix.indices)


def _shares(rows: _Rows, hoods: list[_Neighbourhood], x: np.ndarray) -> list[np.ndarray]:
    """Each neighbourhood's right-hand sides: what its own columns use in ``x`` plus its share of each
    row's slack (split evenly where neighbourhoods share a row, e.g. a class's waiting clients or the
    move budget), so whatever each finds, their changes fit the rows together."""
    slack = np.maximum(rows.rhs - rows.matrix @ x, 0.0)
    count = np.zeros(len(slack), dtype=np.int64)
    for hood in hoods:
        count[hood.touched] += 1
    each = np.floor(slack / np.maximum(count, 1) + FEASIBILITY_TOLERANCE)
    left_over = slack - each * count
    out = []
    first = np.ones(len(slack), dtype=bool)
    for hood in hoods:
        t = hood.touched
        rhs = hood.matrix @ x[hood.free] + each
        rhs[t[first[t]]] += left_over[t[first[t]]]
        first[t] = False
        out.append(rhs)
    return out


def _sub_problem(rows: _Rows, hood: _Neighbourhood, x: np.ndarray, rhs: np.ndarray, seed: int) -> tuple:
    """What a worker process needs to solve a neighbourhood (`_solve_sub`): its columns' part of the rows
    it touches, their right-hand sides, costs, bounds and start; a few thousand columns, cheap to send."""
    free = hood.free
    return (hood.matrix[hood.touched, :].tocsc(), rhs[hood.touched], rows.cost[free], rows.upper[free], x[free],
            int(seed))


def _solve_sub(matrix: sp.csc_matrix, rhs: np.ndarray, cost: np.ndarray, upper: np.ndarray, start: np.ndarray,
               seed: int) -> np.ndarray | None:
    """Most placements over a neighbourhood's columns (`_sub_problem`): their values, or None."""
    highs = _new_highs()
    highs.setOptionValue("random_seed", int(seed) % 2_147_483_647)
    highs.setOptionValue("mip_rel_gap", 0.0)
    highs.setOptionValue("mip_abs_gap", 0.5)  # the moves' part is under 0.5 in all: proves placements, not moves
    highs.setOptionValue("time_limit", SUB_SECONDS)
    _add_rows(highs, rhs)
    _add_columns(highs, matrix, cost, upper, np.arange(matrix.shape[1]))
    return solve_integer(highs, matrix.shape[1], start)


def _whole_plan(hood: _Neighbourhood, x: np.ndarray, values: np.ndarray | None) -> np.ndarray | None:
    if values is None:
        return None
    y = x.copy()
    y[hood.free] = values
    return y


def _solve_neighbourhood(rows: _Rows, hood: _Neighbourhood, x: np.ndarray, rhs: np.ndarray,
                         seed: int) -> np.ndarray | None:
    """Most placements over the neighbourhood's columns within ``rhs``, the others held at ``x``; the whole
    plan, or None. In this process: for one neighbourhood at a time (a search on one thread, tests)."""
    if not len(hood.free):
        return None
    return _whole_plan(hood, x, _solve_sub(*_sub_problem(rows, hood, x, rhs, seed)))


def _solve_side_by_side(pool: SolverPool, rows: _Rows, hoods: list[_Neighbourhood], x: np.ndarray,
                        shares: list[np.ndarray], seeds: list[int],
                        log: MipSearchLog) -> tuple[list[np.ndarray | None], bool]:
    """Each neighbourhood's whole plan (or None), solved at once in the pool's worker processes (see
    `optimizer.isolated` for why not threads), and whether every solve failed; a neighbourhood whose solve
    failed gives None and is counted."""
    solvable = [k for k, hood in enumerate(hoods) if len(hood.free)]
    calls = [_sub_problem(rows, hoods[k], x, shares[k], seeds[k]) for k in solvable]
    outcome = pool.map(_solve_sub, calls, timeout_s=SUB_SECONDS + HANG_MARGIN_S)
    for how in outcome.failures.values():
        log.failed[how] = log.failed.get(how, 0) + 1
    plans: list[np.ndarray | None] = [None] * len(hoods)
    for k, values in zip(solvable, outcome.results, strict=True):
        plans[k] = _whole_plan(hoods[k], x, values)
    return plans, bool(calls) and len(outcome.failures) == len(calls)


def search(cl: Classes, cap: WorkerCapacity, values: np.ndarray, *, seconds: float, threads: int, seed: int,
           allowed: np.ndarray | None = None, log: MipSearchLog | None = None,
           ceiling: int | None = None) -> np.ndarray:
    """Column values placing at least as many as ``values`` (a plan the columns hold whole), changing only
    the ``allowed`` columns (a mask; all when None); it stops early once it places ``ceiling`` (a proven
    bound on placements) or stalls (`stall_rounds`)."""
    log = log if log is not None else MipSearchLog()
    c = cl.columns
    rows = _Rows(cl, cap)
    x = values.astype(np.int64).copy()
    log.placed_before = log.placed_after = rows.placed(x)
    log.stop = "nothing to search"
    if not len(c) or not rows.holds(x):
        return values
    n_workers = len(cap.capacity)
    owner = np.where(c.is_move, c.source, c.worker)
    usable = rows.upper > 0
    if allowed is not None:
        usable &= allowed
    links = worker_links(cl, np.nonzero(usable)[0], n_workers)
    seeds = np.nonzero([len(nbrs) > 0 for nbrs in links])[0]
    if not len(seeds):
        return values
    rng = np.random.default_rng(seed)
    threads = max(1, int(threads))
    deadline = time.monotonic() + seconds
    budget = seconds * COLUMNS_PER_SECOND
    stalled = 0
    patience = stall_rounds(n_workers, threads)
    log.stop = ""
    pool = shared_pool(threads) if threads > 1 and main_is_importable() else None
    log.workers = "processes" if pool is not None else "this process"
    failing = 0
    for r in itertools.count():
        if ceiling is not None and rows.placed(x) >= ceiling:
            log.stop = "optimal"
        elif log.work >= budget:
            log.stop = "budget"
        elif stalled >= patience:
            log.stop = "stalled"
        elif time.monotonic() + 0.5 > deadline:
            log.stop = "time"
        if log.stop:
            break
        hoods = []
        taken = np.zeros(n_workers, dtype=bool)
        # disjoint neighbourhoods, so their changes can add up; in this process one a round, which then has
        # every shared row's slack to itself
        for _ in range(threads if pool is not None else 1):
            inside = np.zeros(n_workers, dtype=bool)
            inside[_grow(links, int(rng.choice(seeds)), NEIGHBOURHOOD_WORKERS, rng)] = True
            inside &= ~taken
            taken |= inside
            hoods.append(_Neighbourhood(rows, np.nonzero(inside[owner] & usable)[0]))
        shares = _shares(rows, hoods, x)
        hood_seeds = [seed + 7919 * r + k for k in range(len(hoods))]
        if pool is None:
            plans = [_solve_neighbourhood(rows, hoods[0], x, shares[0], hood_seeds[0])]
        else:
            plans, all_failed = _solve_side_by_side(pool, rows, hoods, x, shares, hood_seeds, log)
            failing = failing + 1 if all_failed else 0
        log.rounds += 1
        log.neighbourhoods += len(hoods)
        log.work += int(np.mean([len(hood.free) for hood in hoods]))
        if failing >= FAILING_ROUNDS:
            # every neighbourhood of these rounds failed: the workers cannot run (a main script without
            # ``if __name__ == "__main__":``, say); one neighbourhood at a time in this process is safe
            pool, failing = None, 0
            log.workers = "this process"
        better = [y for y in plans if y is not None and rows.score(y) > rows.score(x) and rows.holds(y)]
        stalled = 0 if better else stalled + 1
        if not better:
            continue
        log.improved += len(better)
        best = max(better, key=rows.score)
        together = x + sum(y - x for y in better)  # fits the rows by the shares, checked all the same
        if len(better) > 1 and rows.holds(together) and rows.score(together) > rows.score(best):
            best = together
            log.combined += 1
        x = best
        log.trace.append((time.monotonic(), rows.placed(x)))
    log.placed_after = rows.placed(x)
    return x
