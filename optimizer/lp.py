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

import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

from optimizer.classes import Classes, knapsack_hull
from optimizer.eligibility import NO_LIMIT, WorkerCapacity

BY_REDUCED_COST = 6   # per class: the columns closest to entering the LP basis
BY_PREFERENCE = 2     # per class: the columns best for preferred language, needs and travel
START_PER_CLASS = 6   # column generation starts from each class's roomiest workers
ADD_PER_ROUND = 30_000
MAX_ROUNDS = 25


@dataclass(slots=True)
class Relaxation:
    ok: bool                  # converged: ``objective`` is the LP optimum over all columns (a proven bound)
    solved: bool              # an LP solution exists (possibly over a subset of columns): usable as a guide
    objective: float          # LP optimum: placements (upper bound for the complete model)
    values: np.ndarray        # per column
    reduced_cost: np.ndarray  # per column, >= 0 at the optimum (minimisation form); small = promising


def _matrix(cl: Classes, cap: WorkerCapacity, moves: bool) -> tuple[sp.csc_matrix, np.ndarray, np.ndarray]:
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
    if not moves:
        upper[c.is_move | (c.weight > room[c.worker])] = 0.0
    n_classes = len(cl.classes)
    rows.append(np.where(c.is_move, n_classes + c.group, c.group))  # supply: classes, then move classes
    cols.append(idx)
    vals.append(np.ones(n))
    rhs.append(np.array([len(k.units) for k in cl.classes] + [len(a.clients) for a in cl.move_classes], float))
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
    rows.append(np.full(len(moving), base))  # move budget
    cols.append(moving)
    vals.append(np.ones(len(moving)))
    rhs.append(np.array([float(cl.move_budget)]))
    base += 1
    sources = set(c.source[moving].tolist()) if moves else set()
    order = np.argsort(c.worker, kind="stable")
    bounds = np.searchsorted(c.worker[order], np.arange(n_workers + 1))
    hull_rhs = []
    for j in range(n_workers):
        pos = order[bounds[j]:bounds[j + 1]]
        pos = pos[upper[pos] > 0]
        if not len(pos) or j in sources:
            continue
        allowance = int(min(cap.new_allowance[j], np.sum(upper[pos] * c.size[pos])))
        for a, b, r in knapsack_hull(int(cap.high_weight[j]), int(cap.low_weight[j]), int(room[j]), allowance):
            rows.append(np.full(len(pos), base))
            cols.append(pos)
            vals.append((a * c.high[pos] + b * c.low[pos]).astype(float))
            hull_rhs.append(float(r))
            base += 1
    rhs.append(np.array(hull_rhs))
    matrix = sp.csc_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(base, n))
    return matrix, np.concatenate(rhs), upper


def lp_relaxation(cl: Classes, cap: WorkerCapacity, *, moves: bool = True, start: np.ndarray | None = None,
                  time_limit_s: float = 60.0) -> Relaxation:
    """The placement stage's LP relaxation (each worker's knapsack hull included), by column generation.

    HiGHS solves it over a subset of columns (``start``, or each class's roomiest workers); the duals
    price every column at once (numpy), the ones that would improve the LP join, until none would.
    The result is the LP optimum over all columns, found touching only a fraction of them.
    ``moves=False``: the relaxation without moves, which guides the large-agency first stage.
    """
    c = cl.columns
    n = len(c)
    if n == 0:
        return Relaxation(True, True, 0.0, np.zeros(0), np.zeros(0))
    deadline = time.monotonic() + time_limit_s
    matrix, rhs, upper = _matrix(cl, cap, moves)
    objective = -np.where(c.is_move, 0, c.size).astype(float)
    usable = upper > 0
    if start is None:
        room = (cap.capacity - cap.kept_load)[c.worker]
        start = _top_per_group(np.where(c.is_move, len(cl.classes) + c.group, c.group), -room.astype(float),
                               usable, START_PER_CLASS)
    current = np.unique(start[usable[start]])
    for _ in range(MAX_ROUNDS):
        sub = matrix[:, current]
        res = linprog(objective[current], A_ub=sub, b_ub=rhs, bounds=np.stack([np.zeros(len(current)),
                      upper[current]], axis=1), method="highs-ds",
                      options={"time_limit": max(1.0, deadline - time.monotonic())})
        if res.status != 0 or res.x is None:
            return Relaxation(False, False, float("inf"), np.zeros(n), np.full(n, np.inf))
        reduced = objective - matrix.T @ res.ineqlin.marginals
        inside = np.zeros(n, dtype=bool)
        inside[current] = True
        entering = np.nonzero(usable & ~inside & (reduced < -1e-7))[0]
        if not len(entering) or time.monotonic() > deadline:
            break
        entering = entering[np.argsort(reduced[entering], kind="stable")[:ADD_PER_ROUND]]
        current = np.union1d(current, entering)
    values = np.zeros(n)
    values[current] = res.x
    ok = not len(entering)  # every column priced out: the LP optimum over all columns
    reduced = np.where(usable, reduced, np.inf)
    return Relaxation(ok, True, float(-res.fun) if ok else float("inf"), values, reduced)


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
