"""The staffing planner: which hires place the most waiting clients tonight, for what money.

A hire is a worker (`Candidate.hire(n)`): the planner appends every hire the budget could pay for to the
agency, as optional workers, and asks the nightly model's placement stage which of them to open
(`optimizer.opening`): hires and placements are chosen together, under the nightly rules and capacity.
The model has the nightly optimizer's optional moves too (its move columns and tonight's move budget:
max_moves_share, less ``agency.moves_used``): each move class keeps the destinations `optimizer.assign` keeps
among today's workers, and as many hires besides, so a hire may take moved clients to free room elsewhere.
It starts from `optimizer.assign`'s own plan without hires (stopped once its placements are final), so
placements without hires are the nightly optimizer's. On a large model (more than `optimizer.solve`'s
EXACT_COLUMNS columns) the opening model's LP relaxation, by column generation, gives the proven bound and
screens what branch and cut gets (`OpeningModel.screen`: the hires the LP opens and a few more, today's workers'
columns as `optimizer.lp.choose_columns` gives the nightly CP-SAT model, the LP's moves); if the LP runs out of
time, tonight's moves are kept fixed and branch and cut gets every column. The objective: most clients placed
for the budget, urgent and long-waiting first, families whole; then least cost for that.

The promise (`caseload assign` on workers_with_hires.csv places at least placed_with) holds by construction
when tonight's assign starts from the plan (`StaffingPlan.start_from`, written as plan_with_hires.csv;
`caseload assign --start`): `optimizer.assign` keeps what its start places, and its model keeps the columns
the start's moves need. Without the start it is measured, not proved: up to 6,000 clients tonight's assign
on the hires alone placed at least placed_with at every budget measured; at 20,000 clients, where the
planner had 180 s and tonight's assign 60 s, it placed 2,095 where the plan placed 2,134
(benchmarks/staff_results.md). tests/planning/test_staffing_properties.py checks both on generated agencies.

Public API (the CLI, the projection and the app call these):

- `derive_candidates(agency)`: positions made from what waiting clients need, when no candidates file;
- `plan_hires(agency, candidates, budget, ...) -> StaffingPlan` (with ``frontier_steps``: the frontier too);
- `frontier(agency, candidates, budget, steps)`: placements per budget step, 0 to the budget;
- `bottlenecks(agency, ...)`: per language x French x area, who waits, why, and what one more FTE places.
"""

from __future__ import annotations

import math
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from caseload.domain import Agency, Assignment, Candidate, Decision, Status, Worker
from caseload.languages import primary
from optimizer.caseloads import Caseloads
from optimizer.classes import Classes, move_budget_of, tier_weights
from optimizer.decode import decode_columns, keep_expressible, plan_columns
from optimizer.eligibility import Eligibility, WorkerCapacity, compute_eligibility, haversine_km, worker_capacity
from optimizer.explain import reason_group
from optimizer.greedy import greedy_fill
from optimizer.moves import make_room
from optimizer.opening import STAGE_SHARE, OpenedPlan, OpeningModel, Openings
from optimizer.plan import Plan, make_plan
from optimizer.polish import fill, undo_idle_moves, undo_unneeded_moves
from optimizer.solve import EXACT_COLUMNS, assign, model_classes
from optimizer.units import Unit, ranked, rule_family_one_worker
from planning.simple_rule import simple_rule_hires

DEFAULT_FRONTIER_STEPS = 10
PROMISE_NOTE = ("`caseload assign` on workers_with_hires.csv, begun from plan_with_hires.csv (`--start`), places at "
                "least placed_with: it keeps what its start places under tonight's rules")
MOVES_NOTE = ("placements without and with the hires include the nightly optimizer's optional moves (within "
              "max_moves_share, less the moves the store's window has used); without hires they are caseload "
              "assign's own plan; on a large agency hires, placements and moves are chosen over screened columns")
LP_BOUND_SHARE = 0.25        # of a large model's solve time: the LP relaxation with moves free (the proven bound)
NIGHTLY_SHARE = 0.4           # of the planner's time: tonight's plan without hires, by `optimizer.assign`
NAMING_RESERVE_S = 1.0        # kept from the time limit to name the plan (0.2 s on 6,000 clients), and as
                              # HiGHS overshoots its limits (measured 0.4 s in all on 6,000 clients)
NAMING_PER_CLIENT_S = 1e-4    # ... plus this per client (naming 20,000 clients took 1.8 s after HiGHS stopped:
                              # 2e-5 overran a 60 s limit by 0.9 s idle, by up to 5.5 s at load 2-3; 1e-4: 59.5 s)
PER_DOLLARS = 100_000  # the frontier's marginal figure: clients placed per this many dollars
MAX_WIDEN = 3                 # a large model's screen is widened at most this many times (`OpeningModel.screen`)
MIN_WIDER_S = 2.0             # ... and only with this much of the budget's time left
BOTTLENECK_FTE = 1.0
MAX_BOTTLENECK_GROUPS = 20  # bottleneck groups re-solved exactly (the largest by clients waiting)
TONIGHT_SHARE = 0.3         # of the bottlenecks' time: tonight's plan (the reasons clients wait)
BASE_SHARE = 0.1            # ... of what is left: the same plan in the model with the profiles (closed)
MIN_RESOLVE_S = 0.5         # a re-solve is not started with less time than this
OVERSHOOT_S = 0.3           # HiGHS overshoots its limit by about this (measured on 6,000 clients, 3 stages 0.4 s)
BOTTLENECK_METHOD = (
    "exact re-solve: tonight's placement model (the nightly rules and capacity, existing clients kept) with one "
    "more 1.0-FTE worker of the group's profile (its language, French if the group needs it, its area; placed at "
    "the group's clients' mean location when they have no area) forced open, by HiGHS branch and cut from "
    "tonight's plan; one_more_fte_places is the added placements the plans found show (any group's clients may "
    "benefit), at_most the most it could be (the re-solve's proven bound, and what one such worker can hold); "
    "'proven' says whether both solves reached their optimum (then the two agree)"
)


@dataclass
class StaffingPlan:
    """The recommended hires for one budget and what they place (the data contract's hires section)."""

    budget: float
    hires: dict[str, int]            # candidate_id -> number hired (only chosen ones)
    cost: float                      # total annual cost of the hires
    placed_without: int              # clients placed tonight with no hire (the nightly optimizer's plan, moves too)
    placed_with: int                 # with the hires
    bound: int | None                # proven upper bound on placements for this budget
    workers: list[Worker]            # today's workers plus the hires as workers
    clients_placed: dict[str, int]   # candidate_id -> waiting clients those hires take on
    candidates: list[Candidate] = field(default_factory=list)
    unit_costs: dict[str, float] = field(default_factory=dict)  # candidate_id -> a year's cost of one hire
    assignments: list[Assignment] = field(default_factory=list)  # the plan with the hires, with reasons
    frontier: list[dict[str, Any]] = field(default_factory=list)
    bottlenecks: pd.DataFrame | None = None
    status: str = ""                 # "OPTIMAL" when placements reach the bound, else "FEASIBLE"
    note: str | None = None          # e.g. the budget is below the cheapest candidate
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def gap(self) -> float | None:
        """Share of the bound the plan may fall short of: (bound - placed) / bound."""
        if self.bound is None:
            return None
        return round((self.bound - self.placed_with) / self.bound, 6) if self.bound else 0.0

    @property
    def hire_workers(self) -> list[Worker]:
        return [w for w in self.workers if w.worker_id.startswith("HIRE-")]

    @property
    def changes(self) -> list[Assignment]:
        """The plan's placements and moves (plan_with_hires.csv): what `caseload assign --start` begins from."""
        return [a for a in self.assignments if a.worker_id and a.decision in (Decision.NEW, Decision.MOVED)]

    def start_from(self) -> dict[str, str]:
        """client_id -> worker_id for each client the plan places or moves: `optimizer.assign`'s ``start_from``,
        with which tonight's assign on the workers with the hires places at least ``placed_with``."""
        return {a.client_id: a.worker_id for a in self.changes if a.worker_id}

    def hires_frame(self) -> pd.DataFrame:
        """hires.csv: one row per chosen candidate (fte and cost for all its hires together)."""
        by_id = {c.candidate_id: c for c in self.candidates}
        rows = []
        for cid, n in self.hires.items():
            c = by_id[cid]
            rows.append({"candidate_id": cid, "hires": n, "fte": round(c.fte * n, 4),
                         "annual_cost": round(self.unit_costs[cid] * n, 2),
                         "clients_placed": self.clients_placed.get(cid, 0)})
        return pd.DataFrame(rows, columns=["candidate_id", "hires", "fte", "annual_cost", "clients_placed"])


# --- candidates ------------------------------------------------------------------------------------------


def _group_key(client) -> tuple[str, bool, str | None]:
    """(first language's primary subtag, French service, area as written) of a waiting client."""
    lang = primary(client.languages[0]) if client.languages else "fr" if client.french_service else ""
    return lang, bool(client.french_service), (client.area.strip() if client.area and client.area.strip() else None)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "candidate"


def _nearest_office(clients: list, offices: list[Worker]) -> tuple[float | None, float | None]:
    """The office (an existing worker's location) nearest the clients' mean location; (None, None) when either
    side has no location. A real office, never a point computed from homes: a hire's location is written to
    workers_with_hires.csv, and the mean of one client's location is their home."""
    located = [c for c in clients if c.has_location]
    sites = sorted({(w.latitude, w.longitude) for w in offices if w.has_location})
    if not located or not sites:
        return None, None
    lat = sum(c.latitude for c in located) / len(located)
    lon = sum(c.longitude for c in located) / len(located)
    at = np.array(sites)
    near = int(np.argmin(haversine_km(np.full(len(at), lat), np.full(len(at), lon), at[:, 0], at[:, 1])))
    return sites[near]


def _profile_worker(worker_id: str, key: tuple[str, bool, str | None], clients: list, fte: float,
                    offices: list[Worker]) -> Worker:
    """A worker serving a group's profile: its language, French if needed, its area; when the group has no
    area, at the existing office nearest its clients (no travel limit: location only shortens travel)."""
    lang, french, area = key
    lat, lon = _nearest_office(clients, offices) if area is None else (None, None)
    return Worker(worker_id=worker_id, fte=fte, languages=(lang,) if lang else ("en",), french=french,
                  latitude=lat, longitude=lon, areas=frozenset({area}) if area else frozenset())


def derive_candidates(agency: Agency, fte: float = 1.0) -> list[Candidate]:
    """Positions made from what waiting clients need: one per (language, French service, area) that leaves
    clients waiting after a first-fit pass over today's workers (the greedy floor: cheap, and it waits at
    least as many as the optimizer), costed at the policy's cost_per_fte (annual_cost left empty)."""
    el = compute_eligibility(agency)
    cap = worker_capacity(agency, el)
    units = rule_family_one_worker(agency, el)
    state = greedy_fill(el, cap, units)
    groups: dict[tuple, list] = {}
    for u in np.nonzero(state.unit_worker < 0)[0]:
        for i in units[int(u)].members:
            c = el.clients[i]
            if c.status == Status.WAITING:
                groups.setdefault(_group_key(c), []).append(c)
    out: list[Candidate] = []
    seen: set[str] = set()
    for key in sorted(groups, key=lambda k: (-len(groups[k]), k[0], k[1], k[2] or "")):
        lang, french, area = key
        cid = base = _slug(f"{lang}-{'french-' if french else ''}{area or 'any-area'}")
        n = 2
        while cid in seen:
            cid, n = f"{base}-{n}", n + 1
        seen.add(cid)
        w = _profile_worker(cid, key, groups[key], fte, agency.workers)
        out.append(Candidate(candidate_id=cid, fte=fte, languages=w.languages, french=w.french, latitude=w.latitude,
                             longitude=w.longitude, areas=w.areas))
    return out


# --- the model -------------------------------------------------------------------------------------------


@dataclass
class _Model:
    """The agency with every hire the largest budget could pay for, as optional workers, and its model."""

    agency: Agency                   # the caller's agency (its own policy)
    candidates: list[Candidate]
    copies: list[int]                # hires of each candidate in the model
    unit_cost: list[float]
    el: Eligibility
    cap: WorkerCapacity
    units: list[Unit]
    order: list[int]
    cl: Classes
    model: OpeningModel
    n_existing: int
    gains: dict[int, int]


def _no_moves(agency: Agency, workers: list[Worker]) -> Agency:
    return Agency(clients=agency.clients, workers=workers, policy=replace(agency.policy, max_moves_share=0.0),
                  as_of=agency.as_of, overrides=list(agency.overrides))


def _with_workers(agency: Agency, workers: list[Worker]) -> Agency:
    """The agency with these workers, its own policy and the moves its window has used (tonight's move budget)."""
    return Agency(clients=agency.clients, workers=workers, policy=agency.policy, as_of=agency.as_of,
                  overrides=list(agency.overrides), moves_used=agency.moves_used)


def _useful_hires(agency: Agency, candidates: list[Candidate]) -> list[int]:
    """Per candidate, how many hires could be busy at most: the load of every unit one hire of it may take, and
    of the active clients tonight's move budget could move to it, over one hire's capacity (rounded up). Bounds
    the copies in the model."""
    probe = _no_moves(agency, list(agency.workers) + [c.hire(1) for c in candidates])
    el = compute_eligibility(probe)
    cap = worker_capacity(probe, el)
    units = rule_family_one_worker(probe, el)
    first = len(agency.workers)
    load = np.zeros(len(candidates))
    for u in units:
        e = u.eligible[u.eligible >= first]
        load[e - first] += u.high * cap.high_weight[e] + u.low * cap.low_weight[e]
    budget = move_budget_of(agency)
    if budget > 0:
        movable = np.zeros(len(candidates))
        for i in np.nonzero(el.current >= 0)[0]:
            e = el.eligible(int(i))
            movable[e[e >= first] - first] += 1
        heaviest = np.maximum(cap.high_weight[first:], cap.low_weight[first:])
        load += np.minimum(movable, budget) * heaviest
    capacity = np.maximum(cap.capacity[first:], 1)
    return [int(math.ceil(load[n] / capacity[n] - 1e-9)) for n in range(len(candidates))]


def _build(agency: Agency, candidates: list[Candidate], budget: float, *, moves: bool = True) -> _Model:
    costs = [float(c.cost(agency.policy)) for c in candidates]
    useful = _useful_hires(agency, candidates) if candidates else []
    copies = []
    for c, cost, need in zip(candidates, costs, useful, strict=True):
        n = need
        if c.max_hires is not None:
            n = min(n, c.max_hires)
        if cost > 0:
            n = min(n, int(math.floor(budget / cost + 1e-9)))
        copies.append(max(0, n))
    hires = [c.hire(n) for c, k in zip(candidates, copies, strict=True) for n in range(1, k + 1)]
    workers = list(agency.workers) + hires
    full = _with_workers(agency, workers) if moves else _no_moves(agency, workers)
    el = compute_eligibility(full)
    cap = worker_capacity(full, el)
    units = rule_family_one_worker(full, el)
    order = ranked(units)
    first = len(agency.workers)
    copy_number = np.full(len(workers), -1, dtype=np.int64)
    copy_number[first:] = np.concatenate([np.arange(k) for k in copies]) if hires else []
    cl = model_classes(full, el, cap, units, order, optional=copy_number)  # the classes `optimizer.assign` builds
    kinds = np.repeat(np.arange(len(candidates)), copies).astype(np.int64)
    openings = Openings(workers=np.arange(first, first + len(hires), dtype=np.int64), kind=kinds,
                        cost=np.array([costs[k] for k in kinds], dtype=float))
    weights = tier_weights(units)
    gains = {u: unit.size * weights[unit.tier] + unit.days for u, unit in enumerate(units)}
    return _Model(agency, candidates, copies, costs, el, cap, units, order, cl, OpeningModel(cl, cap, openings),
                  first, gains)


class _PlacementsFinal(Exception):
    """Stops `optimizer.assign` once its placements are final (its ``on_placements``), carrying that plan."""

    def __init__(self, plan: Plan):
        super().__init__("placements final")
        self.plan = plan


def _nightly_start(m: _Model, seed: int, seconds: float) -> tuple[np.ndarray | None, int, int | None]:
    """Tonight's plan without any hire from `optimizer.assign` itself (its LP diving, branch and cut over
    restrictions and neighbourhood search reach further than one branch and cut over the opening model: 6,000
    clients, 585 against 533 in 20 s), as a start every budget allows: (start vector, its placements, its proven
    bound). What the model's columns cannot hold is dropped and filled again over its own columns; the vector is
    None only when even that plan is not one the model holds (then the greedy start is used)."""
    today = _with_workers(m.agency, list(m.agency.workers))

    def placements_final(plan: Plan) -> None:
        raise _PlacementsFinal(plan)  # the later stages (language, needs, travel) change no placement count

    try:
        nightly = assign(today, time_limit_s=max(1.0, seconds), seed=seed, on_placements=placements_final)
    except _PlacementsFinal as final:
        nightly = final.plan
    state = Caseloads(m.el, _own_capacity(m), m.units)
    unit_of = {i: u for u, unit in enumerate(m.units) for i in unit.members}
    client = m.el.client_index
    placed: dict[int, int] = {}
    for a in nightly.assignments:
        if a.worker_id is None or a.decision not in (Decision.NEW, Decision.MOVED):
            continue
        i = client[a.client_id]
        j = m.el.worker_index[a.worker_id]
        if i in unit_of:
            placed[unit_of[i]] = j
        else:
            state.move(i, j)  # an optional move (a family moves whole: each member is listed)
    for u, j in placed.items():
        state.place(u, j)
    count = int(nightly.summary["objective"]["placements"])
    bound = nightly.summary.get("placement_bound")
    if not _whole(m, state, count):
        # tonight's large model kept other move destinations than this one: keep what this model holds, and
        # fill again over its own columns (20,000 clients: 1,903 tonight, first fit alone 1,502)
        keep_expressible(m.cl, state, m.order)
        _fill_own(m, state)
        keep_expressible(m.cl, state, m.order)
    start = m.model.start_from(plan_columns(m.cl, state))
    if not _whole(m, state, state.placed_count()) or not m.model.feasible(start, 0.0):
        return None, count, bound
    return start, state.placed_count(), bound


def _whole(m: _Model, state: Caseloads, count: int) -> bool:
    """Whether the model's columns hold ``state`` whole, with ``count`` placements."""
    values = plan_columns(m.cl, state)
    c = m.cl.columns
    return (int(values[~c.is_move] @ c.size[~c.is_move]) == state.placed_count() == count
            and int(values[c.is_move] @ c.size[c.is_move]) == len(state.move_to))


def _own_capacity(m: _Model) -> WorkerCapacity:
    """Capacity with the hires closed: a plan on it is one every budget allows."""
    own = np.zeros(len(m.cap.capacity), dtype=bool)
    own[:m.n_existing] = True
    return replace(m.cap, accepts_new=m.cap.accepts_new & own)


def _fill_own(m: _Model, state: Caseloads) -> None:
    """The nightly make-room pass over the model's own columns (moves between today's workers, within the move
    budget), then every unit that still fits."""
    if m.cl.move_budget > 0:
        allowed = {u: cls.workers[cls.workers < m.n_existing] for u, k in m.cl.unit_class().items()
                   for cls in (m.cl.classes[k],)}
        destinations = {item[0]: mc.workers[mc.workers < m.n_existing]
                        for mc in m.cl.move_classes for item in mc.items if len(item) == 1}
        make_room(state, m.order, m.cl.move_budget, allowed, destinations)
    fill(state, m.order)


def _greedy_start(m: _Model) -> np.ndarray:
    """Today's workers only: first fit, then the nightly make-room pass over the model's own columns; a start
    every budget allows."""
    cap = _own_capacity(m)
    state = greedy_fill(m.el, cap, m.units)
    if m.cl.move_budget > 0:
        first = greedy_fill(m.el, cap, m.units)
        _fill_own(m, state)
        if not m.model.feasible(m.model.start_from(plan_columns(m.cl, state)), 0.0):
            state = first  # a plan the rows do not hold (never seen): first fit alone
    return m.model.start_from(plan_columns(m.cl, state))


def _start_state(m: _Model, start: np.ndarray) -> tuple[Caseloads, np.ndarray]:
    """The start's plan and which hires it opens."""
    state = Caseloads(m.el, m.cap, m.units)
    decode_columns(m.cl, start[:m.model.n_x], state)
    return state, start[m.model.n_x:] > 0.5


def _units_by_hire(m: _Model) -> dict[int, list[int]]:
    """For each optional worker (a hire), the units it may take, in the nightly ranking."""
    by_worker: dict[int, list[int]] = {}
    for u in m.order:
        for j in m.units[u].eligible[m.units[u].eligible >= m.n_existing]:
            by_worker.setdefault(int(j), []).append(int(u))
    return by_worker


def _first_fit(m: _Model, state: Caseloads, j: int, candidates: list[int]) -> list[int]:
    """The waiting units first fit would give worker ``j``, in order, within its room and intake."""
    room, allowance, taken = state.room(j), state.allowance_left(j), []
    for u in candidates:
        w, size = state.unit_weight(u, j), m.units[u].size
        if state.unit_worker[u] < 0 and w <= room and size <= allowance:
            taken.append(u)
            room, allowance = room - w, allowance - size
    return taken


def _opened_start(m: _Model, state: Caseloads, opened: np.ndarray, budget: float,
                  fallback: np.ndarray) -> np.ndarray:
    candidate = m.model.start_from(plan_columns(m.cl, state), opened)
    return candidate if m.model.feasible(candidate, budget) else fallback


def _with_greedy_hires(m: _Model, start: np.ndarray, budget: float, by_worker: dict[int, list[int]]) -> np.ndarray:
    """The start plus hires opened one at a time, the one whose copy first fit places the most waiting clients
    per dollar first, each filled with clients the start leaves waiting, until the budget buys no useful hire.
    On a large model HiGHS may not finish its root LP in the time (6,000 clients, 93 candidates: 585 optional
    hires, 173,280 columns, 0 nodes) and returns its start: tonight's plan, no hire. The start then already
    has the hires a manager's rule would give (moves and tonight's placements unchanged)."""
    state, opened = _start_state(m, start)
    openings = m.model.openings
    spent = float(openings.cost[opened].sum())
    while True:
        best: tuple[float, int, list[int]] | None = None
        seen: set[int] = set()
        for n in range(len(openings)):
            kind = int(openings.kind[n])
            if opened[n] or kind in seen:
                continue
            seen.add(kind)  # copies of a kind are opened in order: only the first closed one is a choice
            if spent + openings.cost[n] > budget + 1e-9:
                continue
            j = int(openings.workers[n])
            taken = _first_fit(m, state, j, by_worker.get(j, []))
            gain = sum(m.units[u].size for u in taken)
            score = gain / max(float(openings.cost[n]), 1.0)
            if gain > 0 and (best is None or score > best[0]):
                best = (score, n, taken)
        if best is None:
            break
        _, n, taken = best
        for u in taken:
            state.place(u, int(openings.workers[n]))
        opened[n] = True
        spent += float(openings.cost[n])
    return _opened_start(m, state, opened, budget, start)


def _with_rule_hires(m: _Model, start: np.ndarray, budget: float, by_worker: dict[int, list[int]]) -> np.ndarray:
    """The start plus the hires the manager's own rule buys (`planning.simple_rule`: the largest group still
    waiting, by language then city) for the budget the start leaves, each filled first fit in the order the
    rule hired them. Why: at 20,000 clients the planner's plan, from the per-dollar start alone, placed 0.97x
    of what the rule's hires place under the nightly assign ($1,950,000); a start never below the rule's."""
    state, opened = _start_state(m, start)
    openings = m.model.openings
    still_waiting = [m.el.clients[i] for u in range(len(m.units)) if state.unit_worker[u] < 0
                     for i in m.units[u].members]
    left = budget - float(openings.cost[opened].sum())
    hires = simple_rule_hires(m.agency, m.candidates, left, still_waiting=still_waiting)
    kind_of = {c.candidate_id: k for k, c in enumerate(m.candidates)}
    for cid, count in hires.items():
        copies = [int(n) for n in np.nonzero(openings.kind == kind_of[cid])[0] if not opened[n]][:count]
        for n in copies:
            j = int(openings.workers[n])
            for u in _first_fit(m, state, j, by_worker.get(j, [])):
                state.place(u, j)
            opened[n] = True
    return _opened_start(m, state, opened, budget, start)


def _best_start(m: _Model, start: np.ndarray, budget: float) -> np.ndarray:
    """Of the per-dollar start and the manager's rule start, the one placing more (then costing less)."""
    n_x, cost = m.model.n_x, m.model.openings.cost

    def score(v: np.ndarray) -> tuple[int, float]:
        return int(round(float(m.model.placement @ v[:n_x]))), -float(cost[v[n_x:] > 0.5].sum())

    by_worker = _units_by_hire(m)
    return max((_with_greedy_hires(m, start, budget, by_worker), _with_rule_hires(m, start, budget, by_worker)),
               key=score)


def _decoded(m: _Model, values: np.ndarray) -> Caseloads:
    """The plan in column ``values`` on the model's agency, with only the moves that make room someone takes
    (`optimizer.polish`: placements unchanged)."""
    state = Caseloads(m.el, m.cap, m.units)
    decode_columns(m.cl, values, state)
    undo_idle_moves(state)
    undo_unneeded_moves(state)
    return state


def _hires_of(m: _Model, solved: OpenedPlan, state: Caseloads) -> tuple[dict[str, int], dict[str, str]]:
    """Hires per candidate and the final name of each hire that takes anyone in ``state`` (a client placed or
    moved to it; an opened hire left empty is dropped: it costs and places nothing), renumbered 1.. per
    candidate."""
    used = np.zeros(len(m.cap.capacity), dtype=bool)
    used[state.unit_worker[state.unit_worker >= 0]] = True
    used[list(state.move_to.values())] = True
    hires: dict[str, int] = {}
    names: dict[str, str] = {}
    for n, j in enumerate(m.model.openings.workers):
        if not (solved.opened[n] and used[j]):
            continue
        c = m.candidates[int(m.model.openings.kind[n])]
        hires[c.candidate_id] = hires.get(c.candidate_id, 0) + 1
        names[m.el.workers[j].worker_id] = c.hire(hires[c.candidate_id]).worker_id
    return hires, names


def _named(m: _Model, state: Caseloads, hires: dict[str, int],
           names: dict[str, str]) -> tuple[Agency, Caseloads, Plan]:
    """The agency with the chosen hires (its own policy and move window), and the plan in ``state`` named on it
    (its caseloads, and the Plan with the nightly reasons for whoever still waits and why each moved)."""
    by_id = {c.candidate_id: c for c in m.candidates}
    hire_workers = [by_id[cid].hire(n) for cid, k in hires.items() for n in range(1, k + 1)]
    final = _with_workers(m.agency, list(m.agency.workers) + hire_workers)
    el = compute_eligibility(final)
    cap = worker_capacity(final, el)
    units = rule_family_one_worker(final, el)
    assert [u.members for u in units] == [u.members for u in m.units], "units differ with the hires"
    named = Caseloads(el, cap, units)

    def index(j: int) -> int:
        worker_id = m.el.workers[j].worker_id
        return el.worker_index[names.get(worker_id, worker_id)]

    for item in state.moved_items():
        named.move_item(item, index(state.move_to[item[0]]))
    for u in np.nonzero(state.unit_worker >= 0)[0]:
        named.place(int(u), index(int(state.unit_worker[u])))
    extra = {"status": "FEASIBLE", "placement_bound": None}
    return final, named, make_plan(final, named, extra, m.gains)


def _solve_budgets(m: _Model, budgets: list[float], *, seed: int, time_limit_s: float,
                   say: Callable[[str], None]) -> tuple[list[OpenedPlan], int | None]:
    """Each budget in increasing order, warm-started from the previous one's plan (so placements never fall
    as the budget grows). Only the last budget's plan is named, so only it runs the priority-and-wait stage;
    a budget that buys no hire runs the placement stage alone. The time is shared among the solves left in
    proportion to their stages' shares (`optimizer.opening.STAGE_SHARE`)."""
    began = time.monotonic()
    say("tonight's plan without hires (the nightly optimizer, moves included)")
    start, nightly, nightly_bound = _nightly_start(m, seed, time_limit_s * NIGHTLY_SHARE)
    if start is None:
        start = _greedy_start(m)
    fixed_moves = None
    if m.model.n_x > EXACT_COLUMNS:
        # a large model: tonight's moves are kept as they are if the LP cannot screen the columns (measured, 6,000
        # clients: with every column and the moves free, HiGHS found no better plan than tonight's in 13 s)
        c = m.cl.columns
        fixed_moves = np.where(c.is_move, start[:m.model.n_x], np.nan)
    costs = m.model.openings.cost
    stages = []
    for n, budget in enumerate(budgets):
        if n == len(budgets) - 1:
            stages.append(tuple(STAGE_SHARE))
        elif np.any(costs <= budget + 1e-9):
            stages.append(("placements", "cost"))
        else:
            stages.append(("placements",))
    weight = [sum(STAGE_SHARE[name] for name in names) for names in stages]
    out: list[OpenedPlan] = []
    for n, budget in enumerate(budgets):
        left = max(1.0, time_limit_s - (time.monotonic() - began)) * weight[n] / sum(weight[n:])
        say(f"hires and placements for a budget of ${budget:,.0f} ({n + 1}/{len(budgets)})")
        unaffordable = np.where(costs > budget + 1e-9, 0.0, np.nan)  # fixed closed: presolve drops them
        if not np.any(costs <= budget + 1e-9) and (out or fixed_moves is not None
                                                    or _proven(start, m, nightly, nightly_bound)):
            # no hire affordable: the model is tonight's, whose plan is `assign`'s (proven, or on a large model
            # where the moves stay as they are: measured 6,000 clients, 10 s of branch and cut added nothing),
            # or was solved just before
            out.append(replace(out[-1], budget=budget) if out else _as_solved(m, start, budget, nightly_bound))
            continue
        lp_bound = None
        screened = None
        # the start has the hires first fit places most per dollar, or the manager's rule's if they place more:
        # HiGHS may return its start (a large model's root LP, or a small one's presolve on a loaded machine:
        # 300 clients, 5 s, no hire once)
        start = _best_start(m, start, budget)
        if fixed_moves is not None:
            # a large model: the LP relaxation (column generation, moves free) gives the bound, which holds for
            # any plan, and chooses which hires, columns and moves branch and cut gets (`OpeningModel.screen`);
            # the moves are free among those (240-400 clients: up to 5 more placed than with tonight's fixed).
            # Without the LP (out of time) tonight's moves stay fixed and branch and cut gets every column
            t0 = time.monotonic()
            relaxed = m.model.relaxation(budget, fixed_open=unaffordable, start=start,
                                         time_limit_s=left * LP_BOUND_SHARE)
            lp_bound = relaxed.bound
            if relaxed.bound is not None:
                screened = m.model.screen(relaxed, start)
            relaxation_log = {"stage": "relaxation", "status": "converged" if relaxed.converged else "time",
                              "wall_time_s": round(time.monotonic() - t0, 3), "columns": relaxed.columns_in_lp,
                              "bound": relaxed.bound}
            left = max(1.0, left - (time.monotonic() - t0))
        solve_end = time.monotonic() + left
        solved = m.model.solve(budget, start=start, fixed_open=unaffordable,
                               fixed_columns=fixed_moves if screened is None else None,
                               time_limit_s=left, seed=seed, stages=stages[n], columns=screened)
        widen = 0
        while (screened is not None and lp_bound is not None and solved.placed < lp_bound and widen < MAX_WIDEN
               and solve_end - time.monotonic() >= MIN_WIDER_S):
            # the screened plan is optimal for its screen, short of the bound, with time left: a wider screen
            # from that plan (1,500 clients, $156,000: 186 in 24 s of 60 where the optimum is 187)
            widen += 1
            from_plan = m.model.start_from(solved.values, solved.opened)
            wider = m.model.screen(relaxed, from_plan, widen=widen)
            if wider.sum() <= screened.sum():
                break
            screened = wider
            again = m.model.solve(budget, start=from_plan,
                                  fixed_open=unaffordable, time_limit_s=solve_end - time.monotonic(), seed=seed,
                                  stages=stages[n], columns=screened)
            if (again.placed, -again.cost) > (solved.placed, -solved.cost):
                solved = replace(again, stages=[*solved.stages, {"stage": "wider screen", "widen": widen,
                                                                 "columns": int(screened.sum()),
                                                                 "placed": again.placed}, *again.stages])
        if fixed_moves is not None:
            how = "tonight's moves fixed" if screened is None else "screened, moves free"
            solved = replace(solved, bound=None if lp_bound is None else max(lp_bound, solved.placed),
                             status=f"{solved.status} ({how}; bound: LP relaxation)",
                             stages=[relaxation_log, *solved.stages])
        if out and solved.placed < out[-1].placed:  # never: the start is kept; stated, not assumed
            solved = replace(out[-1], budget=budget)
        out.append(solved)
        start = m.model.start_from(solved.values, solved.opened)
    later: int | None = None  # a bound for a larger budget holds for a smaller one (fewer plans)
    for k in range(len(out) - 1, -1, -1):
        if later is not None and (out[k].bound is None or out[k].bound > later):
            out[k] = replace(out[k], bound=max(later, out[k].placed))
        if out[k].bound is not None:
            later = out[k].bound if later is None else min(later, out[k].bound)
    return out, nightly


def _proven(start: np.ndarray, m: _Model, nightly: int, bound: int | None) -> bool:
    """Whether the start is the nightly optimizer's plan and reaches its proven bound."""
    return bound is not None and nightly >= bound and int(m.model.placement @ start[:m.model.n_x]) == nightly


def _as_solved(m: _Model, start: np.ndarray, budget: float, bound: int | None) -> OpenedPlan:
    """Tonight's start plan as the model's result for a budget that buys no hire; ``bound``: `optimizer.assign`'s
    proven bound for tonight."""
    values = np.rint(start[:m.model.n_x]).astype(np.int64)
    placed = int(m.model.placement @ values)
    bound = None if bound is None else max(int(bound), placed)
    status = "Optimal" if bound is not None and placed >= bound else "Feasible"
    return OpenedPlan(values=values, opened=np.zeros(m.model.n_y, dtype=bool), placed=placed, cost=0.0,
                      bound=bound, status=f"{status} (tonight's plan, optimizer.assign's bound)", budget=budget,
                      stages=[{"stage": "tonight", "status": status, "wall_time_s": 0.0, "nodes": 0}])


def plan_hires(agency: Agency, candidates: list[Candidate], budget: float, *, seed: int = 0,
               time_limit_s: float | None = None, progress: Callable[[str], None] | None = None,
               frontier_steps: int = 0) -> StaffingPlan:
    """Hires and placements chosen together for ``budget`` (see the module docstring); with ``frontier_steps``
    the plan also carries the frontier (placements for budgets 0 to ``budget`` in that many steps)."""
    began = time.monotonic()
    say = progress or (lambda _message: None)
    limit = agency.policy.time_limit_s if time_limit_s is None else time_limit_s
    budget = max(0.0, float(budget))
    costs = {c.candidate_id: float(c.cost(agency.policy)) for c in candidates}
    note = None
    cheapest = min(costs.values()) if costs else None
    if not candidates:
        note = "no candidate positions: nothing to hire"
    elif cheapest is not None and budget < cheapest:
        cid = min(costs, key=lambda k: (costs[k], k))
        note = (f"the budget ${budget:,.0f} is below the cheapest candidate ({cid}, ${cheapest:,.0f} a year): "
                f"no hire is possible, the plan hires nobody")
    say("building the model (every hire the budget could pay for, as optional workers)")
    m = _build(agency, candidates, budget if note is None else 0.0)
    steps = max(0, int(frontier_steps))
    budgets = [budget * n / steps for n in range(steps + 1)] if steps else [0.0, budget]
    if note is not None:
        budgets = [0.0]
    seconds = limit - (time.monotonic() - began) - NAMING_RESERVE_S - NAMING_PER_CLIENT_S * len(agency.clients)
    solved, nightly = _solve_budgets(m, budgets, seed=seed, time_limit_s=seconds, say=say)
    base, final = solved[0], solved[-1]
    if note is not None:
        final = replace(final, budget=budget)
    say("naming the plan")
    state = _decoded(m, final.values)
    hires, names = _hires_of(m, final, state)
    final_agency, named, plan = _named(m, state, hires, names)
    placed_with = int(plan.summary["objective"]["placements"])
    clients_placed = _clients_on_hires(named, m.candidates, hires)
    moved_to_hires = _moved_to_hires(named, m.candidates, hires)
    cost = sum(costs[cid] * n for cid, n in hires.items())
    bound = final.bound if note is None else base.bound
    status = "OPTIMAL" if bound is not None and placed_with >= bound else "FEASIBLE"
    result = StaffingPlan(
        budget=budget, hires=hires, cost=cost, placed_without=base.placed, placed_with=placed_with, bound=bound,
        workers=list(final_agency.workers), clients_placed=clients_placed, candidates=list(candidates),
        unit_costs=costs,
        assignments=plan.assignments, status=status, note=note,
        frontier=_frontier_rows(m, solved, costs) if steps else [],
    )
    result.summary = {
        "budget": budget, "cost": round(cost, 2), "hires": hires,
        "fte": round(sum(c.fte * hires.get(c.candidate_id, 0) for c in candidates), 4),
        "placed_without": base.placed, "placed_with": placed_with, "placed_by_hires": placed_with - base.placed,
        "placement_bound": bound, "placement_gap": result.gap, "status": status,
        "bound_source": "HiGHS branch and cut's dual bound on the placement model (moves included) with every "
                        "affordable hire optional; on a large agency, whose branch and cut gets screened columns, "
                        "the opening model's LP relaxation (column generation, weak duality over every column and "
                        "move: weaker, but it holds for any plan)",
        "moves": MOVES_NOTE,
        "promise": PROMISE_NOTE,
        "clients_placed": clients_placed, "moved_to_hires": moved_to_hires,
        "unit_costs": {cid: costs[cid] for cid in hires},
        "waiting_with_hires": plan.summary["waiting"],
        "waiting_by_reason": _reasons_without_ids(plan.summary["waiting_by_reason"]),
        "note": note, "seed": seed, "time_limit_s": limit,
        "model": {"candidates": len(candidates), "hires_in_model": int(sum(m.copies)), "units": len(m.units),
                  "classes": len(m.cl.classes), "columns": len(m.cl.columns),
                  "solves": [{"budget": s.budget, "placed": s.placed, "bound": s.bound, "status": s.status,
                              "stages": s.stages} for s in solved]},
        "frontier": result.frontier,
    }
    result.summary["wall_time_s"] = round(time.monotonic() - began, 3)
    return result


def _clients_on_hires(state: Caseloads, candidates: list[Candidate], hires: dict[str, int]) -> dict[str, int]:
    """Waiting clients (and forced movers re-placed) each chosen candidate's hires take on in the plan; active
    clients moved to a hire to make room elsewhere are not counted (they were placed already)."""
    owner = {c.hire(n).worker_id: c.candidate_id
             for c in candidates for n in range(1, hires.get(c.candidate_id, 0) + 1)}
    counts: Counter = Counter()
    for u in np.nonzero(state.unit_worker >= 0)[0]:
        worker_id = state.el.workers[int(state.unit_worker[u])].worker_id
        if worker_id in owner:
            counts[owner[worker_id]] += state.units[int(u)].size
    return {cid: int(counts.get(cid, 0)) for cid in hires}


def _moved_to_hires(state: Caseloads, candidates: list[Candidate], hires: dict[str, int]) -> dict[str, int]:
    """Active clients each chosen candidate's hires take on by an optional move, to make room for a waiting
    client elsewhere (what a hire is worth beyond the waiting clients it takes itself)."""
    owner = {c.hire(n).worker_id: c.candidate_id
             for c in candidates for n in range(1, hires.get(c.candidate_id, 0) + 1)}
    counts = Counter(owner[state.el.workers[j].worker_id] for j in state.move_to.values()
                     if state.el.workers[j].worker_id in owner)
    return {cid: int(counts.get(cid, 0)) for cid in hires}


def _frontier_rows(m: _Model, solved: list[OpenedPlan], costs: dict[str, float]) -> list[dict[str, Any]]:
    rows = []
    base = solved[0].placed
    for n, s in enumerate(solved):
        hires: dict[str, int] = {}
        for k, opened in zip(m.model.openings.kind, s.opened, strict=True):
            if opened:
                cid = m.candidates[int(k)].candidate_id
                hires[cid] = hires.get(cid, 0) + 1
        prev = solved[n - 1] if n else None
        per = None
        if prev is not None and s.budget > prev.budget:
            per = round((s.placed - prev.placed) * PER_DOLLARS / (s.budget - prev.budget), 3)
        rows.append({"budget": round(s.budget, 2), "placed": s.placed, "added": s.placed - base,
                     "cost": round(sum(costs[c] * k for c, k in hires.items()), 2), "hires": hires,
                     "bound": s.bound, "proven": s.proven, f"placed_per_{PER_DOLLARS}": per})
    return rows


def frontier(agency: Agency, candidates: list[Candidate], budget: float, steps: int = DEFAULT_FRONTIER_STEPS, *,
             seed: int = 0, time_limit_s: float | None = None,
             progress: Callable[[str], None] | None = None) -> list[dict[str, Any]]:
    """Placements against budget, 0 to ``budget`` in ``steps`` steps: budget, placed, added (over no hire),
    cost, hires, bound, proven, and placed_per_100000 (marginal clients per $100,000 from the step before).
    Never decreasing: each step starts from the previous step's plan."""
    return plan_hires(agency, candidates, budget, seed=seed, time_limit_s=time_limit_s, progress=progress,
                      frontier_steps=max(1, steps)).frontier


# --- bottlenecks -----------------------------------------------------------------------------------------


def bottlenecks(agency: Agency, *, seed: int = 0, time_limit_s: float | None = None,
                max_groups: int = MAX_BOTTLENECK_GROUPS, fte: float = BOTTLENECK_FTE,
                progress: Callable[[str], None] | None = None) -> pd.DataFrame:
    """Per language x French service x area with clients waiting tonight: how many wait, why (the reason
    groups `assign` reports), and how many more clients one more ``fte`` worker of that profile would place
    (see BOTTLENECK_METHOD). The ``max_groups`` largest groups are re-solved, largest first, while the time
    limit lasts; the others say why they were not computed."""
    say = progress or (lambda _message: None)
    limit = agency.policy.time_limit_s if time_limit_s is None else time_limit_s
    deadline = time.monotonic() + limit
    columns = ["language", "french", "area", "waiting", "reasons", "one_more_fte_places", "at_most", "proven",
               "method"]
    say("bottlenecks: tonight's plan")
    today = _build(agency, [], 0.0, moves=False)
    tonight = today.model.solve(0.0, start=_greedy_start(today), time_limit_s=limit * TONIGHT_SHARE, seed=seed,
                                stages=("placements",))
    _, state, plan = _named(today, _decoded(today, tonight.values), {}, {})
    reason_of = {a.client_id: _without_ids(reason_group(a.reason))
                 for a in plan.assignments if a.decision == Decision.WAITING}
    groups: dict[tuple, list] = {}
    for c in agency.waiting:
        if c.client_id in reason_of:
            groups.setdefault(_group_key(c), []).append(c)
    if not groups:
        return pd.DataFrame([], columns=columns)
    keys = sorted(groups, key=lambda k: (-len(groups[k]), k[0], k[1], k[2] or ""))
    profiles = [_profile_worker(f"PROFILE-{n + 1}", key, groups[key], fte, agency.workers)
                for n, key in enumerate(keys[:max_groups])]
    candidates = [Candidate(candidate_id=w.worker_id, fte=w.fte, languages=w.languages, french=w.french,
                            latitude=w.latitude, longitude=w.longitude, areas=w.areas, annual_cost=0.0, max_hires=1)
                  for w in profiles]
    # a profile no waiting client could use gets no copy (bounded by use)
    m = _build(agency, candidates, 0.0, moves=False)
    closed = np.zeros(len(m.model.openings), dtype=float)
    base = m.model.solve(0.0, start=m.model.start_from(_columns_on(m, state)), fixed_open=closed,
                         time_limit_s=max(0.5, deadline - time.monotonic()) * BASE_SHARE, seed=seed,
                         stages=("placements",))
    position = {int(k): n for n, k in enumerate(m.model.openings.kind)}
    rows = []
    for g, key in enumerate(keys):
        members = groups[key]
        reasons = Counter(reason_of[c.client_id] for c in members)
        extra: int | None = None
        at_most: int | None = None
        proven: bool | None = None
        method = f"not computed (only the {max_groups} largest groups are re-solved)"
        left = deadline - time.monotonic()
        if g < len(profiles) and g not in position:
            extra, at_most, proven = 0, 0, True  # one such worker could take none of the waiting clients
            method = BOTTLENECK_METHOD
        elif g < len(profiles) and left < MIN_RESOLVE_S:
            method = "not computed (the time limit ran out; give more time to re-solve more groups)"
        elif g < len(profiles):
            say(f"bottlenecks: one more FTE for {key[0]}{' (French)' if key[1] else ''} in {key[2] or 'any area'}")
            fixed = closed.copy()
            fixed[position[g]] = 1.0
            to_go = sum(1 for h in range(g, len(profiles)) if h in position)
            more = m.model.solve(1.0, start=m.model.start_from(base.values, fixed > 0), fixed_open=fixed,
                                 time_limit_s=max(MIN_RESOLVE_S, left / to_go - OVERSHOOT_S), seed=seed,
                                 stages=("placements",))
            extra, proven = more.placed - base.placed, bool(more.proven and base.proven)
            # no more than the new worker can hold (drop its clients: the rest is a plan without it), nor than
            # the re-solve's bound allows
            j = int(m.model.openings.workers[position[g]])
            holds = int(m.cap.capacity[j] // min(m.cap.high_weight[j], m.cap.low_weight[j]))
            at_most = max(extra, min(holds, int(m.cap.new_allowance[j]),
                                     holds if more.bound is None else more.bound - base.placed))
            method = BOTTLENECK_METHOD
        rows.append({"language": key[0], "french": key[1], "area": key[2] or "", "waiting": len(members),
                     "reasons": "; ".join(f"{r}: {n}" for r, n in reasons.most_common()),
                     "one_more_fte_places": extra, "at_most": at_most, "proven": proven, "method": method})
    return pd.DataFrame(rows, columns=columns)


def _columns_on(m: _Model, state: Caseloads) -> np.ndarray:
    """Column values in ``m`` of a plan named on another agency with the same clients (its workers a subset)."""
    here = Caseloads(m.el, m.cap, m.units)
    for u in np.nonzero(state.unit_worker >= 0)[0]:
        here.place(int(u), m.el.worker_index[state.el.workers[int(state.unit_worker[u])].worker_id])
    return plan_columns(m.cl, here)


_MEMBER_ID = re.compile(r"\bmember \S+ ")


def _reasons_without_ids(by_reason: dict[str, int]) -> dict[str, int]:
    out: Counter = Counter()
    for reason, n in by_reason.items():
        out[_without_ids(reason)] += n
    return dict(out.most_common())


def _without_ids(reason: str) -> str:
    """A reason group with no client id left in it (`reason_group` keeps a family member's): the table is an
    aggregate a funder may see."""
    return _MEMBER_ID.sub("a member ", reason)
