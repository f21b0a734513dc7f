"""The CP-SAT model of tonight's assignment, over classes of interchangeable units.

Why classes: two units (clients or families) with the same useful workers, the same need mix, the same
tier and the same language/needs profile are interchangeable for every rule and for objectives (1)-(4):
only *how many* of them each worker takes matters. So the model has one integer ``x[k, j]`` per class k
and useful worker j (how many units of class k worker j takes), not one boolean per client and worker.
Within a class, units are taken best-ranked first (urgent, then longest waiting); which of them goes to
which worker is decided afterwards by a min-cost flow on travel (`optimizer.decode`).

Optional moves are modelled the same way: active clients that could make room are grouped by (current
worker, need level, destinations, profile) and ``m[a, v]`` counts how many of class a move to worker v.
A move is one step deep: from a worker that some hard-to-place unit is eligible for, to a worker with
room tonight. Forced movers are not here: they are units like waiting clients.

Hard rules as constraints (the per-pair rules are already in which ``x``/``m`` exist):
`rule_capacity`, `rule_max_new_per_week`, `rule_max_moves_share`; `rule_family_one_worker` is in the
units (a family is one unit), and "at most one worker per unit" is the class supply constraint.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from ortools.sat.python import cp_model

from caseload.domain import Agency, NeedLevel, Status
from caseload.languages import primary
from optimizer.eligibility import NO_LIMIT, Eligibility, WorkerCapacity
from optimizer.units import MAX_DAYS, Unit

TIGHT_WORKERS = 3        # a unit with at most this many workers with room may call for moves
MAX_MOVE_VARS = 60_000   # keep the optional-move part of the model this small at most
TRAVEL_SCALE = 10        # travel objective in tenths of a km


@dataclass(slots=True)
class UnitClass:
    """Interchangeable units (best-ranked first) and the workers that may take them."""

    units: list[int]
    workers: np.ndarray          # int32 worker indices
    high: int
    low: int
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
    lang: np.ndarray             # change in preferred-language matches if moved to each destination
    needs: np.ndarray
    travel: np.ndarray           # mean change in travel, tenths of km


@dataclass(slots=True)
class AssignmentModel:
    model: cp_model.CpModel
    classes: list[UnitClass]
    move_classes: list[MoveClass]
    x: list[list[cp_model.IntVar]]
    m: list[list[cp_model.IntVar]]
    objectives: dict[str, tuple[str, cp_model.LinearExprT]] = field(default_factory=dict)
    move_budget: int = 0
    spread_terms: list[tuple[int, cp_model.LinearExprT]] = field(default_factory=list)
    gain_vars: list[tuple[int, cp_model.IntVar, cp_model.IntVar]] = field(default_factory=list)  # class, placed, gain


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


def _profile(el: Eligibility, unit: Unit) -> tuple:
    out = []
    for i in unit.members:
        c = el.clients[i]
        first = primary(c.languages[0]) if c.languages else ""
        out.append((first, c.french_service, tuple(sorted(c.needs))))
    return tuple(sorted(out))


def _pair_values(el: Eligibility, i: int, workers: np.ndarray) -> tuple[np.ndarray, ...]:
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
    tight unit (at most TIGHT_WORKERS workers with room) is eligible for but that has no room for it.
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
        if len(fits_now[n]) <= TIGHT_WORKERS and len(could[n]):
            source[could[n]] = True
    return fits_now, could, source


def build_model(agency: Agency, el: Eligibility, cap: WorkerCapacity, units: list[Unit],
                order: list[int]) -> AssignmentModel:
    """Classes, variables and hard-rule constraints; objectives are registered, not yet set."""
    fits_now, could, source = useful_workers(el, cap, units)
    move_budget = int(np.floor(agency.policy.max_moves_share * sum(c.status == Status.ACTIVE
                                                                    for c in agency.clients) + 1e-9))
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
        key = (workers.tobytes(), u.high, u.low, u.tier, _profile(el, u))
        groups.setdefault(key, []).append(n)

    classes = []
    for key in sorted(groups, key=lambda k: min(position[u] for u in groups[k])):
        members = sorted(groups[key], key=lambda u: position[u])
        first = units[members[0]]
        workers = np.frombuffer(key[0], dtype=np.int32)
        lang = np.zeros(len(workers), dtype=np.int64)
        needs = np.zeros(len(workers), dtype=np.int64)
        for i in first.members:
            p, q, _ = _pair_values(el, i, workers)
            lang += p
            needs += q
        travel = np.zeros(len(workers), dtype=np.float64)
        for u in members:
            for i in units[u].members:
                travel += _pair_values(el, i, workers)[2]
        gains = [units[u].size * weights[first.tier] + units[u].days for u in members]
        classes.append(UnitClass(
            units=members, workers=workers, high=first.high, low=first.low,
            prefix_gain=np.concatenate([[0], np.cumsum(gains)]).astype(np.int64),
            lang=lang, needs=needs, travel=np.rint(travel / len(members)).astype(np.int64),
            weight=(first.high * cap.high_weight[workers] + first.low * cap.low_weight[workers]).astype(np.int64),
        ))
    return _variables(cap, classes, move_classes, move_budget)


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
    out = []
    total = 0
    for key in sorted(groups, key=lambda k: groups[k][0]):
        clients = groups[key]
        j, high = key[0], key[1]
        dest = np.frombuffer(key[2], dtype=np.int32)
        if total + len(dest) > MAX_MOVE_VARS:
            break
        total += len(dest)
        p_new, q_new, _ = _pair_values(el, clients[0], dest)
        p_old, q_old, _ = _pair_values(el, clients[0], np.array([j], dtype=np.int32))
        travel = np.zeros(len(dest), dtype=np.float64)
        for i in clients:
            t_new = _pair_values(el, i, dest)[2]
            t_old = _pair_values(el, i, np.array([j], dtype=np.int32))[2]
            travel += t_new - t_old[0]
        out.append(MoveClass(
            clients=clients, source=j, workers=dest,
            out_weight=int(cap.high_weight[j] if high else cap.low_weight[j]),
            in_weight=(cap.high_weight[dest] if high else cap.low_weight[dest]).astype(np.int64),
            lang=p_new - p_old[0], needs=q_new - q_old[0],
            travel=np.rint(travel / len(clients)).astype(np.int64),
        ))
    return out


def _freeable(cap: WorkerCapacity, move_classes: list[MoveClass], budget: int, n_workers: int) -> np.ndarray:
    """Most load units moves could free on each worker (its heaviest movable clients, up to the budget)."""
    per_worker: dict[int, list[int]] = {}
    for mc in move_classes:
        per_worker.setdefault(mc.source, []).extend([mc.out_weight] * len(mc.clients))
    out = np.zeros(n_workers, dtype=np.int64)
    for j, ws in per_worker.items():
        out[j] = sum(sorted(ws, reverse=True)[:budget])
    return out


def _variables(cap: WorkerCapacity, classes: list[UnitClass], move_classes: list[MoveClass],
               move_budget: int) -> AssignmentModel:
    model = cp_model.CpModel()
    n_workers = len(cap.capacity)
    room = cap.capacity - cap.kept_load
    inflow: list[list[tuple[cp_model.IntVar, int]]] = [[] for _ in range(n_workers)]
    intake: list[list[tuple[cp_model.IntVar, int]]] = [[] for _ in range(n_workers)]
    outflow: list[list[tuple[cp_model.IntVar, int]]] = [[] for _ in range(n_workers)]
    freeable = _freeable(cap, move_classes, move_budget, n_workers)

    x: list[list[cp_model.IntVar]] = []
    for k, cls in enumerate(classes):
        row = []
        for n, j in enumerate(cls.workers):
            j = int(j)
            most = min(len(cls.units), int(cap.new_allowance[j]) // cls.size,
                       int(max(0, room[j] + freeable[j])) // max(1, int(cls.weight[n])))
            var = model.new_int_var(0, max(0, most), f"x{k}_{j}")
            row.append(var)
            inflow[j].append((var, int(cls.weight[n])))
            intake[j].append((var, cls.size))
        model.add(cp_model.LinearExpr.sum(row) <= len(cls.units))
        x.append(row)

    m: list[list[cp_model.IntVar]] = []
    for a, mc in enumerate(move_classes):
        row = []
        for n, v in enumerate(mc.workers):
            v = int(v)
            var = model.new_int_var(0, min(len(mc.clients), move_budget), f"m{a}_{v}")
            row.append(var)
            inflow[v].append((var, int(mc.in_weight[n])))
            intake[v].append((var, 1))
            outflow[mc.source].append((var, mc.out_weight))
        model.add(cp_model.LinearExpr.sum(row) <= len(mc.clients))
        m.append(row)

    am = AssignmentModel(model=model, classes=classes, move_classes=move_classes, x=x, m=m,
                         move_budget=move_budget)
    rule_capacity(am, cap, inflow, outflow)
    rule_max_new_per_week(am, cap, intake)
    rule_max_moves_share(am)
    _register_objectives(am, cap, inflow, outflow)
    return am


def rule_capacity(am: AssignmentModel, cap: WorkerCapacity, inflow: list, outflow: list) -> None:
    """Load after tonight within the worker's target: ``kept - moved out + new + moved in <= capacity``.

    Only workers who accept new clients have inflow variables at all, so a worker already over target
    (or on leave) takes no one new and is never pushed further over.
    """
    for j, flows in enumerate(inflow):
        if not flows:
            continue
        am.model.add(_flow(flows, outflow[j]) <= int(cap.capacity[j] - cap.kept_load[j]))


def rule_max_new_per_week(am: AssignmentModel, cap: WorkerCapacity, intake: list) -> None:
    """New clients tonight (placed, re-placed or moved in) within the worker's remaining weekly intake."""
    for j, flows in enumerate(intake):
        if flows and cap.new_allowance[j] < NO_LIMIT:
            am.model.add(_flow(flows, []) <= int(cap.new_allowance[j]))


def rule_max_moves_share(am: AssignmentModel) -> None:
    """At most floor(max_moves_share x active clients) optional moves (forced moves are not counted)."""
    every = [v for row in am.m for v in row]
    if every:
        am.model.add(cp_model.LinearExpr.sum(every) <= am.move_budget)


def _flow(inflow: list, outflow: list) -> cp_model.LinearExprT:
    """``sum(w * v for inflow) - sum(w * v for outflow)`` as one flat expression."""
    return cp_model.LinearExpr.weighted_sum([v for v, _ in inflow] + [v for v, _ in outflow],
                                            [w for _, w in inflow] + [-w for _, w in outflow])


def _register_objectives(am: AssignmentModel, cap: WorkerCapacity, inflow: list, outflow: list) -> None:
    model = am.model
    xs = [(v, cls, n) for cls, row in zip(am.classes, am.x, strict=True) for n, v in enumerate(row)]
    ms = [(v, mc, n) for mc, row in zip(am.move_classes, am.m, strict=True) for n, v in enumerate(row)]
    am.objectives["placements"] = ("max", cp_model.LinearExpr.weighted_sum(
        [v for v, _, _ in xs], [cls.size for _, cls, _ in xs]))

    gains = []
    for k, (cls, row) in enumerate(zip(am.classes, am.x, strict=True)):
        steps = np.diff(cls.prefix_gain)
        if len(steps) == 1 or np.all(steps == steps[0]):
            gains.append((cp_model.LinearExpr.sum(row), int(steps[0])))
        else:
            placed = model.new_int_var(0, len(cls.units), "")
            model.add(placed == cp_model.LinearExpr.sum(row))
            gain = model.new_int_var(0, int(cls.prefix_gain[-1]), "")
            model.add_element(placed, [int(g) for g in cls.prefix_gain], gain)
            gains.append((gain, 1))
            am.gain_vars.append((k, placed, gain))
    am.objectives["priority_and_wait"] = ("max", cp_model.LinearExpr.weighted_sum(
        [g for g, _ in gains], [w for _, w in gains]))
    if ms:
        am.objectives["moves"] = ("min", cp_model.LinearExpr.sum([v for v, _, _ in ms]))

    def weighted(attr: str) -> cp_model.LinearExprT:
        terms = [(v, int(getattr(c, attr)[n])) for v, c, n in xs + ms if getattr(c, attr)[n] != 0]
        return cp_model.LinearExpr.weighted_sum([v for v, _ in terms], [w for _, w in terms])

    am.objectives["preferred_language"] = ("max", weighted("lang"))
    am.objectives["needs_matched"] = ("max", weighted("needs"))
    am.objectives["travel"] = ("min", weighted("travel"))
    for j, flows in enumerate(inflow):
        if flows or outflow[j]:
            am.spread_terms.append((j, int(cap.kept_load[j]) + _flow(flows, outflow[j])))
