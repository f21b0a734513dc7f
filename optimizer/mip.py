"""Placements by branch and cut (HiGHS) over the class model's columns, from the plan found so far.

Why a second engine for the placement stage: on this model CP-SAT's search stalls where a MIP solver's
cutting planes do not. Each worker's load row, with moves out of it and the move budget, is a small
knapsack; the LP relaxation lets fractions of clients (and of moves) fill the room exactly, and the
cuts HiGHS derives from those rows close most of that gap at the root. Measured (benchmarks/assign.py
agencies, 2 cores): 1,000 clients, complete model: root bound 92.6 where the LP says 96.8, 91 placements
after 10 s and the optimum (92) after 24 s, where CP-SAT on the same model reaches 85-89 in 10-30 s;
6,000 clients, the LP-guided restriction below: 567 placements after 7 s where CP-SAT's search (with the
neighbourhood search) reaches 553 in 30 s.

The model is the one `optimizer.lp` relaxes (`lp._matrix`: supply of each class and move class, capacity
with moves out, weekly intake, the move budget, each worker's knapsack hull), with integer columns. The
CP-SAT model (`optimizer.model`) states the same rules and runs the later stages of the objective; this
module only proposes placement counts, which the caller decodes and keeps if they place more.

Determinism: HiGHS' branch and cut is deterministic for a seed; the node limit is the deterministic stop
and the wall-clock limit a safety net (as CP-SAT's deterministic time is, in `optimizer.stages`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import highspy
import numpy as np

from optimizer.classes import Classes
from optimizer.eligibility import WorkerCapacity
from optimizer.lp import _add_columns, _add_rows, _new_highs, complete_rows, placement_cost

FEASIBILITY_TOLERANCE = 1e-6
NODE_WORK_PER_SECOND = 2.5e5  # the deterministic stop: nodes x columns per second of a run's time (measured
                              # ~2.5e5 on an idle 2-core machine past the root; on a slower one the clock ends it)
MIN_NODES = 50


def node_limit(seconds: float, n_columns: int) -> int:
    """Branch and cut's node limit for a run of ``seconds`` over ``n_columns``: the deterministic stop, so that
    where the clock does not bind the same seed gives the same plan."""
    return max(MIN_NODES, int(seconds * NODE_WORK_PER_SECOND / max(n_columns, 1)))


def placements(cl: Classes, values: np.ndarray) -> int:
    """Clients placed by column ``values`` (move columns place nobody)."""
    units = ~cl.columns.is_move
    return int(values[units] @ cl.columns.size[units])


@dataclass(slots=True)
class BranchAndCut:
    values: np.ndarray | None   # integer value per column of the classes (0 outside the model), None if no plan
    bound: float | None         # proven upper bound on placements for the model searched
    complete: bool              # the model held every column: ``bound`` holds for tonight's problem
    status: str
    nodes: int
    columns: int
    improvements: list[tuple[float, int]] = field(default_factory=list)  # (time.monotonic(), placements) at
                                                                        # each better plan HiGHS found

    @property
    def proven(self) -> bool:
        """Its plan is optimal for tonight's whole problem: nothing after it can place more."""
        return self.complete and self.status == "Optimal"

    def placements(self, cl: Classes) -> int:
        return 0 if self.values is None else placements(cl, self.values)


def branch_and_cut(cl: Classes, cap: WorkerCapacity, selected: np.ndarray | None, start: np.ndarray | None,
                   *, time_limit_s: float, node_limit: int, seed: int) -> BranchAndCut:
    """Most placements over the selected columns (all when None), starting from ``start`` (column values
    of a plan the selected columns hold whole; None for no start)."""
    c = cl.columns
    n = len(c)
    cols = np.arange(n) if selected is None else np.unique(selected).astype(np.int64)
    complete = len(cols) == n
    matrix, rhs, upper = complete_rows(cl, cap)
    highs = _new_highs()
    highs.setOptionValue("random_seed", int(seed) % 2_147_483_647)
    highs.setOptionValue("time_limit", max(0.5, float(time_limit_s)))
    highs.setOptionValue("mip_max_nodes", int(node_limit))
    _add_rows(highs, rhs)
    _add_columns(highs, matrix, placement_cost(c), upper, cols)
    whole = start is not None and not np.any(np.delete(start, cols))
    improvements: list[tuple[float, int]] = []

    def improved(event) -> None:  # HiGHS' objective is minus the placements (`placement_cost`)
        improvements.append((time.monotonic(), int(round(-event.data_out.objective_function_value))))

    highs.cbMipImprovingSolution.subscribe(improved)
    x = solve_integer(highs, len(cols), start[cols] if whole else None)
    info = highs.getInfo()
    status = highs.modelStatusToString(highs.getModelStatus())
    bound = -float(info.mip_dual_bound) if np.isfinite(info.mip_dual_bound) else None
    nodes = int(info.mip_node_count)
    if x is None or not rows_hold(matrix[:, cols], rhs, upper[cols], x):  # none, or a rounded plan breaking a row
        return BranchAndCut(None, bound, complete, status, nodes, len(cols), improvements)
    values = np.zeros(n, dtype=np.int64)
    values[cols] = x
    return BranchAndCut(values, bound, complete, status, nodes, len(cols), improvements)


def solve_integer(highs: highspy.Highs, n_cols: int, start: np.ndarray | None) -> np.ndarray | None:
    """Make the model's ``n_cols`` columns integer, offer ``start`` (column values; None for none) and run;
    the rounded solution, or None when HiGHS has none."""
    highs.changeColsIntegrality(n_cols, np.arange(n_cols, dtype=np.int32),
                                np.full(n_cols, highspy.HighsVarType.kInteger))
    if start is not None:
        hint = highspy.HighsSolution()
        hint.col_value = list(np.asarray(start, dtype=float))
        hint.value_valid = True
        highs.setSolution(hint)
    highs.run()
    if highs.getInfo().primal_solution_status != 2:  # kSolutionStatusFeasible
        return None
    return np.rint(np.asarray(highs.getSolution().col_value)).astype(np.int64)


def rows_hold(matrix, rhs: np.ndarray, upper: np.ndarray, x: np.ndarray) -> bool:
    """``0 <= x <= upper`` and ``matrix @ x <= rhs``, to the feasibility tolerance: a rounded solution is
    never taken on trust."""
    return bool(np.all(x >= 0) and np.all(x <= upper + FEASIBILITY_TOLERANCE)
                and np.all(matrix @ x <= rhs + FEASIBILITY_TOLERANCE))
