"""The LP relaxation of the placement stage, to choose which columns the CP-SAT model gets.

Why: on a large agency the complete model has ~10^5 columns; CP-SAT's own LP needs minutes to settle on
it (measured: 50,000 clients / 1,000 workers, root bound still moving after 60 s), while HiGHS' dual
simplex solves the same relaxation in seconds and its optimum uses only a few thousand columns. So the
CP-SAT model keeps: the columns the LP uses, each class's few most promising columns by reduced cost and
by preference (language, needs, travel), and the greedy plan's columns (so the greedy plan stays
feasible in it). When the complete model is small, CP-SAT gets all of it and no LP is needed.

The LP optimum (rounded down) is also a proven upper bound on placements for the complete model; it is
the reported bound when the CP-SAT model is a restriction (see `optimizer.solve`).
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, replace

import highspy
import numpy as np
import scipy.sparse as sp

from optimizer.classes import Classes, Columns, worker_facets
from optimizer.decode import place_rounded
from optimizer.eligibility import NO_LIMIT, WorkerCapacity

BY_REDUCED_COST = 6   # per class: the columns closest to entering the LP basis
BY_PREFERENCE = 2     # per class: the columns best for preferred language, needs and travel
ROUND_UP_PER_DIVE = 0  # measured: rounding up during the dive (20 or 100 a round) places fewer in the end
START_PER_CLASS = 2   # column generation starts from each class's roomiest workers, and adds at most
ADD_PER_ROUND = 8_000  # this many columns a round (measured, 50,000 clients: LP within 1% in 18 s, where 6 and
                       # 20,000 took 58 s to get within 2%: with fewer columns at a time each re-solve is short)
MAX_ROUNDS = 25
CLOSE_ENOUGH = 0.01  # column generation stops once its proven bound is within this share of the restricted LP
                     # (20,000 clients: the last two rounds only confirm the optimum, in 4 of 6 s; bound 2,001
                     # instead of 1,997)


@dataclass(slots=True)
class Relaxation:
    converged: bool           # every column priced out: ``objective`` is the LP optimum over all columns
    solved: bool              # an LP solution exists (possibly over a subset of columns): a guide, a bound
    objective: float          # proven upper bound on placements (the LP optimum once converged)
    values: np.ndarray        # per column
    reduced_cost: np.ndarray  # per column, >= 0 at the optimum (minimisation form); small = promising
    stop: str = ""            # why column generation stopped: optimal (converged), gap (within close_enough),
                              # budget (MAX_ROUNDS), time, or unsolved


def _matrix(cl: Classes, cap: WorkerCapacity, moves: bool,
            supply: np.ndarray | None = None) -> tuple[sp.csc_matrix, np.ndarray, np.ndarray]:
    """(A, b, upper) of the relaxation ``A x <= b, 0 <= x <= upper`` over every column.

    Without moves, move columns and unit columns that need room only moves could make get upper 0,
    and every worker gets its knapsack hull; with moves, sources of moves do not (their load can fall).
    """
    c = cl.columns
    n = len(c)
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    rhs: list[np.ndarray] = []
    idx = np.arange(n)
    room = np.maximum(cap.capacity - cap.kept_load, 0)
    upper = c.upper.astype(float).copy()
    if supply is not None:
        upper = np.minimum(upper, np.where(c.is_move, upper, supply[np.where(c.is_move, 0, c.group)]))
        upper = np.minimum(upper, np.maximum(cap.new_allowance[c.worker], 0))
    if not moves:
        upper[c.is_move | (c.weight > room[c.worker])] = 0.0
    n_classes = len(cl.classes)
    rows.append(np.where(c.is_move, n_classes + c.group, c.group))  # supply: classes, then move classes
    cols.append(idx)
    vals.append(np.ones(n))
    units = np.array([len(k.units) for k in cl.classes], float) if supply is None else supply.astype(float)
    rhs.append(np.concatenate([units, np.array([len(a.items) for a in cl.move_classes], float)]))
    base = n_classes + len(cl.move_classes)
    n_workers = len(cap.capacity)
    moving = np.nonzero(c.is_move)[0]
    rows += [base + c.worker, base + c.source[moving]]  # capacity: +weight at worker, -out_weight at source
    cols += [idx, moving]
    vals += [c.weight.astype(float), -c.out_weight[moving].astype(float)]
    rhs.append(room.astype(float))
    base += n_workers
    rows.append(base + c.worker)  # weekly intake
    cols.append(idx)
    vals.append(c.size.astype(float))
    rhs.append(np.minimum(cap.new_allowance, NO_LIMIT).astype(float))
    base += n_workers
    rows.append(np.full(len(moving), base))  # move budget (clients moved: an item's size)
    cols.append(moving)
    vals.append(c.size[moving].astype(float))
    rhs.append(np.array([float(cl.move_budget)]))
    base += 1
    order = np.argsort(c.worker, kind="stable")
    bounds = np.searchsorted(c.worker[order], np.arange(n_workers + 1))
    out_cols = moving[upper[moving] > 0]
    out_order = out_cols[np.argsort(c.source[out_cols], kind="stable")]
    out_bounds = np.searchsorted(c.source[out_order], np.arange(n_workers + 1))
    hull_rhs = []
    for j in range(n_workers):
        pos = order[bounds[j]:bounds[j + 1]]
        pos = pos[upper[pos] > 0]
        away = out_order[out_bounds[j]:out_bounds[j + 1]]
        if not len(pos):
            continue
        allowance = int(min(cap.new_allowance[j], np.sum(upper[pos] * c.size[pos])))
        for a, b, p, q, r in worker_facets(int(cap.high_weight[j]), int(cap.low_weight[j]), int(room[j]),
                                           allowance, bool(len(away))):
            rows.append(np.full(len(pos) + len(away), base))
            cols.append(np.concatenate([pos, away]))
            vals.append(np.concatenate([a * c.high[pos] + b * c.low[pos],
                                        -(p * c.out_weight[away] + q)]).astype(float))
            hull_rhs.append(float(r))
            base += 1
    rhs.append(np.array(hull_rhs))
    matrix = sp.csc_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(base, n))
    return matrix, np.concatenate(rhs), upper


def complete_rows(cl: Classes, cap: WorkerCapacity) -> tuple[sp.csc_matrix, np.ndarray, np.ndarray]:
    """`_matrix` with moves, built once per classes and capacity: a large agency's solve asks for it up to six
    times (the LP, the interior point, branch and cut and the neighbourhood search, the last two twice), and
    on 50,000 clients each build takes 0.57 s. The cache lives on ``cl``, so it goes when the classes go;
    nobody writes into the arrays it returns."""
    for held, rows in cl.rows_cache:
        if held is cap:
            return rows
    rows = _matrix(cl, cap, True)
    cl.rows_cache.append((cap, rows))
    return rows


def placement_cost(c: Columns) -> np.ndarray:
    """The placement stage's objective in HiGHS' minimising form: minus the clients each column places
    (a move column places nobody)."""
    return -np.where(c.is_move, 0, c.size).astype(float)


def lp_relaxation(cl: Classes, cap: WorkerCapacity, *, moves: bool = True, start: np.ndarray | None = None,
                  time_limit_s: float = 60.0, supply: np.ndarray | None = None,
                  close_enough: float = CLOSE_ENOUGH) -> Relaxation:
    """The placement stage's LP relaxation (each worker's knapsack hull included), by column generation.

    HiGHS solves it over a subset of columns (``start``, or each class's roomiest workers); the duals
    price every column at once (numpy), the ones that would improve the LP join, until none would.
    The result is the LP optimum over all columns, found touching only a fraction of them; stopped early
    by the time limit, or once the duals' bound is within ``close_enough`` of the restricted LP, its ``objective``
    is still a proven bound (from the duals) and ``converged`` is False.
    ``moves=False``: the relaxation without moves, which guides the large-agency first stage.
    ``supply`` (units left per class) and ``cap`` describe a residual problem when diving.
    """
    c = cl.columns
    n = len(c)
    if n == 0:
        return Relaxation(True, True, 0.0, np.zeros(0), np.zeros(0), "optimal")
    deadline = time.monotonic() + time_limit_s
    matrix, rhs, upper = complete_rows(cl, cap) if moves and supply is None else _matrix(cl, cap, moves, supply)
    objective = placement_cost(c)
    usable = upper > 0
    if start is None:
        room = (cap.capacity - cap.kept_load)[c.worker]
        start = _top_per_group(np.where(c.is_move, len(cl.classes) + c.group, c.group), -room.astype(float),
                               usable, START_PER_CLASS)
    highs = _new_highs()
    highs.setOptionValue("random_seed", 0)
    _add_rows(highs, rhs)
    current = np.zeros(0, dtype=np.int64)
    entering = np.unique(start[usable[start]]).astype(np.int64)
    reduced = np.zeros(n)
    last: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
    stop = "budget"
    for _ in range(MAX_ROUNDS):
        _add_columns(highs, matrix, objective, upper, entering)
        current = np.concatenate([current, entering])
        # HiGHS' time limit counts all its runs on this instance, not just the next one
        highs.setOptionValue("time_limit", highs.getRunTime() + max(1.0, deadline - time.monotonic()))
        highs.run()
        if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            if last is None:
                return Relaxation(False, False, float("inf"), np.zeros(n), np.full(n, np.inf), "unsolved")
            stop = "time"
            break  # out of time: the last optimal round still gives a guide and a proven bound
        solution = highs.getSolution()
        duals = np.asarray(solution.row_dual)
        last = (current.copy(), np.asarray(solution.col_value).copy(), duals)
        reduced = objective - matrix.T @ duals
        inside = np.zeros(n, dtype=bool)
        inside[current] = True
        entering = np.nonzero(usable & ~inside & (reduced < -1e-7))[0]
        restricted = -highs.getInfo().objective_function_value
        gap = _dual_bound(matrix, rhs, upper, objective, usable, duals) - restricted
        if not len(entering) or gap <= close_enough * max(restricted, 1.0) or time.monotonic() > deadline:
            stop = "optimal" if not len(entering) else "gap" if gap <= close_enough * max(restricted, 1.0) else "time"
            break
        entering = entering[np.argsort(reduced[entering], kind="stable")[:ADD_PER_ROUND]]
    assert last is not None
    in_model, col_values, duals = last
    values = np.zeros(n)
    values[in_model] = col_values
    reduced = objective - matrix.T @ duals
    bound = _dual_bound(matrix, rhs, upper, objective, usable, duals)
    return Relaxation(not len(entering), True, bound, values, np.where(usable, reduced, np.inf), stop)


def _dual_bound(matrix: sp.csc_matrix, rhs: np.ndarray, upper: np.ndarray, objective: np.ndarray,
                usable: np.ndarray, duals: np.ndarray) -> float:
    """A proven upper bound on placements from any duals (weak duality with column bounds):
    placements <= -(b.y + sum min(0, rc) u). Once every column prices out it is the LP optimum."""
    y = np.minimum(duals, 0.0)  # sign-feasible duals for <= rows (HiGHS' are, up to tolerance)
    rc = objective - matrix.T @ y
    return -float(rhs @ y + np.minimum(0.0, rc[usable]) @ upper[usable])


def dive(cl: Classes, cap: WorkerCapacity, state, guide: Relaxation, order: list[int], *, rounds: int,
         deadline: float, fill) -> int:
    """LP diving: fix the whole part of the LP solution, re-solve the LP over what is left (the units
    still waiting, the room and intake still free), and repeat; then round the last solution up where
    units still fit, and fill. Returns units placed into ``state`` (placements only accumulate).
    """
    placed = 0
    values = guide.values
    support = np.nonzero(values > 1e-6)[0]
    for _ in range(rounds):
        got = place_rounded(cl, state, values, round_up=ROUND_UP_PER_DIVE)
        placed += got
        if not got or time.monotonic() > deadline:
            break
        waiting = np.array([sum(state.unit_worker[u] < 0 for u in cls.units) for cls in cl.classes])
        residual = replace(cap, kept_load=state.load.copy(), new_allowance=cap.new_allowance - state.new)
        res = lp_relaxation(cl, residual, moves=False, start=support, supply=waiting,
                            time_limit_s=max(1.0, deadline - time.monotonic()))
        if not res.solved:
            break
        values = res.values
        support = np.union1d(support, np.nonzero(values > 1e-6)[0])
    placed += place_rounded(cl, state, values) + fill(state, order)
    return placed


def _new_highs() -> highspy.Highs:
    """A silent HiGHS instance. HiGHS prints a banner on stdout (the C stream) the first time one is made
    in a process; it is sent to /dev/null, as the CLI's stdout is the coordinator's screen."""
    global _BANNER_SHOWN
    if not _BANNER_SHOWN:
        _BANNER_SHOWN = True
        sys.stdout.flush()
        saved = os.dup(1)
        try:
            with open(os.devnull, "w") as null:
                os.dup2(null.fileno(), 1)
                highs = highspy.Highs()
        finally:
            os.dup2(saved, 1)
            os.close(saved)
    else:
        highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    return highs


_BANNER_SHOWN = False


def _add_rows(highs: highspy.Highs, rhs: np.ndarray) -> None:
    """The rows of ``A x <= rhs``, empty: columns bring their coefficients (`_add_columns`)."""
    n_rows = len(rhs)
    highs.addRows(n_rows, np.full(n_rows, -highspy.kHighsInf), rhs, 0, np.zeros(n_rows, dtype=np.int32),
                  np.zeros(0, dtype=np.int32), np.zeros(0))


def _add_columns(highs: highspy.Highs, matrix: sp.csc_matrix, objective: np.ndarray, upper: np.ndarray,
                 cols: np.ndarray) -> None:
    if not len(cols):
        return
    sub = matrix[:, cols]
    highs.addCols(len(cols), objective[cols], np.zeros(len(cols)), upper[cols], sub.nnz,
                  sub.indptr[:-1].astype(np.int32), sub.indices.astype(np.int32), sub.data)


def _top_per_group(group: np.ndarray, score: np.ndarray, mask: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k lowest-score columns in each group (among ``mask``)."""
    idx = np.nonzero(mask)[0]
    if not len(idx):
        return idx
    order = idx[np.lexsort((idx, score[idx], group[idx]))]
    g = group[order]
    first = np.searchsorted(g, g)  # position of each group's first entry (g is sorted)
    rank = np.arange(len(order)) - first
    return order[rank < k]


def choose_columns(cl: Classes, lp: Relaxation, keep: np.ndarray) -> np.ndarray:
    """The columns the CP-SAT model gets: LP support, promising ones per class, and ``keep``."""
    c = cl.columns
    chosen = [np.nonzero(lp.values > 1e-6)[0], keep]
    units = ~c.is_move
    chosen.append(_top_per_group(c.group, lp.reduced_cost, units, BY_REDUCED_COST))
    preference = -(c.lang.astype(float) * 1e9 + c.needs * 1e6) + c.travel
    chosen.append(_top_per_group(c.group, preference, units, BY_PREFERENCE))
    chosen.append(_top_per_group(c.group, lp.reduced_cost, c.is_move, BY_REDUCED_COST))
    return np.unique(np.concatenate(chosen)).astype(np.int64)
