"""Making room by moving active clients: the optional moves on large agencies, and a last pass on all.

A waiting unit whose eligible workers are all full can sometimes be placed by moving one or two active
clients off one of those workers to another eligible worker who has room (within max_moves_share). On a
small agency the CP-SAT model chooses such moves itself. On a large one, CP-SAT's search with move
variables stalls (measured: no improvement over the greedy plan in 20 s on a 6,000-client agency, with
or without hints), so the model places clients without moves and this pass then makes room, unit by
unit in rank order, with the fewest moves per unit. It also runs after the small model's solve, where it
can only add placements.
"""

from __future__ import annotations

import numpy as np

from caseload.domain import NeedLevel
from optimizer.caseloads import Caseloads
from optimizer.classes import pair_values

MAX_SOURCES_TRIED = 12   # eligible full workers tried per waiting unit (those needing the least room first)


def movable_clients(state: Caseloads) -> dict[int, list[int]]:
    """Per worker, its active clients who may be moved: not forced off, not in a family (never split), not
    kept by the coordinator (override keep)."""
    el = state.el
    families: dict[str, int] = {}
    for c in el.clients:
        if c.family_id:
            families[c.family_id] = families.get(c.family_id, 0) + 1
    out: dict[int, list[int]] = {}
    for i, c in enumerate(el.clients):
        j = int(el.current[i])
        if j >= 0 and not el.forced[i] and not el.is_kept(i) and not (c.family_id and families[c.family_id] > 1):
            out.setdefault(j, []).append(i)
    return out


def _destination(state: Caseloads, i: int, source: int, pending: dict[int, tuple[int, int]],
                 senders: set[int], destinations: dict[int, np.ndarray] | None) -> int:
    """The best worker (preferred language, needs, travel) client i could move to now, -1 if none.

    ``pending`` holds (load units, intake) already promised to destinations by the plan being built;
    a worker that has sent clients away tonight receives none (this pass makes one-step moves; chains of
    moves are the model's, `optimizer.classes`).
    """
    el = state.el
    cap = state.cap
    if destinations is None:
        e = el.eligible(i)
    elif i in destinations:
        e = destinations[i]
    else:
        return -1
    e = e[(e != source) & cap.accepts_new[e]]
    if not len(e):
        return -1
    high = el.clients[i].need_level == NeedLevel.HIGH
    weight = cap.high_weight[e] if high else cap.low_weight[e]
    left = cap.capacity[e] - state.load[e]
    intake = cap.new_allowance[e] - state.new[e]
    for v, (units, n) in pending.items():
        hit = e == v
        left = np.where(hit, left - units, left)
        intake = np.where(hit, intake - n, intake)
    ok = (weight <= left) & (intake >= 1)
    if senders:
        ok &= ~np.isin(e, list(senders))
    if not ok.any():
        return -1
    e = e[ok]
    lang, needs, travel = pair_values(el, i, e)
    return int(e[np.lexsort((e, travel, -needs, -lang))[0]])


def _plan_room(state: Caseloads, u: int, source: int, candidates: list[int], budget: int,
               senders: set[int], stuck: set[int],
               destinations: dict[int, np.ndarray] | None) -> list[tuple[int, int]] | None:
    """Fewest moves off ``source`` that free enough room for unit u there: [(client, destination)].

    ``stuck`` collects clients with no destination: rooms only shrink during a pass, so they stay stuck.
    """
    need = state.unit_weight(u, source) - state.room(source)
    if need <= 0:
        return []
    pending: dict[int, tuple[int, int]] = {}
    plan = []
    freed = 0
    for i in candidates:  # heaviest first: the fewest moves free the room
        if i in state.move_to or i in stuck:
            continue
        if len(plan) >= budget:
            return None
        v = _destination(state, i, source, pending, senders | {source}, destinations)
        if v < 0:
            stuck.add(i)
            continue
        units, n = pending.get(v, (0, 0))
        pending[v] = (units + state.client_weight(i, v), n + 1)
        plan.append((i, v))
        freed += state.client_weight(i, source)
        if freed >= need:
            return plan
    return None


def receivers(state: Caseloads) -> set[int]:
    """Workers that received a moved client tonight (this pass sends no one away from them: its moves are
    one step deep)."""
    return set(state.move_to.values())


def make_room(state: Caseloads, order: list[int], budget: int, allowed: dict[int, np.ndarray],
              destinations: dict[int, np.ndarray] | None = None) -> int:
    """Place waiting units by moving active clients off a full eligible worker; returns units placed.

    ``allowed`` gives, per unit, the workers the model has columns for (so the plan stays expressible
    in the model that later stages refine); units not in it are skipped. ``destinations`` does the same
    for moves: per movable client, the workers the model's move columns reach (None: any eligible one;
    clients not in it stay put). A plan the model cannot express cannot start its search.
    """
    if budget <= len(state.move_to):
        return 0
    movable = {j: sorted(clients, key=lambda i: (-state.client_weight(i, j), i))
               for j, clients in movable_clients(state).items()}
    senders = {int(state.el.current[i]) for i in state.move_to}
    stuck: set[int] = set()
    placed = 0
    for u in order:
        unit = state.units[u]
        left = budget - len(state.move_to)
        if left <= 0:
            break
        if state.unit_worker[u] >= 0 or u not in allowed:
            continue
        sources = [int(j) for j in allowed[u]
                   if state.cap.accepts_new[j] and state.allowance_left(int(j)) >= unit.size and movable.get(int(j))]
        sources.sort(key=lambda j: (state.unit_weight(u, j) - state.room(j), j))
        best: tuple[int, list[tuple[int, int]]] | None = None
        incoming = receivers(state)
        for j in sources[:MAX_SOURCES_TRIED]:
            if j in incoming:
                continue
            plan = _plan_room(state, u, j, movable[j], left, senders, stuck, destinations)
            if plan is not None and (best is None or len(plan) < len(best[1])):
                best = (j, plan)
                if len(plan) <= 1:
                    break
        if best is None:
            continue
        j, plan = best
        for i, v in plan:
            state.move(i, v)
            senders.add(j)
        if state.fits(u, j):
            state.place(u, j)
            placed += 1
        else:  # cannot happen: the plan freed the room; undo rather than break a rule
            for i, _ in plan:
                state.unmove(i)
    return placed
