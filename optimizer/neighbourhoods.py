"""Large-neighbourhood search for placements, optional moves included: CP-SAT on a few workers at a time.

Why: the complete first-stage model is hard for one CP-SAT search even when small (measured on a
1,000-client agency with 2,578 columns: CP-SAT 85-89 placements in 10-30 s where the optimum is 92;
HiGHS needs 34 s to prove it), because the LP relaxation lets a fraction of a client move to free just
the room a placement needs. A model over a handful of workers, everything else held where the current
plan has it, is solved to optimality in a fraction of a second, and the plan improves a neighbourhood
at a time. Each neighbourhood frees:

- every unit placed with one of its workers, and every waiting unit that could go to one of them;
- every optional move *out of* one of its workers (to anywhere: a destination outside keeps only the
  room the fixed plan leaves it), within the move budget the rest of the plan leaves.

CP-SAT maximises placements, then fewer clients moved, from the current plan as a hint, so a
neighbourhood never makes the plan worse. Neighbourhoods grow around a seed worker over workers linked
by shared classes; seeds are visited in an order drawn from the seed, workers with waiting units that do
not fit first; the size doubles once a full sweep finds nothing.

Determinism: each neighbourhood runs one CP-SAT worker with a deterministic-time limit and the search
stops when its deterministic-time budget is spent, so the same seed gives the same plan; the wall-clock
deadline is only a safety net on a slow machine.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, replace

import numpy as np
from ortools.sat.python import cp_model

from optimizer.caseloads import Caseloads
from optimizer.classes import Classes
from optimizer.model import build_model

START_WORKERS = 4            # workers in a first neighbourhood
SOURCES_EVERY = 5            # every so many neighbourhoods, one of the workers sending clients away
MAX_COLUMNS = 2500           # a neighbourhood is cut down to about this many columns
SUBPROBLEM_DETERMINISTIC = 0.5  # CP-SAT deterministic time per neighbourhood (under a second of wall clock)


@dataclass(slots=True)
class SearchLog:
    neighbourhoods: int = 0
    improved: int = 0
    deterministic_time: float = 0.0
    largest: int = 0
    stop: str = ""  # stalled (a sweep of the whole agency found nothing), budget (deterministic), time

    def as_dict(self) -> dict:
        return {"neighbourhoods": self.neighbourhoods, "improved": self.improved,
                "deterministic_time": round(self.deterministic_time, 2), "largest_neighbourhood": self.largest,
                "stop": self.stop}


def worker_links(cl: Classes, columns: np.ndarray, n_workers: int) -> list[list[int]]:
    """Workers linked by a class with a column to each, or by a move class from one to the other."""
    c = cl.columns
    links: list[set[int]] = [set() for _ in range(n_workers)]
    units = columns[~c.is_move[columns]]
    order = units[np.argsort(c.group[units], kind="stable")]
    groups = np.split(order, np.nonzero(np.diff(c.group[order]))[0] + 1) if len(order) else []
    for g in groups:
        workers = np.unique(c.worker[g]).tolist()
        for j in workers:
            links[j].update(workers)
    moves = columns[c.is_move[columns]]
    for s, v in zip(c.source[moves].tolist(), c.worker[moves].tolist(), strict=True):
        links[s].add(v)
        links[v].add(s)
    return [sorted(s - {j}) for j, s in enumerate(links)]


def _grow(links: list[list[int]], seed_worker: int, size: int, rng: np.random.Generator) -> list[int]:
    """A breadth-first walk from ``seed_worker`` over linked workers, in a seeded random order."""
    seen = {seed_worker}
    queue = deque([seed_worker])
    while queue and len(seen) < size:
        nbrs = links[queue.popleft()]
        for k in rng.permutation(len(nbrs)):
            w = nbrs[k]
            if w not in seen:
                seen.add(w)
                queue.append(w)
                if len(seen) >= size:
                    break
    return sorted(seen)


def bottlenecks(state: Caseloads, cl: Classes) -> np.ndarray:
    """Per worker, how many waiting units of the classes it could take do not fit anywhere now."""
    out = np.zeros(state.el.n_workers, dtype=np.int64)
    for cls in cl.classes:
        waiting = sum(1 for u in cls.units if state.unit_worker[u] < 0)
        if waiting:
            out[cls.workers] += waiting
    return out


def improve(state: Caseloads, cl: Classes, columns: np.ndarray, *, deadline: float, deterministic_budget: float,
            seed: int, log: SearchLog | None = None) -> int:
    """Improve ``state`` neighbourhood by neighbourhood (see the module docstring); returns clients gained."""
    log = log if log is not None else SearchLog()
    c = cl.columns
    n_workers = state.el.n_workers
    columns = np.unique(columns)
    links = worker_links(cl, columns, n_workers)
    col_worker = c.worker[columns]
    col_owner = np.where(c.is_move[columns], c.source[columns], col_worker)  # the worker a column belongs to
    per_worker = np.bincount(col_owner, minlength=n_workers)
    unit_class = cl.unit_class()
    item_class = cl.item_class()
    rng = np.random.default_rng(seed)
    start_count = state.placed_count()
    size = START_WORKERS
    while log.deterministic_time < deterministic_budget and time.monotonic() + 0.2 < deadline:
        need = bottlenecks(state, cl)
        seeds = np.nonzero(per_worker > 0)[0]
        if not len(seeds):
            log.stop = "nothing to search"
            break
        order = seeds[np.lexsort((rng.random(len(seeds)), -(need[seeds] > 0).astype(int)))]
        gained_in_sweep = False
        for n, j in enumerate(order):
            if log.deterministic_time >= deterministic_budget or time.monotonic() + 0.2 > deadline:
                break
            if n % SOURCES_EVERY == SOURCES_EVERY - 1 and state.move_to:
                # the move budget is shared: let the workers sending clients away and a bottleneck trade it
                senders = sorted({int(state.el.current[i]) for i in state.move_to})
                nb = sorted(set(rng.permutation(senders)[:size].tolist()) | {int(j)})
            else:
                nb = _grow(links, int(j), size, rng)
            inside = _trimmed(nb, int(j), per_worker, n_workers)
            better = _solve_neighbourhood(state, cl, columns[inside[col_owner]], inside, unit_class, item_class,
                                          seed=seed, log=log)
            log.largest = max(log.largest, int(inside.sum()))
            if better:
                gained_in_sweep = True
        if not gained_in_sweep:
            if size >= n_workers:
                log.stop = "stalled"
                break
            size = min(n_workers, size * 2)
    if not log.stop:
        log.stop = "budget" if log.deterministic_time >= deterministic_budget else "time"
    return state.placed_count() - start_count


def _trimmed(nb: list[int], first: int, per_worker: np.ndarray, n_workers: int) -> np.ndarray:
    """The neighbourhood as a mask, its later workers dropped until it has about MAX_COLUMNS columns."""
    inside = np.zeros(n_workers, dtype=bool)
    total = 0
    for w in [first] + [w for w in nb if w != first]:
        if total + per_worker[w] > MAX_COLUMNS and inside.any():
            continue
        inside[w] = True
        total += per_worker[w]
    return inside


def _solve_neighbourhood(state: Caseloads, cl: Classes, cols: np.ndarray, inside: np.ndarray,
                         unit_class: dict[int, int], item_class: dict[int, int], *, seed: int,
                         log: SearchLog) -> bool:
    """Re-optimise one neighbourhood; apply and return True if placements rose (or moves fell)."""
    c = cl.columns
    el = state.el
    cap = state.cap
    unit_cols = cols[~c.is_move[cols]]
    move_cols = cols[c.is_move[cols]]
    classes = np.unique(c.group[unit_cols])
    freed_units = [u for k in classes for u in cl.classes[k].units
                   if state.unit_worker[u] < 0 or inside[state.unit_worker[u]]]
    freed_items = [item for item in state.moved_items() if inside[int(el.current[item[0]])]]
    move_classes = np.unique(c.group[move_cols])
    if not len(unit_cols) and not len(move_cols):
        return False

    # the plan with the neighbourhood's decisions taken out
    load = state.load.copy()
    new = state.new.copy()
    supply = np.zeros(len(cl.classes), dtype=np.int64)
    hint = np.zeros(len(c), dtype=np.int64)
    before_placed = 0
    for u in freed_units:
        k = unit_class[u]
        supply[k] += 1
        j = int(state.unit_worker[u])
        if j >= 0:
            load[j] -= state.unit_weight(u, j)
            new[j] -= state.units[u].size
            pos = int(np.searchsorted(cl.classes[k].workers, j))
            hint[c.class_start[k] + pos] += 1
            before_placed += state.units[u].size
    before_moved = 0
    hint_ok = True
    for item in freed_items:
        v = state.move_to[item[0]]
        s = int(el.current[item[0]])
        load[s] += state.item_weight(item, s)
        load[v] -= state.item_weight(item, v)
        new[v] -= len(item)
        before_moved += len(item)
        a = item_class.get(item[0])
        if a is None:
            hint_ok = False
            continue
        mc = cl.move_classes[a]
        pos = int(np.searchsorted(mc.workers, v))
        if pos < len(mc.workers) and mc.workers[pos] == v:
            hint[c.move_start[a] + pos] += 1
        else:
            hint_ok = False
    if not hint_ok:
        return False  # a move the classes cannot express: leave this neighbourhood as it is
    move_supply = np.zeros(len(cl.move_classes), dtype=np.int64)
    for a in move_classes:
        move_supply[a] = len(cl.move_classes[a].items)
    budget = cl.move_budget - (len(state.move_to) - before_moved)
    sub_cap = replace(cap, kept_load=load, new_allowance=cap.new_allowance - new)
    am = build_model(cl, sub_cap, cols, supply, move_supply=move_supply, move_budget=budget)
    _, placements = am.objectives["placements"]
    moves = am.objectives.get("moves", ("min", 0))[1]
    weight = cl.move_budget + 1
    am.model.maximize(placements * weight - moves)
    for col, var in zip(am.cols, am.var, strict=True):
        am.model.add_hint(var, int(hint[col]))
    solver = cp_model.CpSolver()
    p = solver.parameters
    p.random_seed = seed
    p.num_workers = 1
    p.max_deterministic_time = SUBPROBLEM_DETERMINISTIC
    p.max_time_in_seconds = 10.0 * SUBPROBLEM_DETERMINISTIC
    p.max_presolve_iterations = 1
    p.cp_model_probing_level = 0
    p.symmetry_level = 0
    status = solver.solve(am.model)
    log.neighbourhoods += 1
    log.deterministic_time += solver.deterministic_time
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return False
    values = np.array([solver.value(v) for v in am.var], dtype=np.int64)
    sizes = c.size[am.cols] * values
    is_move = c.is_move[am.cols]
    after_placed = int(sizes[~is_move].sum())
    after_moved = int(sizes[is_move].sum())
    if (after_placed, -after_moved) <= (before_placed, -before_moved):
        return False

    for u in freed_units:
        if state.unit_worker[u] >= 0:
            state.unplace(u)
    for item in freed_items:
        for i in item:
            state.unmove(i)
    for col, count in zip(am.cols, values, strict=True):
        if not count or not c.is_move[col]:
            continue
        mc = cl.move_classes[int(c.group[col])]
        free = [item for item in mc.items if item[0] not in state.move_to]
        for item in free[:int(count)]:
            state.move_item(item, int(c.worker[col]))
    pending: dict[int, list[int]] = {}
    for u in freed_units:  # class by class, best-ranked first
        pending.setdefault(unit_class[u], []).append(u)
    for col, count in zip(am.cols, values, strict=True):
        if not count or c.is_move[col]:
            continue
        k = int(c.group[col])
        for _ in range(int(count)):
            state.place(pending[k].pop(0), int(c.worker[col]))
    log.improved += 1
    return True
