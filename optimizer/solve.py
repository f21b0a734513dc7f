"""`assign`: tonight's plan from the CP-SAT model, with a proven bound on placements.

Pipeline: eligibility (vectorised per-pair rules) -> units (families whole) -> the greedy plan (a floor)
-> classes of interchangeable units and movable items, and the model's columns -> the LP relaxation
(HiGHS, column generation, moves included): the proven bound, and a starting plan by LP diving and the
make-room pass -> branch and cut on the placement stage (HiGHS, `optimizer.mip`), from that plan: on a small
agency over the complete model; on a large one, the LP converged from the plan's columns, then rounds of
branch and cut over restrictions drawn from it, each class's least-priced columns with ties broken at random
(`optimizer.restrictions`) -> unless that proved its plan optimal, large-neighbourhood search with HiGHS
over about fifteen workers at a time, two neighbourhoods side by side (`optimizer.mip_search`); or else
CP-SAT's search over a few workers (`optimizer.neighbourhoods`) -> the later stages of the lexicographic
objective (`optimizer.stages`) -> counts decoded into named clients -> polishing -> assignments with
reasons and the summary.

Why branch and cut, then a neighbourhood search, before CP-SAT's own stages: one CP-SAT search over the
complete placement model stalls even on a 1,000-client agency (the LP relaxation lets fractions of
clients move to free just the room needed); HiGHS' cuts close most of that gap (see `optimizer.mip`
for the measurements), and models over a handful of workers are solved to optimality in milliseconds.
Branch and cut gets the complete model on a small agency (its bound then joins the summary's) and
restrictions of it on a large one.

Two paths for the later stages, by the size of the complete model (its number of columns):

- small (at most EXACT_COLUMNS): CP-SAT gets the complete model, optional moves included, and runs the
  seven lexicographic stages from the search's plan, placements held at least at its count. The
  placement bound is the smallest of CP-SAT's stage-1 bound, branch and cut's and the LP's.
- large: the later stages run on an LP-guided restriction with tonight's moves fixed; the bound is the
  LP relaxation's (rounded down).

Both paths end with the polishing passes (`optimizer.polish`, `optimizer.moves`), which only add
placements or undo moves that made room nobody used, and with the greedy floor: a plan never places
fewer clients than `greedy_assign`.

A plan given as ``start_from`` (`optimizer.start_plan`: the staffing planner's, through `caseload assign
--start`) is checked against tonight's rules and replaces the search's own start when it places at least as
many; its moves keep their columns. Every later phase keeps what its start places, so the plan then places at
least that, whatever the time limit.

The time limit is a ceiling, not a target: every phase stops when more time buys nothing. The placement
phases stop once the plan reaches the proven bound (the LP relaxation's, rounded down; branch and cut's on a
small agency), or when they stall (rounds and neighbourhoods without a gain, `optimizer.restrictions`,
`optimizer.mip_search`); the later stages stop at optimality, within the policy's ``stage_gap`` of their
bound, or after a stall period (`optimizer.stages`). The summary's ``stages`` lists every phase in order
with why it stopped (``stop``: optimal, gap, stalled, budget (a deterministic work count), time (the
clock), done, held) and its wall time; ``placements_profile`` holds [seconds, placed] as placements
rose, ``placements_settled_s`` when they were final, ``time_to_final_placements_s`` when the plan first
placed as many as it does in the end.

``on_placements``: called once, with a provisional Plan (``summary["provisional"]`` true), as soon as
placements are final and before the later stages polish language, needs, travel and loads; the final
plan places at least as many clients.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import replace

import numpy as np

from caseload.domain import Agency
from optimizer.caseloads import Caseloads
from optimizer.classes import Classes, build_classes, tier_weights
from optimizer.decode import decode, decode_columns, encode, keep_expressible, plan_columns
from optimizer.eligibility import Eligibility, WorkerCapacity, compute_eligibility, worker_capacity
from optimizer.greedy import greedy_fill
from optimizer.lp import Relaxation, choose_columns, dive, lp_relaxation
from optimizer.mip import BranchAndCut, branch_and_cut, node_limit, placements
from optimizer.mip_search import MipSearchLog, start_workers
from optimizer.mip_search import search as mip_search
from optimizer.model import build_model
from optimizer.moves import make_room
from optimizer.neighbourhoods import SearchLog, improve
from optimizer.plan import Plan, make_plan
from optimizer.polish import fill, undo_idle_moves, undo_unneeded_moves
from optimizer.restrictions import MIN_ROUND_S, RoundsLog, converged_guide
from optimizer.restrictions import search as restricted_search
from optimizer.stages import STAGE_SHARE, StageResult, StageRunner
from optimizer.start_plan import start_moves, start_state
from optimizer.units import Unit, ranked, rule_family_one_worker

__all__ = ["Plan", "assign"]

log = logging.getLogger("caseload.optimizer")
DECODE_RESERVE = 0.03  # share of the time budget kept for decoding and writing reasons, plus
RESERVE_PER_CLIENT_S = 8e-5  # this per client (measured 2 s to name and explain 50,000 clients, 0.5 s 20,000)
LP_SHARE = 0.2          # each LP relaxation may take at most this share of the time left
DIVE_ROUNDS = 8          # LP diving rounds for the starting plan (measured: 2,675 placements after 8
                         # rounds vs 2,593 rounding once, 50,000 clients; under a second)
MIP_SHARE = 0.8          # branch and cut on the complete placement model gets this share of the time left
                         # (measured: 1,000 clients proven optimal at 1,728 nodes, 16-19 s on idle 2 cores; it
                         # stops there, and CP-SAT's later stages get the rest)
SEARCH_MOVE_REDUCED_COST = 0.0  # the neighbourhood search's move columns: those below this LP reduced cost
MIP_SEARCH_SHARE = 0.75  # a small agency's HiGHS neighbourhood search, when branch and cut has not proven
                         # its plan optimal
PLACEMENT_SHARE = 0.93   # a large agency's placement searches get this share of the time left; the later
                         # stages the rest (measured, 50,000 clients: they take 8-18 s of whatever they get)
ROUNDS_SHARE = 0.65      # ... of which the first rounds of branch and cut over restrictions drawn from the LP
                         # (`optimizer.restrictions`) get this share; HiGHS' neighbourhood search runs to the
                         # deadline, and rounds take what it leaves when it levels off (measured, seed 1: 20,000
                         # clients 1,933 placed, with 0.85 and no search 1,927-1,930; 6,000 clients, seeds 1/2:
                         # 584/585, was 584/584; 50,000 clients, seeds 1/2: 2,979/2,978, was 2,987/2,979)
GUIDE_SHARE = 0.15       # ... of which the LP converged from the plan's columns may take this (50,000 clients:
                         # 2.5 s; 20,000: 0.6 s)
SEARCH_SHARE = 0.6       # the neighbourhood search gets this share of the time left after the start
SEARCH_DETERMINISTIC_PER_SECOND = 0.15  # CP-SAT deterministic time per second of search budget (measured
                         # ~0.15 on an idle 2-core machine, model building included)
WIDE_MOVE_DESTINATIONS = 30  # a large agency's move classes keep this many destinations, not 8, when the move
WIDE_MOVE_COLUMNS = 80_000   # columns stay under this (6,000 clients: 2,276 move classes; the LP-guided
                             # restriction's bound rises from 584-585 to 586-587; 50,000 clients keep 8)
WHOLE_MIP_COLUMNS = 20_000  # a large-path model up to this size gets branch and cut over all its columns with the
                            # time the restrictions leave (wide mix, 1,500 clients and 4 hires: 6,944 columns,
                            # the restrictions stalled at 186 after 26 s of 60, the whole model gives 189)
EXACT_COLUMNS = 3000  # up to this many columns CP-SAT gets the complete model (and proves its own bound)


class _Phases:
    """The placement phases as they run: why each stopped and its time, and placements against time."""

    def __init__(self, start: float):
        self.start = start
        self.items: list[StageResult] = []
        self.profile: list[tuple[float, int]] = []

    def add(self, name: str, began: float, stop: str, placed: int | None, *, status: str = "",
            bound: float | None = None) -> None:
        self.items.append(StageResult(name, status or stop, placed, None if bound is None else round(bound, 3),
                                      time.monotonic() - began, stop, None, began - self.start, "placements"))
        if placed is not None:
            self.point(placed)

    def point(self, placed: int, at: float | None = None) -> None:
        """Placements reached at monotonic time ``at`` (now when None); only rises are kept."""
        t = round((time.monotonic() if at is None else at) - self.start, 3)
        if not self.profile or placed > self.profile[-1][1]:
            self.profile.append((t, int(placed)))


def _highs_stop(status: str) -> str:
    """A HiGHS model status as a reason to stop."""
    low = status.lower()
    if low == "optimal":
        return "optimal"
    if "time" in low:
        return "time"
    if "node" in low or "iteration" in low or "limit" in low:
        return "budget"
    return low or "unknown"


def assign(agency: Agency, *, time_limit_s: float | None = None, seed: int = 0, num_workers: int = 2,
           progress: Callable[[str], None] | None = None,
           on_placements: Callable[[Plan], None] | None = None,
           start_from: Mapping[str, str] | None = None) -> Plan:
    """Place waiting clients with workers tonight (see the package docstring for the objective);
    ``on_placements`` gets a provisional plan as soon as placements are final (module docstring). ``start_from``
    (client_id -> worker_id: e.g. the staffing planner's plan) is checked against tonight's rules and, when it
    places at least as many as the search's own start, begun from: the plan then places at least what it kept
    of it (`optimizer.start_plan`)."""
    start = time.monotonic()
    budget = agency.policy.time_limit_s if time_limit_s is None else time_limit_s
    say = progress or (lambda _message: None)
    phases = _Phases(start)

    say("checking eligibility")
    el = compute_eligibility(agency)
    cap = worker_capacity(agency, el)
    units = rule_family_one_worker(agency, el)
    order = ranked(units)
    greedy = greedy_fill(el, cap, units)

    say("building the model")
    given_moves = start_moves(el, start_from) if start_from else {}
    cl = model_classes(agency, el, cap, units, order, keep_moves=given_moves)

    reserve = budget * DECODE_RESERVE + RESERVE_PER_CLIENT_S * el.n_clients

    def left() -> float:
        return max(0.5, budget - reserve - (time.monotonic() - start))

    solver = {"seed": seed, "num_workers": num_workers, "progress": say, "gap": agency.policy.stage_gap}
    waiting = sum(unit.size for unit in units)
    lp: Relaxation | None = None
    if len(cl.columns):
        say("bounding placements (LP relaxation)")
        began = time.monotonic()
        lp = lp_relaxation(cl, cap, time_limit_s=left() * LP_SHARE)
        phases.add("lp_relaxation", began, lp.stop, None, bound=lp.objective if lp.solved else None)
    say("a first plan (LP rounding)")
    began = time.monotonic()
    allowed = _allowed(cl)
    state = _start(el, cap, units, order, cl, greedy, lp, allowed, left)
    ceiling = _ceiling(lp, waiting)  # a proven bound: no placement phase runs once the plan reaches it
    phases.add("start_plan", began, "done", state.placed_count())
    given_log = None
    if start_from:
        began = time.monotonic()
        given, given_log = start_state(el, cap, units, order, cl.move_budget, start_from, given_moves)
        given_log.expressed(keep_expressible(cl, given, order), given)  # the model's columns hold it: keep_moves
        fill(given, order)
        if given.placed_count() >= state.placed_count():
            state, given_log.used = given, True
        phases.add("given_start", began, "done", given.placed_count(),
                   status="begun from" if given_log.used else "below the search's own start")

    mip: BranchAndCut | None = None
    mip_log = MipSearchLog()
    rounds_log = RoundsLog()
    if lp is not None and lp.solved and len(cl.columns) and state.placed_count() < ceiling:
        if len(cl.columns) <= EXACT_COLUMNS:
            say("placements by branch and cut")
            state, mip = _branch_and_cut(el, cap, units, cl, state, left() * MIP_SHARE, seed, phases)
            if not mip.proven:
                say("improving placements, neighbourhoods of workers in parallel (HiGHS)")
                state = _mip_search(el, cap, units, cl, state, lp, left() * MIP_SEARCH_SHARE, seed, num_workers,
                                    mip_log, phases, ceiling)
        else:
            placement_end = time.monotonic() + left() * PLACEMENT_SHARE
            start_workers(num_workers)  # the neighbourhood search's processes start behind the rounds
            say("placements by branch and cut over restrictions drawn from the LP")
            state, mip, lp = _restricted(el, cap, units, cl, state, lp, left() * ROUNDS_SHARE, seed, rounds_log,
                                         phases, ceiling)
            ceiling = min(ceiling, _ceiling(lp, waiting))
            if state.placed_count() < ceiling:
                say("improving placements, neighbourhoods of workers in parallel (HiGHS)")
                state = _mip_search(el, cap, units, cl, state, lp, placement_end - time.monotonic(), seed,
                                    num_workers, mip_log, phases, ceiling)
            if (placement_end - time.monotonic() >= MIN_ROUND_S and rounds_log.stop != "stalled"
                    and state.placed_count() < ceiling):
                # the search levelled off before its time, and the rounds had not
                say("placements by branch and cut over restrictions drawn from the LP, again")
                state, again, lp = _restricted(el, cap, units, cl, state, lp, placement_end - time.monotonic(),
                                               seed + 1, rounds_log, phases, ceiling)
                mip = again or mip
            if (len(cl.columns) <= WHOLE_MIP_COLUMNS and state.placed_count() < ceiling
                    and placement_end - time.monotonic() >= MIN_ROUND_S):
                # the restrictions levelled off with time left, on a model branch and cut can take whole
                say("placements by branch and cut over the whole model")
                state, mip = _branch_and_cut(el, cap, units, cl, state, placement_end - time.monotonic(), seed,
                                             phases)  # its bound holds for the whole model

    search = SearchLog()
    settled = state.placed_count() >= ceiling or (mip is not None and mip.proven)
    if len(cl.columns) and not mip_log.rounds and not settled:
        say("improving placements, a few workers at a time")
        began = time.monotonic()
        seconds = left() * SEARCH_SHARE
        improve(state, cl, np.arange(len(cl.columns)), deadline=time.monotonic() + seconds,
                deterministic_budget=seconds * SEARCH_DETERMINISTIC_PER_SECOND, seed=seed, log=search)
        phases.add("cp_sat_search", began, search.stop, state.placed_count())
    undo_idle_moves(state)
    undo_unneeded_moves(state)
    fill(state, order)

    weights = tier_weights(units)
    gains = {u: unit.size * weights[unit.tier] + unit.days for u, unit in enumerate(units)}
    provisional: Caseloads | None = None
    say("placements final; polishing travel and even loads")
    if on_placements is not None:
        provisional = _copy(state, el, cap, units)
        make_room(provisional, order, cl.move_budget, allowed)
        fill(provisional, order)
        phases.point(provisional.placed_count())
        bound_now = _bound(False, None, lp, mip, provisional.placed_count(), len(cl.columns), waiting)
        early = make_plan(agency, provisional, {
            "status": ("OPTIMAL" if bound_now is not None and provisional.placed_count() >= bound_now
                       and cl.moves_complete else "FEASIBLE"),
            "placement_bound": bound_now, "provisional": True, "seed": seed, "time_limit_s": budget,
            "num_workers": num_workers, "stages": [r.as_dict() for r in phases.items]}, gains)
        early.summary["wall_time_s"] = round(time.monotonic() - start, 3)
        on_placements(early)
    phases.point(state.placed_count())
    settled_s = round(time.monotonic() - start, 3)

    placements_proven = mip is not None and mip.proven
    if len(cl.columns) <= EXACT_COLUMNS:
        state, results, model_info = _small(el, cap, units, cl, state, left, solver, start, placements_proven,
                                            None if mip is None else mip.bound)
    else:
        state, results, model_info = _large(el, cap, units, cl, state, lp, left, solver, start)
    model_info["search"] = search.as_dict()
    if mip_log.rounds:
        model_info["mip_search"] = mip_log.as_dict()
    if rounds_log.rounds:
        model_info["restricted_rounds"] = rounds_log.as_dict()
    if mip is not None:
        model_info["branch_and_cut"] = {"status": mip.status, "placed": mip.placements(cl), "nodes": mip.nodes,
                                        "columns": mip.columns, "complete_model": mip.complete,
                                        "bound": None if mip.bound is None else round(mip.bound, 3)}

    say("naming clients")
    undo_idle_moves(state)
    undo_unneeded_moves(state)
    filled = fill(state, order)
    filled += make_room(state, order, cl.move_budget, allowed)
    filled += fill(state, order)
    note = None
    if provisional is not None and state.placed_count() < provisional.placed_count():
        state = provisional  # the plan already shown places more: placements were promised final
    if state.placed_count() < greedy.placed_count():
        note = "the solver's plan placed fewer clients than the greedy one: the greedy plan is used"
        state = greedy
        fill(state, order)
    first = results[0] if results and results[0].name == "placements" else None
    exact = model_info["exact"]
    bound = _bound(exact, first, lp, mip, state.placed_count(), len(cl.columns), waiting)
    phases.point(state.placed_count())
    final = state.placed_count()
    extra = {
        "status": "OPTIMAL" if bound is not None and final >= bound and cl.moves_complete else "FEASIBLE",
        "placement_bound": bound,
        "bound_source": _bound_source(exact, lp, cl.moves_complete),
        "seed": seed,
        "time_limit_s": budget,
        "num_workers": num_workers,
        "stages": [r.as_dict() for r in phases.items + results],
        "placements_profile": [list(point) for point in phases.profile],
        "placements_settled_s": settled_s,
        "time_to_final_placements_s": next((t for t, placed in phases.profile if placed >= final), None),
        "model": {"units": len(units), "classes": len(cl.classes), "move_classes": len(cl.move_classes),
                  "columns": len(cl.columns), "move_budget": cl.move_budget,
                  "lp_relaxation": None if lp is None else round(lp.objective, 3),
                  "placed_after_solve": filled, **model_info},
    }
    if given_log is not None:
        extra["start"] = given_log.as_dict()
    if note:
        extra["note"] = note
    plan = make_plan(agency, state, extra, gains)
    plan.summary["wall_time_s"] = round(time.monotonic() - start, 3)
    return plan


def model_classes(agency: Agency, el: Eligibility, cap: WorkerCapacity, units: list[Unit], order: list[int],
                  optional: np.ndarray | None = None,
                  keep_moves: dict[tuple[int, ...], int] | None = None) -> Classes:
    """The classes a night's model is built on, by its size: a small model gets every move, chains too, when that
    stays within EXACT_COLUMNS (its bound is then tonight's, not a restriction's); a large one keeps
    WIDE_MOVE_DESTINATIONS per move class while those columns stay under WIDE_MOVE_COLUMNS. ``optional``: the
    staffing planner's hires; ``keep_moves``: a start plan's moves (`optimizer.classes.build_classes`)."""
    cl = build_classes(agency, el, cap, units, order, optional=optional, keep_moves=keep_moves)
    if len(cl.columns) <= EXACT_COLUMNS and not cl.moves_complete:
        every = build_classes(agency, el, cap, units, order, optional=optional, every_move=True,
                              keep_moves=keep_moves)
        if len(every.columns) <= EXACT_COLUMNS:
            return every
    if len(cl.columns) > EXACT_COLUMNS and len(cl.move_classes) * WIDE_MOVE_DESTINATIONS <= WIDE_MOVE_COLUMNS:
        return build_classes(agency, el, cap, units, order, move_destinations=WIDE_MOVE_DESTINATIONS,
                             optional=optional, keep_moves=keep_moves)
    return cl


def _start(el: Eligibility, cap: WorkerCapacity, units: list[Unit], order: list[int], cl: Classes,
           greedy: Caseloads, lp: Relaxation | None, allowed: dict[int, np.ndarray],
           left: Callable[[], float]) -> Caseloads:
    """The better of the greedy plan and LP diving (moves from the LP's whole part, then the make-room
    pass); a copy, so the greedy plan stays the floor."""
    destinations = _destinations(cl)
    best = _copy(greedy, el, cap, units)
    make_room(best, order, cl.move_budget, allowed, destinations)
    fill(best, order)
    if lp is None or not lp.solved:
        return best
    plan = Caseloads(el, cap, units)
    dive(cl, cap, plan, lp, order, rounds=DIVE_ROUNDS, deadline=time.monotonic() + left() * LP_SHARE, fill=fill)
    make_room(plan, order, cl.move_budget, allowed, destinations)
    undo_idle_moves(plan)
    undo_unneeded_moves(plan)
    fill(plan, order)
    return plan if plan.placed_count() > best.placed_count() else best


def _branch_and_cut(el: Eligibility, cap: WorkerCapacity, units: list[Unit], cl: Classes, plan: Caseloads,
                    seconds: float, seed: int, phases: _Phases) -> tuple[Caseloads, BranchAndCut]:
    """HiGHS' branch and cut on the complete placement model (`optimizer.mip`: a small agency's, or a large
    path's that it can take whole), from ``plan``, never placing fewer; recorded as a phase with each better
    plan it found. Returns the plan and branch and cut's result; its bound holds for the model."""
    began = time.monotonic()
    columns = plan_columns(cl, plan)
    start = columns if _expressible(cl, plan, columns) else None
    result = branch_and_cut(cl, cap, None, start, time_limit_s=seconds, node_limit=node_limit(seconds, len(cl.columns)),
                            seed=seed)
    state = _decoded(el, cap, units, cl, plan, result.values)
    for at, placed in result.improvements:
        phases.point(placed, at)
    phases.add("branch_and_cut", began, _highs_stop(result.status), state.placed_count(), status=result.status,
               bound=result.bound)
    return state, result


def _restricted(el: Eligibility, cap: WorkerCapacity, units: list[Unit], cl: Classes, plan: Caseloads,
                lp: Relaxation, seconds: float, seed: int, log: RoundsLog, phases: _Phases,
                ceiling: int) -> tuple[Caseloads, BranchAndCut | None, Relaxation]:
    """A large agency's placements: the LP converged from the plan's columns, then rounds of branch and cut
    over restrictions drawn from it (`optimizer.restrictions`), never placing fewer than ``plan``. Returns
    the plan, the last round's result (None when none ran) and the converged LP (``lp`` when it did not
    converge in time): its bound is the tighter, and it guides what follows."""
    began = time.monotonic()
    columns = plan_columns(cl, plan)
    if not _expressible(cl, plan, columns):
        phases.add("restricted_rounds", began, "not expressible", plan.placed_count())
        return plan, None, lp
    guide = lp if lp.converged else converged_guide(cl, cap, lp, columns, time_limit_s=seconds * GUIDE_SHARE)
    if guide is not lp:
        phases.add("lp_converged", began, guide.stop, None, bound=guide.objective)
    ceiling = min(ceiling, _ceiling(guide, ceiling))
    first, first_trace = len(log.ended), len(log.trace)
    values, last = restricted_search(cl, cap, guide, columns, seconds=seconds - (time.monotonic() - began),
                                     seed=seed, log=log, ceiling=ceiling)
    points = log.trace[first_trace:] + list(zip(log.ended[first:], log.placed[first:], strict=True))
    for at, placed in sorted(points):  # HiGHS' better plans within each round, and each round's end
        phases.point(placed, at)
    state = _decoded(el, cap, units, cl, plan, values)
    phases.add("restricted_rounds", began, log.stop, state.placed_count(),
               status="" if last is None else last.status)
    return state, last, guide


def _decoded(el: Eligibility, cap: WorkerCapacity, units: list[Unit], cl: Classes, plan: Caseloads,
             values: np.ndarray | None) -> Caseloads:
    """The plan in column ``values``, named, when it places more than ``plan``; else ``plan``."""
    if values is None or placements(cl, values) <= plan.placed_count():
        return plan
    state = Caseloads(el, cap, units)
    decode_columns(cl, values, state)
    return state if state.placed_count() > plan.placed_count() else plan


def _ceiling(lp: Relaxation | None, waiting: int) -> int:
    """A proven bound on placements before any search: the LP relaxation's, rounded down, or the clients waiting."""
    if lp is None or not lp.solved:
        return waiting
    return min(waiting, int(math.floor(lp.objective + 1e-6)))


def _mip_search(el: Eligibility, cap: WorkerCapacity, units: list[Unit], cl: Classes, plan: Caseloads,
                lp: Relaxation, seconds: float, seed: int, threads: int, log: MipSearchLog, phases: _Phases,
                ceiling: int) -> Caseloads:
    """HiGHS over neighbourhoods of workers (`optimizer.mip_search`) from ``plan``, never placing fewer;
    skipped when the columns cannot hold the plan whole. It may use every unit column, and the move
    columns the LP uses or prices near zero, and the plan's (as branch and cut's restriction does)."""
    began = time.monotonic()
    columns = plan_columns(cl, plan)
    if not _expressible(cl, plan, columns):
        phases.add("mip_search", began, "not expressible", plan.placed_count())
        return plan
    c = cl.columns
    allowed = ~c.is_move | (lp.values > 1e-6) | (lp.reduced_cost < SEARCH_MOVE_REDUCED_COST) | (columns > 0)
    values = mip_search(cl, cap, columns, seconds=seconds, threads=threads, seed=seed, allowed=allowed, log=log,
                        ceiling=ceiling)
    for at, placed in log.trace:
        phases.point(placed, at)
    state = _decoded(el, cap, units, cl, plan, values)
    phases.add("mip_search", began, log.stop, state.placed_count())
    return state


def _copy(state: Caseloads, el: Eligibility, cap: WorkerCapacity, units: list[Unit]) -> Caseloads:
    out = _with_moves(el, cap, units, state.move_to)
    for u in np.nonzero(state.unit_worker >= 0)[0]:
        out.place(int(u), int(state.unit_worker[u]))
    return out


def _allowed(cl: Classes) -> dict[int, np.ndarray]:
    """Per unit, the workers the model has columns for."""
    return {u: cl.classes[k].workers for u, k in cl.unit_class().items()}


def _destinations(cl: Classes) -> dict[int, np.ndarray]:
    """Per movable client on their own (the make-room pass moves no family), the workers the model's
    move columns take them to."""
    return {item[0]: mc.workers
            for mc in cl.move_classes for item in mc.items if len(item) == 1}


def _small(el: Eligibility, cap: WorkerCapacity, units: list[Unit], cl: Classes, plan: Caseloads,
           left: Callable[[], float], solver: dict, origin: float, proven: bool = False,
           proven_bound: float | None = None) -> tuple[Caseloads, list[StageResult], dict]:
    """The complete model, moves included, all seven stages from the search's plan (placements held at
    least at its count, so CP-SAT's stage 1 can only add to it and prove its bound). When branch and cut
    has proven the plan's count optimal (``proven``), CP-SAT's stage 1 is skipped: it could add nothing,
    and on the 480-client sample it spent 6 s failing to prove what branch and cut had."""
    am = build_model(cl, cap)
    runner = StageRunner(am, cap, time_limit_s=left(), origin=origin, **solver)
    columns = plan_columns(cl, plan)
    if _expressible(cl, plan, columns):
        runner.require("placements", plan.placed_count())
        if proven:
            runner.results.append(StageResult("placements", "OPTIMAL", plan.placed_count(), proven_bound, 0.0,
                                               "optimal", None, time.monotonic() - origin))
            runner.run(encode(am, columns), only=tuple(n for n in STAGE_SHARE if n != "placements"))
        else:
            runner.run(encode(am, columns))
    else:
        runner.run(None)
    state = Caseloads(el, cap, units)
    if runner.values is None or not any(r.value is not None for r in runner.results):
        return plan, runner.results, {"exact": True, "columns_in_cp_sat": len(am.cols)}
    decode(am, runner, state)
    if state.placed_count() < plan.placed_count():
        state = plan
    return state, runner.results, {"exact": True, "columns_in_cp_sat": len(am.cols)}


def _expressible(cl: Classes, plan: Caseloads, columns: np.ndarray) -> bool:
    """Whether the model's columns hold the plan whole: its placements and its moves."""
    placed = int(columns[~cl.columns.is_move] @ cl.columns.size[~cl.columns.is_move])
    moved = int(columns[cl.columns.is_move] @ cl.columns.size[cl.columns.is_move])
    return placed == plan.placed_count() and moved == len(plan.move_to)


def _large(el: Eligibility, cap: WorkerCapacity, units: list[Unit], cl: Classes, plan: Caseloads,
           lp: Relaxation | None, left: Callable[[], float], solver: dict,
           origin: float) -> tuple[Caseloads, list[StageResult], dict]:
    """The later stages on an LP-guided restriction with tonight's moves fixed (the model sees the loads
    and intake they leave); placements held at the plan's count."""
    c = cl.columns
    moved = dict(plan.move_to)
    fixed = _after_moves(cap, el, moved)
    placed_columns = plan_columns(cl, plan)
    keep = np.nonzero(placed_columns)[0]
    chosen = choose_columns(cl, lp, keep) if lp is not None and lp.solved else keep
    chosen = np.union1d(chosen[~c.is_move[chosen]], keep[~c.is_move[keep]])
    am = build_model(cl, fixed, chosen)
    runner = StageRunner(am, fixed, time_limit_s=left(), origin=origin, **solver)
    runner.require("placements", int(placed_columns[chosen] @ c.size[chosen]))
    runner.run(encode(am, placed_columns), only=tuple(n for n in STAGE_SHARE if n not in ("placements", "moves")))
    state = plan
    if runner.values is not None and any(r.value is not None for r in runner.results):
        final = _with_moves(el, cap, units, moved)
        decode(am, runner, final)
        if final.placed_count() >= plan.placed_count():
            state = final
    results = [StageResult("placements", "FEASIBLE", plan.placed_count(), None, 0.0, "held", None,
                           time.monotonic() - origin), *runner.results]
    return state, results, {"exact": False, "columns_in_cp_sat": len(chosen),
                            "lp_converged": bool(lp is not None and lp.converged)}


def _with_moves(el: Eligibility, cap: WorkerCapacity, units: list[Unit], moved: dict[int, int]) -> Caseloads:
    state = Caseloads(el, cap, units)
    for i, v in sorted(moved.items()):
        state.move(i, v)
    return state


def _after_moves(cap: WorkerCapacity, el: Eligibility, moved: dict[int, int]) -> WorkerCapacity:
    """Capacity figures as they stand once the given moves are made."""
    kept = cap.kept_load.copy()
    allowance = cap.new_allowance.copy()
    for i, v in moved.items():
        old = int(el.current[i])
        high = el.clients[i].need_level == "high"
        kept[old] -= cap.high_weight[old] if high else cap.low_weight[old]
        kept[v] += cap.high_weight[v] if high else cap.low_weight[v]
        allowance[v] -= 1
    return replace(cap, kept_load=kept, new_allowance=allowance)


def _bound(exact: bool, first: StageResult | None, lp: Relaxation | None, mip: BranchAndCut | None, placed: int,
           n_columns: int, waiting: int) -> int | None:
    """Proven upper bound on placements: the smallest of CP-SAT's stage-1 bound on the complete model,
    branch and cut's on the complete model, the LP relaxation's (all proven; any may be the tightest),
    and the number of clients waiting (an LP stopped by its time limit bounds from its last duals, which
    can be far weaker: 91,315 on a 50,000-client agency with 7,500 waiting).

    With no column at all nothing can be placed beyond what the plan holds, so the bound is the plan's
    count.
    """
    if n_columns == 0:
        return placed
    bounds = []
    if exact and first is not None and first.bound is not None:
        bounds.append(int(math.floor(first.bound + 1e-6)))
    if lp is not None and lp.solved:
        bounds.append(int(math.floor(lp.objective + 1e-6)))
    if mip is not None and mip.complete and mip.bound is not None:
        bounds.append(int(math.floor(mip.bound + 1e-6)))
    if bounds:
        bounds.append(waiting)
    return max(placed, min(bounds)) if bounds else None


def _bound_source(exact: bool, lp: Relaxation | None, moves_complete: bool = True) -> str:
    """Where the bound comes from; when some optional moves had no column (a large agency's move classes keep
    their destinations with the most room), it bounds the model, not every plan tonight."""
    caveat = "" if moves_complete else (
        "; over the model's optional moves (each move class keeps its destinations with the most room), so "
        "a plan with other moves could place more")
    if exact:
        return ("CP-SAT's or branch and cut's best bound of the placement stage (complete model), or the LP "
                "relaxation's if smaller" + caveat)
    if lp is not None and lp.solved:
        return "LP relaxation of the model (CP-SAT searched an LP-guided restriction of it)" + caveat
    return "none"
