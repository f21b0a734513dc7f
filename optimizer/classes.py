"""Classes of interchangeable units, and the model's columns, as numpy arrays.

Why classes: two units (clients or families) with the same useful workers, the same need mix, the same
tier and the same language/needs profile are interchangeable for every rule and for objectives (1)-(4):
only *how many* of them each worker takes matters. So the model has one integer column ``x[k, j]`` per
class k and useful worker j (how many units of class k worker j takes), not one boolean per client and
worker. Within a class, units are taken best-ranked first (urgent, then longest waiting); which of them
goes to which worker is decided afterwards by a min-cost flow on travel (`optimizer.decode`).

Optional moves are columns too: *movable items* (an active client, or an active family moved whole, so
a family is never split) are grouped by (current worker, need mix, destinations, profile) and ``m[a, v]``
counts how many items of move class a go to worker v; an item of size s uses s of the move budget (the
budget counts clients moved). A move goes from a *source* (a worker some waiting unit is eligible for but
that lacks room for it) to a worker with room tonight; in a small agency's complete model (``every_move``)
from any worker to any, including one whose own moves out make the room (moves in a chain: A's client goes
to B while one of B's goes to C); the capacity rows count moves in and out alike. Forced movers are not
moves here: they are units like waiting clients.

A *useful* worker of a unit is an eligible one that accepts new clients, has intake allowance for the
unit's size, and has room for its load now, or could after moves out of it.

`Columns` flattens both kinds into aligned arrays (one entry per column); `optimizer.lp` solves their
LP relaxation and `optimizer.model` builds the CP-SAT model over all of them or a chosen subset.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from caseload.domain import Agency, NeedLevel, Status
from caseload.languages import primary
from optimizer.eligibility import Eligibility, WorkerCapacity
from optimizer.units import MAX_DAYS, Unit

MAX_MOVE_COLUMNS = 400_000     # the optional-move part of the model holds at most this many columns
MOVE_CLASSES_PER_SOURCE = 40  # move classes kept per source worker (its largest groups of movable items)
MOVE_DESTINATIONS = 8    # destinations kept per move class (those with the most room tonight)
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
    """Interchangeable movable items (an active client, or an active family whole) on one worker."""

    items: list[tuple[int, ...]]  # client indices moved together (one client, or a family's members)
    source: int
    workers: np.ndarray          # destinations
    out_weight: int              # load units freed on the source by one item
    in_weight: np.ndarray        # load units one item takes at each destination
    high: int                    # high-need members per item
    low: int
    lang: np.ndarray             # change in preferred-language matches if moved to each destination
    needs: np.ndarray
    travel: np.ndarray           # mean change in travel, tenths of km

    @property
    def size(self) -> int:
        """Clients moved per item: what one item uses of the move budget."""
        return self.high + self.low


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
    moves_complete: bool = True  # every optional move tonight has its column (no destination, move class or
                                 # column cut): the model's bounds are then bounds on tonight's whole problem
    rows_cache: list = field(default_factory=list, repr=False, compare=False)  # see `lp.complete_rows`

    def unit_class(self) -> dict[int, int]:
        """Unit index -> the class holding it."""
        return {u: k for k, cls in enumerate(self.classes) for u in cls.units}

    def item_class(self) -> dict[int, int]:
        """First member of each movable item -> the move class holding it."""
        return {item[0]: a for a, mc in enumerate(self.move_classes) for item in mc.items}


def move_budget_of(agency: Agency) -> int:
    """floor(max_moves_share x active clients), less the optional moves the store's history already made in
    the policy's moves_window_days (``agency.moves_used``): optional moves allowed tonight."""
    active = sum(c.status == Status.ACTIVE for c in agency.clients)
    return max(0, int(math.floor(agency.policy.max_moves_share * active + 1e-9)) - agency.moves_used)


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
    unit is eligible for (it accepts new clients) whose room is too small for that unit, or too small
    for all the units that could go to it.
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
    demand = np.zeros(el.n_workers, dtype=np.int64)
    for n, u in enumerate(units):
        source[could[n]] = True
        if len(fits_now[n]):
            demand[fits_now[n]] += u.high * cap.high_weight[fits_now[n]] + u.low * cap.low_weight[fits_now[n]]
    source |= accepting & (demand > room)
    return fits_now, could, source


def build_classes(agency: Agency, el: Eligibility, cap: WorkerCapacity, units: list[Unit],
                  order: list[int], move_destinations: int = MOVE_DESTINATIONS,
                  optional: np.ndarray | None = None, every_move: bool = False,
                  keep_moves: dict[tuple[int, ...], int] | None = None) -> Classes:
    """Unit classes, move classes (at most ``move_destinations`` destinations each) and the model's columns
    (see the module docstring).

    ``every_move``: every optional move tonight gets its column, as far as the caps on move classes allow
    (Classes.moves_complete says whether they did): every worker's movable clients, to every destination,
    moves in chains included (`_reach`). For small agencies, whose bound must then be tonight's. Without
    it a move goes one step, from a source to a worker with room tonight: on a 6,000-client agency chains
    added 6,157 columns (52,398 -> 58,555) and, in 30 s, placed no more (582 vs 582-584) and travelled
    8% further.

    ``optional`` (int per worker, -1 for the agency's own): workers a model may leave closed (the staffing
    planner's hires), ranked by the value (lowest first: e.g. the copy number, as copies open in order). A move
    class then keeps up to ``move_destinations`` of the own workers, as if the optional ones were absent (an
    empty hire has the most room, and would crowd the agency's own workers out of every class), and up to as
    many optional ones besides, lowest rank first.

    ``keep_moves`` (a movable item -> destination): moves a start plan makes (`optimizer.assign`'s
    ``start_from``, e.g. the staffing planner's plan), whose destinations keep their columns beyond the
    ``move_destinations`` with the most room, so that the model holds that plan whole."""
    fits_now, could, source = useful_workers(el, cap, units)
    move_budget = move_budget_of(agency)
    if every_move:
        source = np.ones(el.n_workers, dtype=bool)
        move_destinations = el.n_workers
    move_classes, complete = (_move_classes(el, cap, source, move_destinations, optional,
                                            move_budget if every_move else 0, keep_moves or {})
                              if move_budget > 0 else ([], True))
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
    return Classes(classes, move_classes, move_budget, _columns(cap, classes, move_classes, move_budget), complete)


def movable_items(el: Eligibility) -> list[tuple[int, ...]]:
    """What may move tonight: each active client not forced off their worker, not kept by the coordinator
    (override keep) and not in a family, and each family whose members are all active with one worker,
    none forced and none kept (it moves whole)."""
    families: dict[str, list[int]] = {}
    for i, c in enumerate(el.clients):
        if c.family_id:
            families.setdefault(c.family_id, []).append(i)
    items: list[tuple[int, ...]] = []
    for i, c in enumerate(el.clients):
        j = int(el.current[i])
        if j < 0 or el.forced[i]:
            continue
        members = families.get(c.family_id, [i]) if c.family_id else [i]
        if members[0] != i:
            continue  # the family is taken at its first member
        if all(int(el.current[m]) == j and not el.forced[m] and not el.is_kept(m) for m in members):
            items.append(tuple(members))
    return items


def _item_weight(el: Eligibility, cap: WorkerCapacity, item: tuple[int, ...], j: int) -> int:
    high = sum(el.clients[m].need_level == NeedLevel.HIGH for m in item)
    return int(high * cap.high_weight[j] + (len(item) - high) * cap.low_weight[j])


def _reach(el: Eligibility, cap: WorkerCapacity, source: np.ndarray, items: list[tuple[int, ...]],
           budget: int) -> np.ndarray:
    """Per worker, the most load units moves out of it could free (its heaviest movable items within the
    budget; 0 for a worker that is no move source): room a move into it may count on, so that a move can
    follow another (a client leaves worker A for B, and one of B's leaves for C to make that room). Without
    these chains the model is a restriction, and its bound is not tonight's: on the 480-client sample the
    one-step model's optimum is 63 where chains place 64."""
    per_worker: dict[int, list[tuple[int, int]]] = {}
    for item in items:
        j = int(el.current[item[0]])
        if source[j]:
            per_worker.setdefault(j, []).append((_item_weight(el, cap, item, j), len(item)))
    return _most_freed(per_worker, budget, el.n_workers)


def _most_freed(per_worker: dict[int, list[tuple[int, int]]], budget: int, n_workers: int) -> np.ndarray:
    """Per worker, the load units its heaviest (per client moved) items free within the move budget, from
    (load units, clients) per movable item: an upper bound on the room moves out of it make."""
    out = np.zeros(n_workers, dtype=np.int64)
    for j, weights in per_worker.items():
        left = budget
        for weight, size in sorted(weights, key=lambda t: -t[0] / t[1]):
            if size <= left:
                out[j] += weight
                left -= size
    return out


def _move_classes(el: Eligibility, cap: WorkerCapacity, source: np.ndarray,
                  move_destinations: int = MOVE_DESTINATIONS, optional: np.ndarray | None = None,
                  chain_budget: int = 0,
                  keep: dict[tuple[int, ...], int] | None = None) -> tuple[list[MoveClass], bool]:
    """Movable items on source workers who could move to a worker with room tonight, or (with a
    ``chain_budget``, the move budget) with room that moves out of it could make (`_reach`); destinations
    with the most room tonight first, and those ``keep`` names (`build_classes`' keep_moves), whose classes
    also come first among their source's. Also whether every move tonight has its column
    (Classes.moves_complete): only with chains, from every worker, and nothing cut."""
    keep = keep or {}
    if not source.any():
        return [], True
    room = cap.capacity - cap.kept_load
    items = movable_items(el)
    reach = _reach(el, cap, source, items, chain_budget)
    complete = chain_budget > 0 and all(source[int(el.current[item[0]])] for item in items)
    groups: dict[tuple, list[tuple[int, ...]]] = {}
    for item in items:
        j = int(el.current[item[0]])
        if not source[j]:
            continue
        e = el.eligible(item[0])
        for m in item[1:]:
            e = np.intersect1d(e, el.eligible(m), assume_unique=True)
        high = sum(el.clients[m].need_level == NeedLevel.HIGH for m in item)
        low = len(item) - high
        weight = high * cap.high_weight[e] + low * cap.low_weight[e]
        dest = e[(e != j) & cap.accepts_new[e] & (cap.new_allowance[e] >= len(item))
                 & (weight <= room[e] + reach[e])]
        if len(dest) == 0:
            continue
        prof = tuple(sorted((primary(el.clients[m].languages[0]) if el.clients[m].languages else "",
                             el.clients[m].french_service, tuple(sorted(el.clients[m].needs))) for m in item))
        key = (j, high, low, dest.tobytes(), prof)
        groups.setdefault(key, []).append(item)
    by_source: dict[int, list[tuple]] = {}
    for key in sorted(groups, key=lambda k: groups[k][0]):
        by_source.setdefault(key[0], []).append(key)
    out = []
    total = 0
    for j in sorted(by_source):
        # the source's largest groups first (more items that could go), then the heaviest; those with a kept move
        # before all (a class past MOVE_CLASSES_PER_SOURCE gets no column)
        kept = {key: np.array(sorted({keep[item] for item in groups[key] if item in keep}), dtype=np.int32)
                for key in by_source[j]}
        keys = sorted(by_source[j], key=lambda k: (not len(kept[k]), -len(groups[k]), -(k[1] + k[2]),
                                                   groups[k][0]))
        complete &= len(keys) <= MOVE_CLASSES_PER_SOURCE
        for key in keys[:MOVE_CLASSES_PER_SOURCE]:
            dest = np.frombuffer(key[3], dtype=np.int32)
            every = len(dest)
            if optional is None:
                dest = np.sort(dest[np.lexsort((dest, -room[dest]))[:move_destinations]])
            else:
                own, extra = dest[optional[dest] < 0], dest[optional[dest] >= 0]
                dest = np.sort(np.concatenate([own[np.lexsort((own, -room[own]))[:move_destinations]],
                                               extra[np.lexsort((extra, -room[extra], optional[extra]))
                                                     [:move_destinations]]]))
            if len(kept[key]):
                allowed = np.frombuffer(key[3], dtype=np.int32)
                dest = np.union1d(dest, kept[key][np.isin(kept[key], allowed)]).astype(np.int32)
            complete &= len(dest) == every
            if total + len(dest) > MAX_MOVE_COLUMNS and not len(kept[key]):
                complete = False
                break
            total += len(dest)
            out.append(_move_class(el, cap, groups[key], j, key[1], key[2], dest))
    return out, complete


def _move_class(el: Eligibility, cap: WorkerCapacity, items: list[tuple[int, ...]], j: int, high: int, low: int,
                dest: np.ndarray) -> MoveClass:
    """One move class: its items, destinations, and the objective changes of moving one of them."""
    here = np.array([j], dtype=np.int32)
    lang = np.zeros(len(dest), dtype=np.int64)
    needs = np.zeros(len(dest), dtype=np.int64)
    for m in items[0]:
        p_new, q_new, _ = pair_values(el, m, dest)
        p_old, q_old, _ = pair_values(el, m, here)
        lang += p_new - p_old[0]
        needs += q_new - q_old[0]
    travel = np.zeros(len(dest), dtype=np.float64)
    for item in items:
        for m in item:
            travel += pair_values(el, m, dest)[2] - pair_values(el, m, here)[2][0]
    return MoveClass(
        items=items, source=j, workers=dest,
        out_weight=int(high * cap.high_weight[j] + low * cap.low_weight[j]), high=high, low=low,
        in_weight=(high * cap.high_weight[dest] + low * cap.low_weight[dest]).astype(np.int64),
        lang=lang, needs=needs, travel=np.rint(travel / len(items)).astype(np.int64),
    )


def _freeable(cap: WorkerCapacity, move_classes: list[MoveClass], budget: int, n_workers: int) -> np.ndarray:
    """Most load units moves could free on each worker (its heaviest movable items, within the budget)."""
    per_worker: dict[int, list[tuple[int, int]]] = {}
    for mc in move_classes:
        per_worker.setdefault(mc.source, []).extend([(mc.out_weight, mc.size)] * len(mc.items))
    return _most_freed(per_worker, budget, n_workers)


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
        upper = np.full(n, min(len(mc.items), move_budget // mc.size))
        for key, value in (("is_move", np.ones(n, bool)), ("group", np.full(n, a)), ("worker", w),
                           ("source", np.full(n, mc.source)), ("weight", mc.in_weight),
                           ("out_weight", np.full(n, mc.out_weight)), ("high", np.full(n, mc.high)),
                           ("low", np.full(n, mc.low)), ("upper", upper), ("lang", mc.lang),
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
