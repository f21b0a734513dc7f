"""Optional workers opened at a cost: which of them to open, and who they take, in one branch and cut.

Why here: "which hires place the most waiting clients for this budget" is the placement stage of the
nightly model with some workers made optional. The agency passed in already holds the optional workers
(e.g. `Candidate.hire(n)`), so eligibility, capacity, units and classes (`optimizer.eligibility`,
`optimizer.units`, `optimizer.classes`) and the rows (`optimizer.lp.complete_rows`: supply of each class,
capacity, weekly intake, each worker's knapsack hull) are the nightly ones: no rule is written twice.
This module only adds what the nightly model lacks:

- a binary ``open`` per optional worker that gates its rows: every row whose columns all belong to one
  optional worker (its capacity, its intake, its hull facets) gets ``- rhs * open`` on the left and 0 on
  the right. With ``open = 0`` the capacity row forces that worker's columns to 0; with ``open = 1`` the
  row is the nightly one. (A gated row is valid whatever its kind: all its columns are 0 when closed.)
- ordered copies: interchangeable optional workers (copies of one position) open in order, copy n+1
  only if copy n is open, so branch and cut does not explore the same plan under permuted names;
- a budget row: the opening costs sum to at most the budget.

The objective is lexicographic, in separate solves each warm-started from the previous one's plan:
(1) most clients placed (the nightly first stage), (2) urgent and long-waiting first, weighted like the
nightly run (`optimizer.classes.tier_weights`, through each class's gains; linear per class at the class's
mean gain per unit, as the best-ranked units of a class are the ones placed), (3) least opening cost for
that. Stage 1's dual bound is a proven upper bound on placements for the budget over this model.

Optional moves are the nightly ones when the agency allows them (`optimizer.lp.complete_rows` has the move
columns, the move budget row and the sources' relaxed hull facets): a move into an optional worker is one of
its columns, so it is gated with the rest; `optimizer.classes.build_classes(..., optional=...)` keeps each move
class's destinations among the agency's own workers as the nightly run keeps them. ``fixed_columns`` fixes
column values (the staffing planner keeps tonight's moves on a large agency), and then a solve's dual bound
holds only for those values: `OpeningModel.lp_bound` gives one that holds for all (the LP relaxation, by
weak duality from HiGHS' duals).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import highspy
import numpy as np
import scipy.sparse as sp

from optimizer.classes import Classes
from optimizer.eligibility import WorkerCapacity
from optimizer.lp import _add_columns, _add_rows, _dual_bound, _new_highs, complete_rows, placement_cost
from optimizer.mip import node_limit, rows_hold

STAGE_SHARE = {"placements": 0.6, "priority_and_wait": 0.2, "cost": 0.2}  # of one solve's time
GAIN_SCALE = 1e6  # stage 2's coefficients are the classes' mean gains scaled to at most this (HiGHS keeps
                  # coefficient ranges near 1e6 accurate; a far lower-tier gain falls below its tolerance)


@dataclass(frozen=True, slots=True)
class Openings:
    """The optional workers of a model: their worker index, their kind and their cost.

    Workers of one kind are interchangeable copies, listed in opening order (copy n+1 opens only after n).
    """

    workers: np.ndarray   # int64 worker index (in the Eligibility / WorkerCapacity) of each optional worker
    kind: np.ndarray      # int64 kind of each; copies of a kind are consecutive, in opening order
    cost: np.ndarray      # float64 cost of opening each

    def __len__(self) -> int:
        return len(self.workers)


@dataclass(slots=True)
class OpenedPlan:
    """One solve's result: column values (units per class and worker), the workers opened and the figures."""

    values: np.ndarray            # int64 per column of the classes
    opened: np.ndarray            # bool per optional worker
    placed: int                   # clients placed (a family counts each member)
    cost: float                   # opening cost
    bound: int | None             # proven upper bound on placements for this budget (stage 1)
    status: str                   # stage 1's HiGHS status ("Optimal": the placements are proven best)
    budget: float
    stages: list[dict] = field(default_factory=list)

    @property
    def proven(self) -> bool:
        return self.bound is not None and self.placed >= self.bound


class OpeningModel:
    """The nightly placement rows with optional workers gated by ``open`` variables, ordered copies and a
    budget row; `solve` runs it for one budget (the model is built once and solved for many)."""

    def __init__(self, cl: Classes, cap: WorkerCapacity, openings: Openings):
        self.cl = cl
        self.cap = cap
        self.openings = openings
        c = cl.columns
        self.n_x = len(c)
        self.n_y = len(openings)
        matrix, rhs, upper = complete_rows(cl, cap)
        optional = np.full(len(cap.capacity), -1, dtype=np.int64)
        optional[openings.workers] = np.arange(self.n_y)
        csr = matrix.tocsr()
        owner = _row_owner(csr, c.worker)
        gated = np.nonzero((owner >= 0) & (optional[np.maximum(owner, 0)] >= 0) & (rhs >= 0))[0]
        # the gate's coefficient is the row's right-hand side, or the most its columns can reach if smaller
        # (an intake row's NO_LIMIT would be a big-M of 10^6: weak, and numerically poor)
        reach = csr.multiply(csr > 0) @ upper
        gate = sp.csc_matrix((-np.minimum(rhs[gated], reach[gated]), (gated, optional[owner[gated]])),
                             shape=(len(rhs), self.n_y))
        rhs = rhs.copy()
        rhs[gated] = 0.0
        rows = [sp.hstack([matrix, gate], format="csc")]
        rhs_parts = [rhs]
        same = np.nonzero(openings.kind[1:] == openings.kind[:-1])[0]  # open[n+1] - open[n] <= 0 within a kind
        if len(same):
            r = np.arange(len(same))
            order = sp.csc_matrix((np.concatenate([np.ones(len(same)), -np.ones(len(same))]),
                                   (np.concatenate([r, r]), self.n_x + np.concatenate([same + 1, same]))),
                                  shape=(len(same), self.n_x + self.n_y))
            rows.append(order)
            rhs_parts.append(np.zeros(len(same)))
        # costs in units of the largest one, so the budget row's coefficients are near 1 (dollars would be 10^5)
        self.cost_scale = float(openings.cost.max()) if self.n_y and openings.cost.max() > 0 else 1.0
        budget_row = sp.csc_matrix((openings.cost / self.cost_scale, (np.zeros(self.n_y, dtype=np.int64),
                                                                    self.n_x + np.arange(self.n_y))),
                                   shape=(1, self.n_x + self.n_y))
        rows.append(budget_row)
        rhs_parts.append(np.zeros(1))
        self.matrix = sp.vstack(rows, format="csc")
        self.rhs = np.concatenate(rhs_parts)
        self.budget_row = len(self.rhs) - 1
        self.upper = np.concatenate([upper, np.ones(self.n_y)])
        self.placement = -placement_cost(c)
        self.gain = _class_gains(cl)
        self._lp: highspy.Highs | None = None  # `lp_bound`'s relaxation, kept for the next budget

    def start_from(self, values: np.ndarray, opened: np.ndarray | None = None) -> np.ndarray:
        """A full start vector (columns, then ``open``) for column values; optional workers holding any of
        them are opened (and with them every earlier copy of their kind)."""
        y = np.zeros(self.n_y) if opened is None else opened.astype(float).copy()
        used = np.zeros(len(self.cap.capacity), dtype=bool)
        used[self.cl.columns.worker[values > 0]] = True
        y = np.maximum(y, used[self.openings.workers])
        for n in range(self.n_y - 2, -1, -1):  # ordered copies: an open copy opens the ones before it
            if self.openings.kind[n] == self.openings.kind[n + 1] and y[n + 1] > y[n]:
                y[n] = 1.0
        return np.concatenate([values.astype(float), y])

    def feasible(self, start: np.ndarray, budget: float) -> bool:
        rhs = self.rhs.copy()
        rhs[self.budget_row] = budget / self.cost_scale
        return rows_hold(self.matrix, rhs, self.upper, np.rint(start))

    def solve(self, budget: float, *, start: np.ndarray | None = None, fixed_open: np.ndarray | None = None,
              fixed_columns: np.ndarray | None = None, time_limit_s: float = 60.0, seed: int = 0,
              stages: tuple[str, ...] = tuple(STAGE_SHARE)) -> OpenedPlan:
        """Most placements for ``budget``, then priority and wait, then least cost (see the module docstring).

        ``start``: a full vector (`start_from`) the budget allows, or None. ``fixed_open``: 0/1 per optional
        worker to fix (NaN entries stay free); ``fixed_columns``: a value per column to fix it at (NaN: free),
        e.g. tonight's moves on a large agency. The result never places fewer than ``start``."""
        began = time.monotonic()
        n = self.n_x + self.n_y
        lower = np.zeros(n)
        upper = self.upper.copy()
        if fixed_open is not None:
            fixed = ~np.isnan(fixed_open)
            upper[self.n_x:][fixed] = fixed_open[fixed]
            lower[self.n_x:][fixed] = fixed_open[fixed]
        if fixed_columns is not None:
            fixed = ~np.isnan(fixed_columns)
            upper[:self.n_x][fixed] = fixed_columns[fixed]
            lower[:self.n_x][fixed] = fixed_columns[fixed]
        rhs = self.rhs.copy()
        rhs[self.budget_row] = budget / self.cost_scale
        if start is not None and not (rows_hold(self.matrix, rhs, upper, np.rint(start))
                                      and np.all(np.rint(start) >= lower - 1e-9)):
            start = None
        highs = _new_highs()
        highs.setOptionValue("random_seed", int(seed) % 2_147_483_647)
        _add_rows(highs, rhs)
        _add_columns(highs, self.matrix, np.zeros(n), upper, np.arange(n))
        if fixed_open is not None or fixed_columns is not None:
            highs.changeColsBounds(n, np.arange(n, dtype=np.int32), lower, upper)
        highs.changeColsIntegrality(n, np.arange(n, dtype=np.int32), np.full(n, highspy.HighsVarType.kInteger))
        best = None if start is None else np.rint(start)
        bound: int | None = None
        status = "not run"
        log: list[dict] = []
        total = sum(STAGE_SHARE[s] for s in stages)
        for name in stages:
            left = max(0.5, time_limit_s - (time.monotonic() - began))
            seconds = left * STAGE_SHARE[name] / total if name != stages[-1] else left
            total -= STAGE_SHARE[name]
            cost = self._objective(name)
            highs.changeColsCost(n, np.arange(n, dtype=np.int32), cost)
            highs.setOptionValue("time_limit", float(max(0.5, seconds)))
            highs.setOptionValue("mip_max_nodes", node_limit(seconds, n))
            t0 = time.monotonic()
            x = _run(highs, cost, best)
            info = highs.getInfo()
            stage_status = highs.modelStatusToString(highs.getModelStatus())
            if x is not None and not (rows_hold(self.matrix, rhs, upper, x) and np.all(x >= lower - 1e-9)
                                      and self.openings.cost[x[self.n_x:] > 0.5].sum() <= budget + 1e-6):
                x = None  # the budget is checked in dollars: the scaled row's tolerance is 1e-7 of the top cost
            if x is not None and (best is None or cost @ x <= cost @ best + 1e-9):
                best = x
            if name == "placements":
                status = stage_status
                if np.isfinite(info.mip_dual_bound):
                    bound = int(math.floor(-info.mip_dual_bound + 1e-6))
            log.append({"stage": name, "status": stage_status, "wall_time_s": round(time.monotonic() - t0, 3),
                        "nodes": int(info.mip_node_count)})
            if best is None:
                break
            value = float(cost @ best)  # hold this stage's value in the next ones
            slack = 1e-9 * max(1.0, abs(value)) if name != "placements" else 0.0
            idx = np.nonzero(cost)[0].astype(np.int32)
            highs.addRow(-highspy.kHighsInf, value + slack, len(idx), idx, cost[idx])
        if best is None:
            best = np.zeros(n)
        values = best[:self.n_x].astype(np.int64)
        opened = best[self.n_x:] > 0.5
        placed = int(self.placement @ values)
        if bound is not None:
            bound = max(bound, placed)
        return OpenedPlan(values=values, opened=opened, placed=placed,
                          cost=float(self.openings.cost[opened].sum()), bound=bound, status=status,
                          budget=budget, stages=log)

    def lp_bound(self, budget: float, *, fixed_open: np.ndarray | None = None,
                 time_limit_s: float = 10.0) -> int | None:
        """A proven upper bound on placements for ``budget`` from the LP relaxation (every column and ``open``
        free between their bounds; ``fixed_open`` entries of 0 close a worker), by weak duality from whatever
        duals HiGHS reached (`optimizer.lp._dual_bound`): valid even when the LP is cut short. For a solve
        whose columns were fixed (``fixed_columns``), whose own dual bound holds only for those values.
        The LP is built once and re-solved from its last basis for each budget (a frontier asks for several:
        6,000 clients, a fresh LP per step ran out of its 2-3 s)."""
        n = self.n_x + self.n_y
        upper = self.upper.copy()
        if fixed_open is not None:
            closed = fixed_open == 0
            upper[self.n_x:][closed] = 0.0
        rhs = self.rhs.copy()
        rhs[self.budget_row] = budget / self.cost_scale
        cost = self._objective("placements")
        highs = self._lp
        if highs is None:
            highs = self._lp = _new_highs()
            _add_rows(highs, rhs)
            _add_columns(highs, self.matrix, cost, upper, np.arange(n))
        else:
            y = np.arange(self.n_x, n, dtype=np.int32)
            highs.changeColsBounds(len(y), y, np.zeros(len(y)), upper[self.n_x:])
            highs.changeRowBounds(self.budget_row, -highspy.kHighsInf, float(rhs[self.budget_row]))
        # HiGHS' time limit counts all its runs on this instance, not just the next one
        highs.setOptionValue("time_limit", float(highs.getRunTime() + max(0.5, time_limit_s)))
        highs.run()
        if highs.getInfo().dual_solution_status != 2:
            return None
        duals = np.asarray(highs.getSolution().row_dual)
        bound = _dual_bound(self.matrix, rhs, upper, cost, upper > 0, duals)
        return int(math.floor(bound + 1e-6)) if np.isfinite(bound) else None

    def _objective(self, stage: str) -> np.ndarray:
        """Stage costs in HiGHS' minimising form over (columns, open)."""
        zeros_y = np.zeros(self.n_y)
        if stage == "placements":
            return np.concatenate([-self.placement, zeros_y])
        if stage == "priority_and_wait":
            return np.concatenate([-self.gain, zeros_y])
        if stage == "cost":
            return np.concatenate([np.zeros(self.n_x), self.openings.cost / self.cost_scale])
        raise ValueError(f"unknown stage {stage!r}")


def _hint(highs: highspy.Highs, start: np.ndarray | None) -> None:
    if start is not None:
        hint = highspy.HighsSolution()
        hint.col_value = list(start)
        hint.value_valid = True
        highs.setSolution(hint)


def _run(highs: highspy.Highs, cost: np.ndarray, start: np.ndarray | None) -> np.ndarray | None:
    """Run from ``start``; the rounded solution, or None. HiGHS 1.16 can hand back the start as its solution
    when presolve solves the model (the reported objective is the better one, the values are the start's:
    seen on a 480-client agency); then the run is repeated without presolve, which returns the values."""
    _hint(highs, start)
    highs.run()
    if highs.getInfo().primal_solution_status != 2:
        return None
    x = np.rint(np.asarray(highs.getSolution().col_value))
    objective = highs.getInfo().objective_function_value
    if abs(float(cost @ x) - objective) > 1e-6 * max(1.0, abs(objective)):
        highs.setOptionValue("presolve", "off")
        _hint(highs, start)
        highs.run()
        highs.setOptionValue("presolve", "choose")
        if highs.getInfo().primal_solution_status != 2:
            return None
        x = np.rint(np.asarray(highs.getSolution().col_value))
    return x


def _row_owner(csr: sp.csr_matrix, column_worker: np.ndarray) -> np.ndarray:
    """Per row, the worker every one of its columns belongs to, or -1 (columns of several, or none)."""
    n_rows = csr.shape[0]
    owner = np.full(n_rows, -1, dtype=np.int64)
    counts = np.diff(csr.indptr)
    nonempty = np.nonzero(counts)[0]
    if not len(nonempty):
        return owner
    workers = column_worker[csr.indices]
    starts = csr.indptr[nonempty]
    low = np.minimum.reduceat(workers, starts)
    high = np.maximum.reduceat(workers, starts)
    owner[nonempty] = np.where(low == high, low, -1)
    return owner


def _class_gains(cl: Classes) -> np.ndarray:
    """Stage 2's coefficient per column: the class's mean gain per unit (size x tier weight + days waiting,
    `optimizer.classes.tier_weights`), scaled so the largest is GAIN_SCALE."""
    c = cl.columns
    gain = np.zeros(len(c))
    for k, cls in enumerate(cl.classes):
        gain[c.class_start[k]:c.class_start[k + 1]] = float(cls.prefix_gain[-1]) / max(len(cls.units), 1)
    top = gain.max() if len(gain) else 0.0
    return gain * (GAIN_SCALE / top) if top > 0 else gain
