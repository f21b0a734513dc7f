"""Large-neighbourhood search for the first stage on a large agency: CP-SAT on one region at a time.

On 50,000 clients the first-stage model, even restricted by the LP, is too big for CP-SAT to improve
within the time budget (measured: no gain over the LP-diving start in 40 s), while it solves a model of a
few thousand columns well (the 6,000-client case). So the plan is improved a neighbourhood at a time: a
group of workers linked by the units they could take (a breadth-first walk over shared classes), all
units placed with them or waiting and able to go to them are freed, everything else stays, and CP-SAT
maximises placements in that sub-model, starting from the current plan (so it never gets worse).
The neighbourhoods are visited in an order drawn from the seed.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import replace

import numpy as np
from ortools.sat.python import cp_model

from optimizer.caseloads import Caseloads
from optimizer.classes import Classes
from optimizer.eligibility import WorkerCapacity
from optimizer.model import build_model
from optimizer.stages import configure

NEIGHBOURHOOD_WORKERS = 40
NEIGHBOURHOOD_SECONDS = 3.0


def _worker_links(cl: Classes, columns: np.ndarray, n_workers: int) -> list[list[int]]:
    """Workers linked through classes that have a column with each of them (ascending, deterministic)."""
    c = cl.columns
    by_class: dict[int, list[int]] = {}
    for col in columns:
        if not c.is_move[col]:
            by_class.setdefault(int(c.group[col]), []).append(int(c.worker[col]))
    links: list[set[int]] = [set() for _ in range(n_workers)]
    for workers in by_class.values():
        for j in workers:
            links[j].update(workers)
    return [sorted(s - {j}) for j, s in enumerate(links)]


def _neighbourhood(links: list[list[int]], seed_worker: int, size: int) -> list[int]:
    seen = {seed_worker}
    queue = deque([seed_worker])
    while queue and len(seen) < size:
        for k in links[queue.popleft()]:
            if k not in seen:
                seen.add(k)
                queue.append(k)
                if len(seen) >= size:
                    break
    return sorted(seen)


def improve(state: Caseloads, cl: Classes, columns: np.ndarray, *, deadline: float, seed: int,
            num_workers: int, fixed: WorkerCapacity | None = None) -> int:
    """Re-optimise placements neighbourhood by neighbourhood until the deadline; returns units gained.

    ``fixed``: capacity figures with tonight's moves already made (their loads and intake), when any.
    """
    c = cl.columns
    cap = fixed if fixed is not None else state.cap
    n_workers = len(cap.capacity)
    columns = columns[~c.is_move[columns]]
    links = _worker_links(cl, columns, n_workers)
    receiving = np.unique(c.worker[columns])
    order = np.random.default_rng(seed).permutation(receiving)
    unit_class = {u: k for k, cls in enumerate(cl.classes) for u in cls.units}
    gained = 0
    for start in order:
        if time.monotonic() + 0.5 > deadline:
            break
        nb = np.array(_neighbourhood(links, int(start), NEIGHBOURHOOD_WORKERS))
        inside = np.zeros(n_workers, dtype=bool)
        inside[nb] = True
        cols = columns[inside[c.worker[columns]]]
        classes = np.unique(c.group[cols])
        freed = [u for k in classes for u in cl.classes[k].units
                 if state.unit_worker[u] < 0 or inside[state.unit_worker[u]]]
        before = sum(state.units[u].size for u in freed if state.unit_worker[u] >= 0)
        load = state.load.copy()
        new = state.new.copy() - (state.moved_in() if fixed is not None else 0)
        supply = np.zeros(len(cl.classes), dtype=np.int64)
        hint = np.zeros(len(c), dtype=np.int64)
        for u in freed:
            k = unit_class[u]
            supply[k] += 1
            j = int(state.unit_worker[u])
            if j >= 0:
                load[j] -= state.unit_weight(u, j)
                new[j] -= state.units[u].size
                pos = int(np.searchsorted(cl.classes[k].workers, j))
                hint[c.class_start[k] + pos] += 1
        sub_cap = replace(cap, kept_load=load, new_allowance=cap.new_allowance - new)
        # (state.load already holds the moves; ``cap`` gives the allowance left after them)
        am = build_model(cl, sub_cap, cols, supply)
        _, expr = am.objectives["placements"]
        am.model.maximize(expr)
        for col, var in zip(am.cols, am.var, strict=True):
            am.model.add_hint(var, int(hint[col]))
        solver = cp_model.CpSolver()
        budget = min(NEIGHBOURHOOD_SECONDS, max(0.1, deadline - time.monotonic()))
        configure(solver.parameters, seed=seed, num_workers=num_workers, budget_s=budget,
                  n_variables=len(am.model.proto.variables))
        status = solver.solve(am.model)
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE) or solver.objective_value <= before + 0.5:
            continue
        values = np.array([solver.value(v) for v in am.var], dtype=np.int64)
        for u in freed:
            if state.unit_worker[u] >= 0:
                state.unplace(u)
        pending: dict[int, list[int]] = {}
        for u in freed:
            pending.setdefault(unit_class[u], []).append(u)
        for col, count in zip(am.cols, values, strict=True):
            k = int(c.group[col])
            for _ in range(int(count)):
                u = pending[k].pop(0)
                state.place(u, int(c.worker[col]))
        gained += int(round(solver.objective_value)) - before
    return gained
