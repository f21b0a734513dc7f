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

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

from optimizer.classes import Classes, Columns, knapsack_hull
from optimizer.eligibility import NO_LIMIT, WorkerCapacity

BY_REDUCED_COST = 6   # per class: the columns closest to entering the LP basis
BY_PREFERENCE = 2     # per class: the columns best for preferred language, needs and travel


@dataclass(slots=True)
class Relaxation:
    ok: bool
    objective: float          # LP optimum: placements (upper bound for the complete model)
    values: np.ndarray        # per column
    reduced_cost: np.ndarray  # per column, >= 0 at the optimum (minimisation form); small = promising


def lp_relaxation(cl: Classes, cap: WorkerCapacity, *, moves: bool = True) -> Relaxation:
    """Solve the placement stage's LP relaxation (with each worker's knapsack hull) with HiGHS.

    ``moves=False`` leaves the move columns out (their values and reduced costs are then 0 and +inf):
    the relaxation of the model CP-SAT's first stage searches on a large agency.
    """
    full = cl.columns
    if not moves and full.is_move.any():
        sub = _without_moves(cl)
        res = lp_relaxation(sub, cap, moves=True)
        n_units = len(sub.columns)
        values = np.zeros(len(full))
        reduced = np.full(len(full), np.inf)
        values[:n_units] = res.values
        reduced[:n_units] = res.reduced_cost
        return Relaxation(res.ok, res.objective, values, reduced)
    c = full
    n = len(c)
    if n == 0:
        return Relaxation(True, 0.0, np.zeros(0), np.zeros(0))
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    rhs: list[float] = []
    idx = np.arange(n)
    n_classes = len(cl.classes)
    # supply rows: classes then move classes
    supply = np.where(c.is_move, n_classes + c.group, c.group)
    rows.append(supply)
    cols.append(idx)
    vals.append(np.ones(n))
    rhs.extend(len(k.units) for k in cl.classes)
    rhs.extend(len(a.clients) for a in cl.move_classes)
    base = n_classes + len(cl.move_classes)
    n_workers = len(cap.capacity)
    # capacity rows: +weight at the worker, -out_weight at the source of a move
    rows.append(base + c.worker)
    cols.append(idx)
    vals.append(c.weight.astype(float))
    moving = np.nonzero(c.is_move)[0]
    rows.append(base + c.source[moving])
    cols.append(moving)
    vals.append(-c.out_weight[moving].astype(float))
    rhs.extend((cap.capacity - cap.kept_load).astype(float))
    base += n_workers
    # allowance rows
    rows.append(base + c.worker)
    cols.append(idx)
    vals.append(c.size.astype(float))
    rhs.extend(np.minimum(cap.new_allowance, NO_LIMIT).astype(float))
    base += n_workers
    # move budget
    if len(moving):
        rows.append(np.full(len(moving), base))
        cols.append(moving)
        vals.append(np.ones(len(moving)))
        rhs.append(float(cl.move_budget))
        base += 1
    # hull facets for receiving workers that are not move sources
    sources = set(c.source[moving].tolist())
    order = np.argsort(c.worker, kind="stable")
    bounds = np.searchsorted(c.worker[order], np.arange(n_workers + 1))
    for j in range(n_workers):
        pos = order[bounds[j]:bounds[j + 1]]
        if not len(pos) or j in sources:
            continue
        allowance = int(min(cap.new_allowance[j], np.sum(c.upper[pos] * c.size[pos])))
        for a, b, r in knapsack_hull(int(cap.high_weight[j]), int(cap.low_weight[j]),
                                     int(cap.capacity[j] - cap.kept_load[j]), allowance):
            rows.append(np.full(len(pos), base))
            cols.append(pos)
            vals.append((a * c.high[pos] + b * c.low[pos]).astype(float))
            rhs.append(float(r))
            base += 1
    matrix = sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(base, n))
    objective = -np.where(c.is_move, 0, c.size).astype(float)
    res = linprog(objective, A_ub=matrix, b_ub=np.array(rhs), bounds=np.stack([np.zeros(n), c.upper], axis=1),
                  method="highs-ds")
    if res.status != 0 or res.x is None:
        return Relaxation(False, float("inf"), np.zeros(n), np.zeros(n))
    duals = res.ineqlin.marginals  # <= 0 for <= rows in a minimisation
    reduced = objective - matrix.T @ duals
    return Relaxation(True, float(-res.fun), res.x, reduced)


def _without_moves(cl: Classes) -> Classes:
    """The same classes with no move classes (unit columns come first, so they keep their indices)."""
    c = cl.columns
    n = int(c.class_start[-1])
    cut = {name: getattr(c, name)[:n] for name in (
        "is_move", "group", "worker", "source", "weight", "out_weight", "high", "low", "upper", "lang",
        "needs", "travel")}
    columns = Columns(**cut, class_start=c.class_start, move_start=np.array([n], dtype=np.int64))
    return Classes(cl.classes, [], cl.move_budget, columns)


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
