"""Last touches on a decoded plan, so that every move and every waiting reason is true.

1. `undo_idle_moves`: an optional move is undone when the worker it left received no one tonight (the
   room it made went unused), so every optional move made room someone took; `undo_unneeded_moves`
   undoes a move whenever its client fits back (fewer moves, objective 2, same placements).
2. `fill`: a waiting unit that fits an eligible worker is placed, best-ranked first. After an optimal
   solve there is none; after a solve cut short by the time limit there may be, and a client must not
   wait while a worker could take them. After this pass, every eligible worker of every waiting unit
   is at target, over target or out of weekly intake.
"""

from __future__ import annotations

import numpy as np

from optimizer.caseloads import Caseloads
from optimizer.classes import pair_values


def undo_idle_moves(state: Caseloads) -> int:
    """Undo optional moves out of workers that received no one; returns how many were undone."""
    undone = 0
    changed = True
    while changed:
        changed = False
        incoming = state.moved_in()
        for item in state.moved_items():
            source = int(state.el.current[item[0]])
            if state.received[source] > 0 or incoming[source] > 0:
                continue
            for i in item:
                state.unmove(i)
            undone += len(item)
            changed = True
    return undone


def undo_unneeded_moves(state: Caseloads) -> int:
    """Objective (2), after the fact: undo every optional move whose client fits back with their worker
    (the room it made was not all used). Placements are untouched; returns how many were undone."""
    undone = 0
    for item in state.moved_items():
        source = int(state.el.current[item[0]])
        if state.item_weight(item, source) <= state.room(source):
            for i in item:
                state.unmove(i)
            undone += len(item)
    return undone


def _preference(state: Caseloads, u: int, workers: np.ndarray) -> list[int]:
    """Eligible workers best first for objectives 3-6: preferred language, needs, travel, lower load."""
    el = state.el
    lang = np.zeros(len(workers), dtype=np.int64)
    needs = np.zeros(len(workers), dtype=np.int64)
    travel = np.zeros(len(workers), dtype=np.int64)
    for i in state.units[u].members:
        p, q, t = pair_values(el, i, workers)
        lang += p
        needs += q
        travel += t
    util = state.load[workers] / np.maximum(state.cap.capacity[workers], 1)
    order = np.lexsort((workers, util, travel, -needs, -lang))
    return [int(workers[n]) for n in order]


def fill(state: Caseloads, order: list[int]) -> int:
    """Place every waiting unit that fits an eligible worker; returns how many units were placed."""
    placed = 0
    for u in order:
        unit = state.units[u]
        if state.unit_worker[u] >= 0 or len(unit.eligible) == 0:
            continue
        fitting = np.array([j for j in unit.eligible if state.fits(u, int(j))], dtype=np.int32)
        if len(fitting):
            state.place(u, _preference(state, u, fitting)[0])
            placed += 1
    return placed
