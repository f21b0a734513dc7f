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
from optimizer.lp import (
    ADD_PER_ROUND,
    MAX_ROUNDS,
    START_PER_CLASS,
    Relaxation,
    _add_columns,
    _add_rows,
    _dual_bound,
    _new_highs,
    _top_per_group,
    choose_columns,
    complete_rows,
    placement_cost,
)
from optimizer.mip import node_limit, rows_hold

STAGE_SHARE = {"placements": 0.6, "priority_and_wait": 0.2, "cost": 0.2}  # of one solve's time
EXTRA_COPIES = 1   # screening: per kind the LP opens, this many copies beyond the LP's (rounded up) go to the MIP
EXTRA_KINDS = 12   # ... and the first copy of this many kinds the LP leaves closed, least reduced cost first
MAX_SCREENED_MOVES = 2_000  # ... and at most this many optional moves the LP does not make (see `screen`)
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


@dataclass(slots=True)
class OpeningRelaxation:
    """The opening model's LP relaxation for one budget (`OpeningModel.relaxation`)."""

    bound: int | None          # proven upper bound on placements (weak duality over every column), None: unsolved
    values: np.ndarray         # per column (columns, then ``open``); 0 outside the restricted LP
    reduced_cost: np.ndarray   # per column from the last duals (minimising form); inf where a column cannot be used
    converged: bool            # every column priced out: ``bound`` is the LP optimum (rounded down)
    columns_in_lp: int = 0     # columns column generation brought in (of n_x + n_y)


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
        size = c.size
        self.most_placed = int(sum(len(cls.units) * int(size[c.class_start[k]:c.class_start[k + 1]].max(initial=0))
                                   for k, cls in enumerate(cl.classes)))  # every unit placed: a bound that holds
        self._lp: highspy.Highs | None = None  # `relaxation`'s restricted LP, kept for the next budget
        self._lp_columns = np.zeros(0, dtype=np.int64)  # the columns in it, in HiGHS' order

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
              stages: tuple[str, ...] = tuple(STAGE_SHARE), columns: np.ndarray | None = None) -> OpenedPlan:
        """Most placements for ``budget``, then priority and wait, then least cost (see the module docstring).

        ``start``: a full vector (`start_from`) the budget allows, or None. ``fixed_open``: 0/1 per optional
        worker to fix (NaN entries stay free); ``fixed_columns``: a value per column to fix it at (NaN: free),
        e.g. tonight's moves on a large agency. ``columns``: a mask over columns then ``open`` (`screen`): only
        these go to HiGHS (``start``'s support and fixed non-zero values always do), the rest stay 0; then the
        solve's bound holds only over them and is not reported (None). The result never places fewer than
        ``start``."""
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
        restricted = columns is not None
        if restricted:
            inside = columns.copy() & (upper > 0)
            inside |= lower > 0
            if start is not None:
                inside |= np.rint(start) > 0
            idx = np.nonzero(inside)[0]
        else:
            idx = np.arange(n)
        m = len(idx)
        every = np.arange(m, dtype=np.int32)
        highs = _new_highs()
        highs.setOptionValue("random_seed", int(seed) % 2_147_483_647)
        # HiGHS 1.16 can hang, past any time limit, in the presolve of RENS's sub-MIP (HPresolve::
        # strengthenInequalities, under the root reduced-cost heuristic's own sub-MIP): a 1,500-client wide-mix
        # agency, $390,000, existing clients kept, ran 12 min on a 48 s limit until killed; without RENS the same
        # model is optimal in 6 s (with the root reduced-cost heuristic off instead, 8 s). The planner's ceiling
        # must hold, so its branch and cut runs without RENS.
        highs.setOptionValue("mip_heuristic_run_rens", False)
        _add_rows(highs, rhs)
        _add_columns(highs, self.matrix, np.zeros(n), upper, idx)
        if fixed_open is not None or fixed_columns is not None:
            highs.changeColsBounds(m, every, lower[idx], upper[idx])
        highs.changeColsIntegrality(m, every, np.full(m, highspy.HighsVarType.kInteger))
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
            highs.changeColsCost(m, every, cost[idx])
            highs.setOptionValue("time_limit", float(max(0.5, seconds)))
            highs.setOptionValue("mip_max_nodes", node_limit(seconds, m))
            t0 = time.monotonic()
            got = _run(highs, cost[idx], None if best is None else best[idx])
            x = None
            if got is not None:
                x = np.zeros(n)
                x[idx] = got
            info = highs.getInfo()
            stage_status = highs.modelStatusToString(highs.getModelStatus())
            if x is not None and not (rows_hold(self.matrix, rhs, upper, x) and np.all(x >= lower - 1e-9)
                                      and self.openings.cost[x[self.n_x:] > 0.5].sum() <= budget + 1e-6):
                x = None  # the budget is checked in dollars: the scaled row's tolerance is 1e-7 of the top cost
            if x is not None and (best is None or cost @ x <= cost @ best + 1e-9):
                best = x
            if name == "placements":
                status = stage_status
                if np.isfinite(info.mip_dual_bound) and not restricted:
                    bound = int(math.floor(-info.mip_dual_bound + 1e-6))
            log.append({"stage": name, "status": stage_status, "wall_time_s": round(time.monotonic() - t0, 3),
                        "nodes": int(info.mip_node_count), "columns": m})
            if best is None:
                break
            value = float(cost @ best)  # hold this stage's value in the next ones
            slack = 1e-9 * max(1.0, abs(value)) if name != "placements" else 0.0
            sub = cost[idx]
            nz = np.nonzero(sub)[0].astype(np.int32)
            highs.addRow(-highspy.kHighsInf, value + slack, len(nz), nz, sub[nz])
        if best is None:
            best = np.zeros(n)
        values = best[:self.n_x].astype(np.int64)
        opened = best[self.n_x:] > 0.5
        placed = int(self.placement @ values)
        if bound is not None:
            bound = max(bound, placed)
        return OpenedPlan(values=values, opened=opened, placed=placed,
                          cost=float(self.openings.cost[opened].sum()), bound=bound,
                          status=f"{status} (screened: {m} of {n} columns)" if restricted else status,
                          budget=budget, stages=log)

    def lp_bound(self, budget: float, *, fixed_open: np.ndarray | None = None,
                 time_limit_s: float = 10.0) -> int | None:
        """A proven upper bound on placements for ``budget`` from the LP relaxation (`relaxation`)."""
        return self.relaxation(budget, fixed_open=fixed_open, time_limit_s=time_limit_s).bound

    def relaxation(self, budget: float, *, fixed_open: np.ndarray | None = None, start: np.ndarray | None = None,
                   time_limit_s: float = 10.0) -> OpeningRelaxation:
        """The LP relaxation for ``budget`` (every column and ``open`` free between their bounds; ``fixed_open``
        entries of 0 close a worker, and its columns with it), by column generation as `optimizer.lp.lp_relaxation`
        solves the nightly one: HiGHS solves it over a subset of the columns (every ``open``, each class's roomiest
        workers, ``start``'s support), the duals price all of them at once and the ones that would improve the LP
        join, until none would. Its bound holds by weak duality (`optimizer.lp._dual_bound`) over every column,
        from whatever duals HiGHS reached, so it is valid when the time runs out; it holds for any moves, so also
        for a solve whose columns were fixed (``fixed_columns``), whose own dual bound holds only for those values.
        The restricted LP is kept and re-solved from its last basis for the next budget (a frontier asks for
        several; 6,000 clients, 93 candidates: the whole LP, 173,280 columns, did not finish in 10 s)."""
        began = time.monotonic()
        c = self.cl.columns
        n = self.n_x + self.n_y
        upper = self.upper.copy()
        if fixed_open is not None:
            closed = np.zeros(len(self.cap.capacity), dtype=bool)
            closed[self.openings.workers[fixed_open == 0]] = True
            upper[self.n_x:][fixed_open == 0] = 0.0
            upper[:self.n_x][closed[c.worker]] = 0.0  # a closed worker's gated rows hold its columns at 0
        usable = upper > 0
        rhs = self.rhs.copy()
        rhs[self.budget_row] = budget / self.cost_scale
        cost = self._objective("placements")
        if self._lp is None:
            highs = _new_highs()
            highs.setOptionValue("random_seed", 0)
            _add_rows(highs, rhs)
            self._lp = highs
            self._lp_columns = np.zeros(0, dtype=np.int64)
            room = (self.cap.capacity - self.cap.kept_load)[c.worker]
            first = _top_per_group(np.where(c.is_move, len(self.cl.classes) + c.group, c.group),
                                   -room.astype(float), usable[:self.n_x], START_PER_CLASS)
            entering = np.concatenate([first, self.n_x + np.arange(self.n_y)])
        else:
            highs = self._lp
            inside = self._lp_columns
            highs.changeColsBounds(len(inside), np.arange(len(inside), dtype=np.int32), np.zeros(len(inside)),
                                   upper[inside])
            highs.changeRowBounds(self.budget_row, -highspy.kHighsInf, float(rhs[self.budget_row]))
            entering = np.zeros(0, dtype=np.int64)
        if start is not None:
            entering = np.concatenate([entering, np.nonzero(start > 0.5)[0]])
        member = np.zeros(n, dtype=bool)
        member[self._lp_columns] = True
        entering = np.unique(entering[usable[entering] & ~member[entering]]).astype(np.int64)
        last: tuple[np.ndarray, np.ndarray] | None = None
        converged = False
        for _ in range(MAX_ROUNDS * 4):
            _add_columns(highs, self.matrix, cost, upper, entering)
            self._lp_columns = np.concatenate([self._lp_columns, entering])
            member[entering] = True
            left = time_limit_s - (time.monotonic() - began)
            # HiGHS' time limit counts all its runs on this instance, not just the next one
            highs.setOptionValue("time_limit", float(highs.getRunTime() + max(0.2, left)))
            highs.run()
            if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
                break
            solution = highs.getSolution()
            duals = np.asarray(solution.row_dual)
            last = (np.asarray(solution.col_value).copy(), duals)
            reduced = cost - self.matrix.T @ duals
            entering = np.nonzero(usable & ~member & (reduced < -1e-7))[0]
            if not len(entering):
                converged = True
                break
            if time.monotonic() - began > time_limit_s:
                break
            entering = entering[np.argsort(reduced[entering], kind="stable")[:ADD_PER_ROUND]]
        values = np.zeros(n)
        if last is None:
            return OpeningRelaxation(None, values, np.where(usable, 0.0, np.inf), False, len(self._lp_columns))
        col_values, duals = last
        values[self._lp_columns[:len(col_values)]] = col_values
        reduced = cost - self.matrix.T @ duals
        bound = _dual_bound(self.matrix, rhs, upper, cost, usable, duals)
        # duals cut short can give a bound above every client placed (20,000 clients, 4.7 s: 236,789)
        bound = min(bound, float(self.most_placed))
        return OpeningRelaxation(int(math.floor(bound + 1e-6)) if np.isfinite(bound) else None, values,
                                 np.where(usable, reduced, np.inf), converged, len(self._lp_columns))

    def screen(self, relaxed: OpeningRelaxation, start: np.ndarray | None = None, widen: int = 0) -> np.ndarray:
        """The columns a large model's branch and cut gets (a mask over columns, then ``open``): the optional
        workers the LP relaxation opens (each kind's copies up to its LP total rounded up, and EXTRA_COPIES more),
        the first copy of the EXTRA_KINDS kinds the LP leaves closed with the least reduced cost, every one
        ``start`` opens, and all their columns; of today's workers' columns, the ones
        `optimizer.lp.choose_columns` gives the nightly CP-SAT model (LP support, least reduced cost and best
        preference per class) and ``start``'s; of the optional moves, the LP's, ``start``'s and a few more. A copy
        is kept only with every copy before it (ordered copies).
        The rest cannot enter the plan, so the MIP's own bound no longer holds: the relaxation's does.
        ``widen`` n: n more copies per kind the LP opens, and 2**n times the closed kinds and the moves (a wider
        screen holds every column of a narrower one from the same relaxation and start)."""
        c = self.cl.columns
        n = self.n_x + self.n_y
        kinds = self.openings.kind
        y = relaxed.values[self.n_x:]
        keep_y = np.zeros(self.n_y, dtype=bool)
        if start is not None:
            keep_y |= start[self.n_x:] > 0.5
        n_kinds = int(kinds.max()) + 1 if self.n_y else 0
        total = np.bincount(kinds, weights=y, minlength=n_kinds) if self.n_y else np.zeros(0)
        copy_number = np.zeros(self.n_y, dtype=np.int64)
        for n_copy in range(1, self.n_y):
            if kinds[n_copy] == kinds[n_copy - 1]:
                copy_number[n_copy] = copy_number[n_copy - 1] + 1
        used = total > 1e-6
        wanted = np.where(used, np.ceil(total - 1e-6) + EXTRA_COPIES + widen, 0)
        keep_y |= copy_number < wanted[kinds]
        firsts = np.nonzero((copy_number == 0) & ~used[kinds] & np.isfinite(relaxed.reduced_cost[self.n_x:]))[0]
        firsts = firsts[np.argsort(relaxed.reduced_cost[self.n_x:][firsts], kind="stable")[:EXTRA_KINDS << widen]]
        keep_y[firsts] = True
        for n_copy in range(self.n_y - 2, -1, -1):  # ordered copies: a kept copy keeps the ones before it
            if kinds[n_copy] == kinds[n_copy + 1] and keep_y[n_copy + 1]:
                keep_y[n_copy] = True
        optional = np.full(len(self.cap.capacity), -1, dtype=np.int64)
        optional[self.openings.workers] = np.arange(self.n_y)
        slot = optional[c.worker]
        of_kept = (slot >= 0) & keep_y[np.maximum(slot, 0)]
        x_relaxed = Relaxation(relaxed.converged, True, float(relaxed.bound or 0), relaxed.values[:self.n_x],
                               relaxed.reduced_cost[:self.n_x])
        held = np.nonzero(start[:self.n_x] > 0.5)[0] if start is not None else np.zeros(0, dtype=np.int64)
        chosen = choose_columns(self.cl, x_relaxed, held)
        keep = np.zeros(n, dtype=bool)
        keep[chosen] = True
        keep[:self.n_x] &= slot < 0  # an optional worker's columns come with it, all of them, or not at all
        keep[:self.n_x] |= of_kept & np.isfinite(relaxed.reduced_cost[:self.n_x])
        # of the optional moves: the ones the LP makes, and of those choose_columns offers the MAX_SCREENED_MOVES
        # of least reduced cost (6,000 clients: all it offers, 33,000 move columns, and branch and cut found
        # nothing in 20 s; 240-400 clients, all of them placed up to 5 more than the LP's moves alone)
        offered = np.nonzero(keep[:self.n_x] & c.is_move & (relaxed.values[:self.n_x] <= 1e-6))[0]
        dropped = offered[np.argsort(relaxed.reduced_cost[offered], kind="stable")[MAX_SCREENED_MOVES << widen:]]
        keep[dropped] = False
        keep[held] = True
        keep[self.n_x:] = keep_y
        return keep

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
