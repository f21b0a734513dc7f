"""The CP-SAT model of tonight's assignment over the columns of `optimizer.classes` (all, or a subset).

Variables: one integer per column, how many units of a class a worker takes (``x[k, j]``), or how many
active clients of a move class move to a worker (``m[a, v]``). The per-pair rules are already in which
columns exist (only eligible, useful workers). The other hard rules are constraints, one function each:

- `rule_family_one_worker` lives in the units (a family is one unit, so it goes to one worker, whole);
  here each class's columns sum to at most its number of units: a unit is placed once or waits;
- `rule_capacity`: ``kept - moved out + new + moved in <= capacity`` in exact integer load units, for every
  worker that receives anyone; a worker already over target (or on leave) has no columns, so it takes no
  one new and is never pushed further over;
- `rule_max_new_per_week`: new clients tonight (placed, re-placed, moved in) within the weekly allowance;
- `rule_max_moves_share`: optional moves within floor(max_moves_share x active clients).

`knapsack_hull_cuts` adds implied constraints (the integer hull of each worker's high/low intake), which
tighten the LP relaxation CP-SAT's search and bound rely on.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from ortools.sat.python import cp_model

from optimizer.classes import Classes, worker_facets
from optimizer.eligibility import NO_LIMIT, WorkerCapacity


@dataclass(slots=True)
class AssignmentModel:
    model: cp_model.CpModel
    cl: Classes
    cols: np.ndarray                     # the column indices that have a variable (ascending)
    var: list[cp_model.IntVar]           # aligned with cols
    exact: bool                          # every column of the classes is in the model
    objectives: dict[str, tuple[str, cp_model.LinearExprT]] = field(default_factory=dict)
    spread_terms: list[tuple[int, cp_model.LinearExprT]] = field(default_factory=list)
    gain_vars: list[tuple[int, cp_model.IntVar, cp_model.IntVar]] = field(default_factory=list)

    def column_values(self, values: np.ndarray) -> np.ndarray:
        """Value of every column (0 for columns not in the model) from a flat CP-SAT solution."""
        out = np.zeros(len(self.cl.columns), dtype=np.int64)
        out[self.cols] = values[[v.index for v in self.var]]
        return out


def _by(keys: np.ndarray, n: int) -> list[np.ndarray]:
    """Positions grouped by key in 0..n-1 (stable)."""
    order = np.argsort(keys, kind="stable")
    bounds = np.searchsorted(keys[order], np.arange(n + 1))
    return [order[bounds[k]:bounds[k + 1]] for k in range(n)]


def build_model(cl: Classes, cap: WorkerCapacity, selected: np.ndarray | None = None,
                supply: np.ndarray | None = None, move_supply: np.ndarray | None = None,
                move_budget: int | None = None) -> AssignmentModel:
    """CP-SAT variables for the selected columns (all when None), the hard rules, and the objectives.

    ``supply`` (units per class), ``move_supply`` (items per move class) and ``move_budget`` override
    the classes' own figures, for a neighbourhood of a larger plan.
    """
    c = cl.columns
    cols = np.arange(len(c)) if selected is None else np.unique(selected)
    units = np.array([len(k.units) for k in cl.classes]) if supply is None else supply
    model = cp_model.CpModel()
    upper = c.upper[cols].copy()
    on_units = ~c.is_move[cols]
    upper[on_units] = np.minimum(upper[on_units], units[c.group[cols][on_units]])
    var = [model.new_int_var(0, int(u), "") for u in upper]
    am = AssignmentModel(model=model, cl=cl, cols=cols, var=var, exact=len(cols) == len(c))
    n_workers = len(cap.capacity)
    is_move = c.is_move[cols]
    # supply: each class's (move class's) columns sum to at most its units (clients)
    for k, pos in enumerate(_by(np.where(is_move, -1, c.group[cols]), len(cl.classes))):
        if len(pos):
            model.add(cp_model.LinearExpr.sum([var[p] for p in pos]) <= int(units[k]))
    items = (np.array([len(a.items) for a in cl.move_classes], dtype=np.int64) if move_supply is None
             else move_supply)
    for a, pos in enumerate(_by(np.where(is_move, c.group[cols], -1), len(cl.move_classes))):
        if len(pos):
            model.add(cp_model.LinearExpr.sum([var[p] for p in pos]) <= int(items[a]))
    inflow = _by(c.worker[cols], n_workers)
    outflow = _by(np.where(is_move, c.source[cols], -1), n_workers)
    rule_capacity(am, cap, inflow, outflow)
    rule_max_new_per_week(am, cap, inflow)
    rule_max_moves_share(am, np.nonzero(is_move)[0], cl.move_budget if move_budget is None else move_budget)
    knapsack_hull_cuts(am, cap, inflow, outflow)
    _objectives(am, cap, inflow, outflow)
    return am


def _load_expr(am: AssignmentModel, inflow: np.ndarray, outflow: np.ndarray) -> cp_model.LinearExprT:
    c = am.cl.columns
    cols = am.cols
    return cp_model.LinearExpr.weighted_sum(
        [am.var[p] for p in inflow] + [am.var[p] for p in outflow],
        [int(w) for w in c.weight[cols[inflow]]] + [-int(w) for w in c.out_weight[cols[outflow]]])


def rule_capacity(am: AssignmentModel, cap: WorkerCapacity, inflow: list, outflow: list) -> None:
    """Load after tonight within target for every worker receiving anyone (exact integer units)."""
    for j, pos in enumerate(inflow):
        if len(pos):
            am.model.add(_load_expr(am, pos, outflow[j]) <= int(cap.capacity[j] - cap.kept_load[j]))


def rule_max_new_per_week(am: AssignmentModel, cap: WorkerCapacity, inflow: list) -> None:
    """New clients tonight (placed, re-placed or moved in) within the worker's remaining weekly intake."""
    size = am.cl.columns.size[am.cols]
    for j, pos in enumerate(inflow):
        if len(pos) and cap.new_allowance[j] < NO_LIMIT:
            am.model.add(cp_model.LinearExpr.weighted_sum([am.var[p] for p in pos], [int(s) for s in size[pos]])
                         <= int(cap.new_allowance[j]))


def rule_max_moves_share(am: AssignmentModel, move_positions: np.ndarray, budget: int) -> None:
    """At most floor(max_moves_share x active clients) clients moved optionally (a family moved whole
    counts each member; forced moves are not counted)."""
    if len(move_positions):
        size = am.cl.columns.size[am.cols[move_positions]]
        am.model.add(cp_model.LinearExpr.weighted_sum([am.var[p] for p in move_positions],
                                                      [int(s) for s in size]) <= budget)


def knapsack_hull_cuts(am: AssignmentModel, cap: WorkerCapacity, inflow: list, outflow: list) -> None:
    """Each receiving worker's intake hull facets (relaxed for move sources, see `worker_facets`)."""
    c = am.cl.columns
    for j, pos in enumerate(inflow):
        if not len(pos):
            continue
        cols = am.cols[pos]
        away = outflow[j]
        allowance = int(min(cap.new_allowance[j], np.sum(c.upper[cols] * c.size[cols])))
        for a, b, p, q, rhs in worker_facets(int(cap.high_weight[j]), int(cap.low_weight[j]),
                                             int(cap.capacity[j] - cap.kept_load[j]), allowance, bool(len(away))):
            coefs = [int(a * h + b * lo) for h, lo in zip(c.high[cols], c.low[cols], strict=True)]
            coefs += [-int(p * w + q) for w in c.out_weight[am.cols[away]]]
            am.model.add(cp_model.LinearExpr.weighted_sum([am.var[i] for i in pos] + [am.var[i] for i in away],
                                                          coefs) <= rhs)


def _objectives(am: AssignmentModel, cap: WorkerCapacity, inflow: list, outflow: list) -> None:
    c = am.cl.columns
    cols = am.cols
    model = am.model
    units = np.nonzero(~c.is_move[cols])[0]
    moves = np.nonzero(c.is_move[cols])[0]
    am.objectives["placements"] = ("max", cp_model.LinearExpr.weighted_sum(
        [am.var[p] for p in units], [int(s) for s in c.size[cols[units]]]))

    gains: list[tuple[cp_model.LinearExprT, int]] = []
    per_class = _by(np.where(c.is_move[cols], -1, c.group[cols]), len(am.cl.classes))
    for k, pos in enumerate(per_class):
        if not len(pos):
            continue
        cls = am.cl.classes[k]
        row = cp_model.LinearExpr.sum([am.var[p] for p in pos])
        steps = np.diff(cls.prefix_gain)
        if np.all(steps == steps[0]):
            gains.append((row, int(steps[0])))
        else:
            placed = model.new_int_var(0, len(cls.units), "")
            model.add(placed == row)
            gain = model.new_int_var(0, int(cls.prefix_gain[-1]), "")
            model.add_element(placed, [int(g) for g in cls.prefix_gain], gain)
            gains.append((gain, 1))
            am.gain_vars.append((k, placed, gain))
    am.objectives["priority_and_wait"] = ("max", cp_model.LinearExpr.weighted_sum(
        [g for g, _ in gains], [w for _, w in gains]))
    if len(moves):
        am.objectives["moves"] = ("min", cp_model.LinearExpr.weighted_sum(
            [am.var[p] for p in moves], [int(s) for s in c.size[cols[moves]]]))

    def weighted(values: np.ndarray) -> cp_model.LinearExprT:
        pos = np.nonzero(values[cols])[0]
        return cp_model.LinearExpr.weighted_sum([am.var[p] for p in pos], [int(v) for v in values[cols[pos]]])

    am.objectives["preferred_language"] = ("max", weighted(c.lang))
    am.objectives["needs_matched"] = ("max", weighted(c.needs))
    am.objectives["travel"] = ("min", weighted(c.travel))
    for j in range(len(cap.capacity)):
        if len(inflow[j]) or len(outflow[j]):
            am.spread_terms.append((j, int(cap.kept_load[j]) + _load_expr(am, inflow[j], outflow[j])))
