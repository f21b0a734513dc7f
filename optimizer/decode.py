"""From the model's counts to named clients: which units of a class are placed, and with whom.

The model says how many units of each class each worker takes. The placed units are the class's
best-ranked ones (urgent, then longest waiting: all else in a class is equal for objectives 1-4), and
they are matched to the workers' slots by a min-cost flow on travel (objective 5), so within a class
no two placed units would both travel less by swapping workers. Moves are decoded the same way: the
clients of a move class who move are the ones whose travel grows least.
"""

from __future__ import annotations

import numpy as np
from ortools.graph.python import min_cost_flow

from optimizer.caseloads import Caseloads
from optimizer.classes import Classes, pair_values
from optimizer.model import AssignmentModel
from optimizer.stages import StageRunner


def _match(costs: np.ndarray, counts: np.ndarray, take: int) -> list[int]:
    """Send ``take`` of the rows to columns (column c takes counts[c]) at least total cost.

    Returns the column of each row, -1 for rows left out. ``costs`` is (rows, columns), integers.
    """
    rows, cols = costs.shape
    if cols == 1 and take == rows:
        return [0] * rows
    flow = min_cost_flow.SimpleMinCostFlow()
    source, sink = rows + cols, rows + cols + 1
    tails, heads, caps, unit_costs = [], [], [], []
    for r in range(rows):
        tails.append(source)
        heads.append(r)
        caps.append(1)
        unit_costs.append(0)
        for c in range(cols):
            if counts[c] > 0:
                tails.append(r)
                heads.append(rows + c)
                caps.append(1)
                unit_costs.append(int(costs[r, c]))
    for c in range(cols):
        if counts[c] > 0:
            tails.append(rows + c)
            heads.append(sink)
            caps.append(int(counts[c]))
            unit_costs.append(0)
    arcs = flow.add_arcs_with_capacity_and_unit_cost(
        np.array(tails), np.array(heads), np.array(caps), np.array(unit_costs))
    flow.set_node_supply(source, take)
    flow.set_node_supply(sink, -take)
    status = flow.solve()
    if status != flow.OPTIMAL:
        raise RuntimeError(f"min-cost flow failed with status {status}")
    out = [-1] * rows
    for arc in arcs:
        t, h = flow.tail(arc), flow.head(arc)
        if t < rows and flow.flow(arc) > 0:
            out[t] = h - rows
    return out


def decode(am: AssignmentModel, runner: StageRunner, state: Caseloads) -> None:
    """Apply the model's solution to ``state`` (an empty Caseloads): place units, make moves."""
    decode_columns(am.cl, am.column_values(runner.values), state)


def decode_columns(cl: Classes, values: np.ndarray, state: Caseloads) -> None:
    """Apply integer column values (units per class and worker, items per move class and destination) to
    ``state`` (an empty Caseloads)."""
    el = state.el
    for k, cls in enumerate(cl.classes):
        counts = values[cl.columns.class_start[k]:cl.columns.class_start[k + 1]]
        take = int(counts.sum())
        if take == 0:
            continue
        chosen = cls.units[:take]
        costs = np.zeros((take, len(cls.workers)), dtype=np.int64)
        if np.count_nonzero(counts) > 1:
            for r, u in enumerate(chosen):
                for i in state.units[u].members:
                    costs[r] += pair_values(el, i, cls.workers)[2]
        for u, c in zip(chosen, _match(costs, counts, take), strict=True):
            state.place(u, int(cls.workers[c]))
    for a, mc in enumerate(cl.move_classes):
        counts = values[cl.columns.move_start[a]:cl.columns.move_start[a + 1]]
        take = int(counts.sum())
        if take == 0:
            continue
        costs = np.zeros((len(mc.items), len(mc.workers)), dtype=np.int64)
        for r, item in enumerate(mc.items):
            for i in item:
                costs[r] += pair_values(el, i, mc.workers)[2]
        for item, c in zip(mc.items, _match(costs, counts, take), strict=True):
            if c >= 0:
                state.move_item(item, int(mc.workers[c]))


def plan_columns(cl: Classes, state: Caseloads) -> np.ndarray:
    """Column values of a plan already in ``state``: its placed units and its moved items (those the
    classes lack are skipped; `optimizer.solve` checks that nothing was)."""
    values = np.zeros(len(cl.columns), dtype=np.int64)
    unit_class = cl.unit_class()
    for u in np.nonzero(state.unit_worker >= 0)[0]:
        k = unit_class.get(int(u))
        if k is None:
            continue
        cls = cl.classes[k]
        pos = int(np.searchsorted(cls.workers, state.unit_worker[u]))
        if pos < len(cls.workers) and cls.workers[pos] == state.unit_worker[u]:
            values[cl.columns.class_start[k] + pos] += 1
    if state.move_to:
        item_class = cl.item_class()
        for item in state.moved_items():
            a = item_class.get(item[0])
            if a is None:
                continue
            mc = cl.move_classes[a]
            v = state.move_to[item[0]]
            pos = int(np.searchsorted(mc.workers, v))
            if pos < len(mc.workers) and mc.workers[pos] == v:
                values[cl.columns.move_start[a] + pos] += 1
    return values


def encode(am: AssignmentModel, columns: np.ndarray) -> np.ndarray:
    """The model's variable values (a complete hint) for given column values."""
    values = np.zeros(len(am.model.proto.variables), dtype=np.int64)
    for col, var in zip(am.cols, am.var, strict=True):
        values[var.index] = columns[col]
    cl = am.cl
    for k, placed, gain in am.gain_vars:
        n = int(columns[cl.columns.class_start[k]:cl.columns.class_start[k + 1]].sum())
        values[placed.index] = n
        values[gain.index] = int(cl.classes[k].prefix_gain[n])
    return values


def place_rounded(cl: Classes, state: Caseloads, values: np.ndarray, round_up: int | None = None) -> int:
    """Place units from an LP solution over the units still waiting in ``state``: each column's whole
    part, then the columns with the largest fractional parts rounded up while the unit still fits.
    ``round_up`` limits how many fractional columns are rounded up (all when None).
    Returns how many units were placed."""
    c = cl.columns
    whole = np.floor(values + 1e-6).astype(np.int64)
    placed = 0
    budget = cl.move_budget - len(state.move_to)
    for a, mc in enumerate(cl.move_classes):  # moves first: they make the room some placements need
        counts = whole[c.move_start[a]:c.move_start[a + 1]]
        if not counts.any():
            continue
        free = [item for item in mc.items if item[0] not in state.move_to]
        for item, v in zip(free, np.repeat(mc.workers, counts), strict=False):
            v = int(v)
            if (budget >= len(item) and state.cap.accepts_new[v] and state.item_weight(item, v) <= state.room(v)
                    and state.allowance_left(v) >= len(item)):
                state.move_item(item, v)
                budget -= len(item)
    for k, cls in enumerate(cl.classes):
        counts = whole[c.class_start[k]:c.class_start[k + 1]]
        if not counts.any():
            continue
        waiting = [u for u in cls.units if state.unit_worker[u] < 0]
        for u, j in zip(waiting, np.repeat(cls.workers, counts), strict=False):
            if state.fits(u, int(j)):
                state.place(u, int(j))
                placed += 1
    fraction = values - whole
    up = np.nonzero((fraction > 1e-6) & ~c.is_move)[0]
    for col in up[np.argsort(-fraction[up], kind="stable")][:round_up]:
        cls = cl.classes[int(c.group[col])]
        j = int(c.worker[col])
        for u in cls.units:
            if state.unit_worker[u] < 0:
                if state.fits(u, j):
                    state.place(u, j)
                    placed += 1
                break
    return placed


def keep_expressible(cl: Classes, state: Caseloads, order: list[int]) -> int:
    """Undo what ``state`` holds that ``cl``'s columns lack (moves, placements), then what those undone moves
    leave over a worker's target: the placements there, latest in ``order`` first, then the moves into it (which
    may in turn free their sources). Returns the clients whose placement was undone.

    Why: a plan found on another model (tonight's `optimizer.assign`, whose large model keeps other move
    destinations than the staffing planner's) can then still start this model's search, less the little it
    cannot hold, instead of a first-fit plan (20,000 clients: the planner started from 1,502 placed where
    tonight's plan had 1,903)."""
    unit_class = cl.unit_class()
    item_class = cl.item_class()

    def has_move(item: tuple[int, ...]) -> bool:
        a = item_class.get(item[0])
        if a is None:
            return False
        workers = cl.move_classes[a].workers
        v = state.move_to[item[0]]
        pos = int(np.searchsorted(workers, v))
        return pos < len(workers) and workers[pos] == v

    def has_place(u: int) -> bool:
        k = unit_class.get(u)
        if k is None:
            return False
        workers = cl.classes[k].workers
        j = state.unit_worker[u]
        pos = int(np.searchsorted(workers, j))
        return pos < len(workers) and workers[pos] == j

    rank = {u: n for n, u in enumerate(order)}
    lost = 0
    touched: list[int] = []
    for item in state.moved_items():
        if not has_move(item):
            touched.append(int(state.el.current[item[0]]))
            for i in item:
                state.unmove(i)
    for u in np.nonzero(state.unit_worker >= 0)[0]:
        if not has_place(int(u)):
            lost += state.units[int(u)].size
            state.unplace(int(u))
    while touched:
        j = touched.pop()
        placed_here = sorted((int(u) for u in np.nonzero(state.unit_worker == j)[0]), key=lambda u: -rank.get(u, 0))
        while state.room(j) < 0 and placed_here:
            u = placed_here.pop(0)
            lost += state.units[u].size
            state.unplace(u)
        if state.room(j) < 0:
            for item in [it for it in state.moved_items() if state.move_to[it[0]] == j]:
                touched.append(int(state.el.current[item[0]]))
                for i in item:
                    state.unmove(i)
                if state.room(j) >= 0:
                    break
    return lost
