"""Classes of interchangeable units, and the model's columns, as numpy arrays.

Why classes: two units (clients or families) with the same useful workers, the same need mix, the same
tier and the same language/needs profile are interchangeable for every rule and for objectives (1)-(4):
only *how many* of them each worker takes matters. So the model has one integer column ``x[k, j]`` per
class k and useful worker j (how many units of class k worker j takes), not one boolean per client and
worker. Within a class, units are taken best-ranked first (urgent, then longest waiting); which of them
goes to which worker is decided afterwards by a min-cost flow on travel (`optimizer.decode`).

Optional moves are columns too: active clients who could make room are grouped by (current worker, need
level, destinations, profile) and ``m[a, v]`` counts how many of move class a go to worker v. A move is
one step deep: from a *source* (a worker that a hard-to-place unit, one with at most TIGHT_WORKERS
workers with room, is eligible for) to a worker with room tonight. Clients
in a family are never moved (the family would be split). Forced movers are not moves here: they are
units like waiting clients.

A *useful* worker of a unit is an eligible one that accepts new clients, has intake allowance for the
unit's size, and has room for its load now, or could after moves out of it.

`Columns` flattens both kinds into aligned arrays (one entry per column); `optimizer.lp` solves their
LP relaxation and `optimizer.model` builds the CP-SAT model over all of them or a chosen subset.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from caseload.domain import Agency, NeedLevel, Status
from caseload.languages import primary
from optimizer.eligibility import Eligibility, WorkerCapacity
from optimizer.units import MAX_DAYS, Unit

TIGHT_WORKERS = 5        # a unit with at most this many workers with room may call for moves
MAX_MOVE_COLUMNS = 60_000     # the optional-move part of the model holds at most this many columns
MOVE_CLASSES_PER_SOURCE = 12  # move classes kept per source worker (its largest groups of movable clients)
MOVE_DESTINATIONS = 12   # destinations kept per move class (those with the most room tonight)
TRAVEL_SCALE = 10        # travel objective in tenths of a km


@dataclass(slots=True)
class UnitClass:
    """Interchangeable units (best-ranked first) and the workers that may take them."""

    units: list[int]
    workers: np.ndarray          # int32 worker indices
    high: int
    low: int
    tier: int
    prefix_gain: np.ndarray      # int64: gain of placing the first n units, n = 0..len(units)
    lang: np.ndarray             # int64 per worker: members served in their preferred language
    needs: np.ndarray            # int64 per worker: needs tags matched
    travel: np.ndarray           # int64 per worker: mean summed travel of a unit, tenths of km
    weight: np.ndarray           # int64 per worker: load units of one unit

    @property
    def size(self) -> int:
        return self.high + self.low


@dataclass(slots=True)
class MoveClass:
    """Interchangeable active clients on one worker who could move to make room."""

    clients: list[int]
    source: int
    workers: np.ndarray          # destinations
    out_weight: int              # load units freed on the source
    in_weight: np.ndarray        # load units taken at each destination
    high: bool
    lang: np.ndarray             # change in preferred-language matches if moved to each destination
    needs: np.ndarray
    travel: np.ndarray           # mean change in travel, tenths of km


@dataclass(slots=True)
class Columns:
    """One entry per column: unit-class columns first (class by class), then move columns."""

    is_move: np.ndarray          # bool
    group: np.ndarray            # class index, or move-class index for a move column
    worker: np.ndarray           # the worker taking the unit / receiving the moved client
    source: np.ndarray           # the worker a moved client leaves, -1 for unit columns
    weight: np.ndarray           # load units added at ``worker`` per unit of the column
    out_weight: np.ndarray       # load units freed at ``source`` (0 for unit columns)
    high: np.ndarray             # high-need clients per unit of the column
    low: np.ndarray
    upper: np.ndarray            # the column's upper bound
    lang: np.ndarray
    needs: np.ndarray
    travel: np.ndarray
    class_start: np.ndarray      # columns of class k are class_start[k]:class_start[k + 1]
    move_start: np.ndarray       # columns of move class a are move_start[a]:move_start[a + 1]

    def __len__(self) -> int:
        return len(self.worker)

    @property
    def size(self) -> np.ndarray:
        return self.high + self.low


@dataclass(slots=True)
class Classes:
    classes: list[UnitClass]
    move_classes: list[MoveClass]
    move_budget: int
    columns: Columns


def move_budget_of(agency: Agency) -> int:
    """floor(max_moves_share x active clients): optional moves allowed tonight."""
    active = sum(c.status == Status.ACTIVE for c in agency.clients)
    return int(math.floor(agency.policy.max_moves_share * active + 1e-9))


def tier_weights(units: list[Unit]) -> dict[int, int]:
    """Per-member weight of each tier, so that one member of a higher tier outweighs all lower ones.

    The gain of placing a unit is ``size * weight[tier] + days waiting``; if the strict weights would
    grow past 2**50 (many tiers and clients), the weights are capped to a strong but not strict order.
    """
    tiers = sorted({u.tier for u in units})
    weights: dict[int, int] = {}
    below = 0
    strict = True
    for t in tiers:
        weights[t] = below + 1
        below += sum(u.size * weights[t] + u.days for u in units if u.tier == t)
        if below > 2**50:
            strict = False
            break
    if not strict:
        step = 4 * (MAX_DAYS + 1)
        weights = {t: n * step for n, t in enumerate(tiers)}
    return weights


def profile(el: Eligibility, unit: Unit) -> tuple:
    out = []
    for i in unit.members:
        c = el.clients[i]
        first = primary(c.languages[0]) if c.languages else ""
        out.append((first, c.french_service, tuple(sorted(c.needs))))
    return tuple(sorted(out))


def pair_values(el: Eligibility, i: int, workers: np.ndarray) -> tuple[np.ndarray, ...]:
    """(preferred, needs matched, travel tenths of km) of client i with each of ``workers``."""
    lo, hi = el.indptr[i], el.indptr[i + 1]
    slots = lo + np.searchsorted(el.indices[lo:hi], workers)
    travel = el.travel_km[slots]
    travel = np.where(np.isnan(travel), 0.0, travel)
    return (el.preferred[slots].astype(np.int64), el.needs_matched[slots].astype(np.int64),
            np.rint(travel * TRAVEL_SCALE).astype(np.int64))


def useful_workers(el: Eligibility, cap: WorkerCapacity,
                   units: list[Unit]) -> tuple[list[np.ndarray], list[np.ndarray], np.ndarray]:
    """Per unit, the eligible workers that can take it now and those that could after moves.

    Returns (fits now, full now) per unit and, per worker, whether it is a move source: a worker some
    tight unit (at most TIGHT_WORKERS workers with room for it) is eligible for; its room may be too
    small for the unit, or too small for all the units that have only it.
    """
    room = cap.capacity - cap.kept_load
    accepting = cap.accepts_new
    fits_now: list[np.ndarray] = []
    could: list[np.ndarray] = []
    for u in units:
        e = u.eligible
        ok = accepting[e] & (cap.new_allowance[e] >= u.size)
        weight = u.high * cap.high_weight[e] + u.low * cap.low_weight[e]
        fits_now.append(e[ok & (weight <= room[e])])
        could.append(e[ok & (weight > room[e])])
    source = np.zeros(el.n_workers, dtype=bool)
    for n in range(len(units)):
        if len(fits_now[n]) <= TIGHT_WORKERS:
            # a unit with few options: room on any of its workers, made by moving others, may place it
            source[could[n]] = True
            source[fits_now[n]] = True
    return fits_now, could, source


def build_classes(agency: Agency, el: Eligibility, cap: WorkerCapacity, units: list[Unit],
                  order: list[int]) -> Classes:
    """Unit classes, move classes and the model's columns (see the module docstring)."""
    fits_now, could, source = useful_workers(el, cap, units)
    move_budget = move_budget_of(agency)
    move_classes = _move_classes(el, cap, source) if move_budget > 0 else []
    freeable = _freeable(cap, move_classes, move_budget, el.n_workers)

    weights = tier_weights(units)
    position = {u: n for n, u in enumerate(order)}
    groups: dict[tuple, list[int]] = {}
    for n, u in enumerate(units):
        extra = could[n]
        if len(extra):
            weight = u.high * cap.high_weight[extra] + u.low * cap.low_weight[extra]
            extra = extra[weight <= cap.capacity[extra] - cap.kept_load[extra] + freeable[extra]]
        workers = np.union1d(fits_now[n], extra).astype(np.int32) if len(extra) else fits_now[n]
        if len(workers) == 0:
            continue
        key = (workers.tobytes(), u.high, u.low, u.tier, profile(el, u))
        groups.setdefault(key, []).append(n)

    classes = []
    for key in sorted(groups, key=lambda k: min(position[u] for u in groups[k])):
        members = sorted(groups[key], key=lambda u: position[u])
        first = units[members[0]]
        workers = np.frombuffer(key[0], dtype=np.int32)
        lang = np.zeros(len(workers), dtype=np.int64)
        needs = np.zeros(len(workers), dtype=np.int64)
        for i in first.members:
            p, q, _ = pair_values(el, i, workers)
            lang += p
            needs += q
        travel = np.zeros(len(workers), dtype=np.float64)
        for u in members:
            for i in units[u].members:
                travel += pair_values(el, i, workers)[2]
        gains = [units[u].size * weights[first.tier] + units[u].days for u in members]
        classes.append(UnitClass(
            units=members, workers=workers, high=first.high, low=first.low, tier=first.tier,
            prefix_gain=np.concatenate([[0], np.cumsum(gains)]).astype(np.int64),
            lang=lang, needs=needs, travel=np.rint(travel / len(members)).astype(np.int64),
            weight=(first.high * cap.high_weight[workers] + first.low * cap.low_weight[workers]).astype(np.int64),
        ))
    return Classes(classes, move_classes, move_budget, _columns(cap, classes, move_classes, move_budget))


def _move_classes(el: Eligibility, cap: WorkerCapacity, source: np.ndarray) -> list[MoveClass]:
    """Active clients on source workers who could move to a worker with room tonight."""
    if not source.any():
        return []
    families: dict[str, int] = {}
    for c in el.clients:
        if c.family_id:
            families[c.family_id] = families.get(c.family_id, 0) + 1
    room = cap.capacity - cap.kept_load
    open_worker = cap.accepts_new & (cap.new_allowance >= 1)
    groups: dict[tuple, list[int]] = {}
    for i, c in enumerate(el.clients):
        j = int(el.current[i])
        if j < 0 or el.forced[i] or not source[j] or (c.family_id and families[c.family_id] > 1):
            continue
        e = el.eligible(i)
        high = c.need_level == NeedLevel.HIGH
        weight = cap.high_weight[e] if high else cap.low_weight[e]
        dest = e[(e != j) & open_worker[e] & (weight <= room[e])]
        if len(dest) == 0:
            continue
        first = primary(c.languages[0]) if c.languages else ""
        key = (j, bool(high), dest.tobytes(), first, c.french_service, tuple(sorted(c.needs)))
        groups.setdefault(key, []).append(i)
    by_source: dict[int, list[tuple]] = {}
    for key in sorted(groups, key=lambda k: groups[k][0]):
        by_source.setdefault(key[0], []).append(key)
    out = []
    total = 0
    for j in sorted(by_source):
        # the source's largest groups first: more clients who could go, more ways to make room
        keys = sorted(by_source[j], key=lambda k: (-len(groups[k]), groups[k][0]))[:MOVE_CLASSES_PER_SOURCE]
        for key in keys:
            clients = groups[key]
            high = key[1]
            dest = np.frombuffer(key[2], dtype=np.int32)
            dest = dest[np.lexsort((dest, -room[dest]))[:MOVE_DESTINATIONS]]
            dest = np.sort(dest)
            if total + len(dest) > MAX_MOVE_COLUMNS:
                break
            total += len(dest)
            out.append(_move_class(el, cap, clients, j, bool(high), dest))
    return out


def _move_class(el: Eligibility, cap: WorkerCapacity, clients: list[int], j: int, high: bool,
                dest: np.ndarray) -> MoveClass:
    """One move class: its clients, destinations, and the objective changes of moving one of them."""
    p_new, q_new, _ = pair_values(el, clients[0], dest)
    p_old, q_old, _ = pair_values(el, clients[0], np.array([j], dtype=np.int32))
    travel = np.zeros(len(dest), dtype=np.float64)
    for i in clients:
        t_new = pair_values(el, i, dest)[2]
        t_old = pair_values(el, i, np.array([j], dtype=np.int32))[2]
        travel += t_new - t_old[0]
    return MoveClass(
        clients=clients, source=j, workers=dest,
        out_weight=int(cap.high_weight[j] if high else cap.low_weight[j]), high=bool(high),
        in_weight=(cap.high_weight[dest] if high else cap.low_weight[dest]).astype(np.int64),
        lang=p_new - p_old[0], needs=q_new - q_old[0],
        travel=np.rint(travel / len(clients)).astype(np.int64),
    )


def _freeable(cap: WorkerCapacity, move_classes: list[MoveClass], budget: int, n_workers: int) -> np.ndarray:
    """Most load units moves could free on each worker (its heaviest movable clients, up to the budget)."""
    per_worker: dict[int, list[int]] = {}
    for mc in move_classes:
        per_worker.setdefault(mc.source, []).extend([mc.out_weight] * len(mc.clients))
    out = np.zeros(n_workers, dtype=np.int64)
    for j, ws in per_worker.items():
        out[j] = sum(sorted(ws, reverse=True)[:budget])
    return out


def _columns(cap: WorkerCapacity, classes: list[UnitClass], move_classes: list[MoveClass],
             move_budget: int) -> Columns:
    room = cap.capacity - cap.kept_load
    freeable = _freeable(cap, move_classes, move_budget, len(cap.capacity))
    parts: dict[str, list[np.ndarray]] = {k: [] for k in (
        "is_move", "group", "worker", "source", "weight", "out_weight", "high", "low", "upper",
        "lang", "needs", "travel")}
    class_start = [0]
    for k, cls in enumerate(classes):
        w = cls.workers
        n = len(w)
        most = np.minimum(len(cls.units), cap.new_allowance[w] // cls.size)
        most = np.minimum(most, np.maximum(0, room[w] + freeable[w]) // np.maximum(cls.weight, 1))
        for key, value in (("is_move", np.zeros(n, bool)), ("group", np.full(n, k)), ("worker", w),
                           ("source", np.full(n, -1)), ("weight", cls.weight), ("out_weight", np.zeros(n)),
                           ("high", np.full(n, cls.high)), ("low", np.full(n, cls.low)), ("upper", most),
                           ("lang", cls.lang), ("needs", cls.needs), ("travel", cls.travel)):
            parts[key].append(np.asarray(value))
        class_start.append(class_start[-1] + n)
    move_start = [class_start[-1]]
    for a, mc in enumerate(move_classes):
        w = mc.workers
        n = len(w)
        upper = np.full(n, min(len(mc.clients), move_budget))
        for key, value in (("is_move", np.ones(n, bool)), ("group", np.full(n, a)), ("worker", w),
                           ("source", np.full(n, mc.source)), ("weight", mc.in_weight),
                           ("out_weight", np.full(n, mc.out_weight)), ("high", np.full(n, int(mc.high))),
                           ("low", np.full(n, int(not mc.high))), ("upper", upper), ("lang", mc.lang),
                           ("needs", mc.needs), ("travel", mc.travel)):
            parts[key].append(np.asarray(value))
        move_start.append(move_start[-1] + n)

    def cat(key: str, dtype) -> np.ndarray:
        return np.concatenate(parts[key]).astype(dtype) if parts[key] else np.zeros(0, dtype=dtype)

    return Columns(
        is_move=cat("is_move", bool), group=cat("group", np.int64), worker=cat("worker", np.int64),
        source=cat("source", np.int64), weight=cat("weight", np.int64), out_weight=cat("out_weight", np.int64),
        high=cat("high", np.int64), low=cat("low", np.int64), upper=np.maximum(cat("upper", np.int64), 0),
        lang=cat("lang", np.int64), needs=cat("needs", np.int64), travel=cat("travel", np.int64),
        class_start=np.array(class_start, dtype=np.int64), move_start=np.array(move_start, dtype=np.int64),
    )


def knapsack_hull(high_weight: int, low_weight: int, room: int, allowance: int) -> list[tuple[int, int, int]]:
    """Facets ``a*h + b*l <= c`` of the convex hull of a worker's feasible (high, low) intakes.

    The integer points are ``{h, l >= 0: high_weight*h + low_weight*l <= room, h + l <= allowance}``.
    The model's own constraints already define this set; the facets are implied, but they close the LP
    relaxation's gap from fractional clients squeezed into each worker's leftover room.
    """
    if room < 0 or allowance < 0:
        return []
    points = []
    for h in range(min(room // high_weight, allowance) + 1):
        points.append((h, min((room - high_weight * h) // low_weight, allowance - h)))
    hull: list[tuple[int, int]] = []
    for p in points:  # upper concave envelope, left to right
        while len(hull) >= 2:
            (x1, y1), (x2, y2) = hull[-2], hull[-1]
            if (y2 - y1) * (p[0] - x1) <= (p[1] - y1) * (x2 - x1):
                hull.pop()
            else:
                break
        hull.append(p)
    facets = []
    for (x1, y1), (x2, y2) in zip(hull, hull[1:], strict=False):
        a, b = y1 - y2, x2 - x1
        g = math.gcd(a, b)
        facets.append((a // g, b // g, (a * x1 + b * y1) // g))
    return facets


def worker_facets(high_weight: int, low_weight: int, room: int, allowance: int,
                  source: bool) -> list[tuple[int, int, int, int, int]]:
    """Hull facets of a worker's intake as ``a*h + b*l - sum over moves out (p*w + s) <= c``: (a, b, p, s, c).

    ``h``, ``l`` count arriving high/low clients; each optional move out frees ``w`` load units. For a
    worker nobody leaves, ``p = s = 0`` and the facets are those of `knapsack_hull` (with the weekly
    allowance). For a move source they are relaxed to stay valid: with room R + D after freeing D units
    by n >= 1 moves, ``a*h + b*l <= rho*(R + D) = c + slack + rho*D <= c + slack*n + rho*D`` where
    ``rho = max(a/high_weight, b/low_weight)`` and ``slack = rho*R - c``; the row is scaled to integers.
    """
    if not source:
        return [(a, b, 0, 0, c) for a, b, c in knapsack_hull(high_weight, low_weight, room, allowance)]
    out = []
    for a, b, c in knapsack_hull(high_weight, low_weight, room, room // min(high_weight, low_weight) + 1):
        if a * low_weight >= b * high_weight:
            q, rho_num = high_weight, a  # rho = a / high_weight
        else:
            q, rho_num = low_weight, b   # rho = b / low_weight
        slack = rho_num * room - q * c   # q * (rho * R - c) >= 0
        out.append((q * a, q * b, rho_num, slack, q * c))
    return out
