"""`assign`: tonight's plan from the CP-SAT model, with a proven bound on placements.

Pipeline: eligibility (vectorised per-pair rules) -> units (families whole) -> the greedy plan (hint and
floor) -> classes of interchangeable units and the model's columns -> CP-SAT stages -> counts decoded
into named clients -> polishing -> assignments with reasons and the summary.

Two paths, by the size of the complete model (its number of columns):

- small (at most EXACT_COLUMNS): CP-SAT gets the complete model, optional moves included, and runs the
  seven lexicographic stages (`optimizer.stages`). The placement bound is CP-SAT's stage-1 best bound.
- large: HiGHS solves the LP relaxation of the complete model (moves included); its optimum, rounded
  down, is the placement bound. CP-SAT then runs stage 1 on an LP-guided restriction without move
  variables (`optimizer.lp`), from an LP-diving start, as one CP-SAT model or, when even the
  restriction is large, neighbourhood by neighbourhood (`optimizer.neighbourhoods`);
  `optimizer.moves.make_room` adds placements by optional moves; and the
  later stages run on the same restriction with those moves fixed (so the "moves" stage is the
  make-room pass, which uses the fewest moves per placed unit).

Both paths end with the polishing passes (`optimizer.polish`, `optimizer.moves`), which only add
placements or undo moves that made room nobody used, and with the greedy floor: a plan never places
fewer clients than `greedy_assign`.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from caseload.domain import Agency
from optimizer.caseloads import Caseloads
from optimizer.classes import Classes, build_classes, tier_weights
from optimizer.decode import decode, encode, plan_columns
from optimizer.eligibility import Eligibility, WorkerCapacity, compute_eligibility, worker_capacity
from optimizer.greedy import greedy_fill
from optimizer.lp import Relaxation, choose_columns, dive, lp_relaxation
from optimizer.model import build_model
from optimizer.moves import make_room
from optimizer.neighbourhoods import improve
from optimizer.plan import Plan, make_plan
from optimizer.polish import fill, undo_idle_moves, undo_unneeded_moves
from optimizer.stages import STAGE_SHARE, StageResult, StageRunner
from optimizer.units import Unit, ranked, rule_family_one_worker

__all__ = ["Plan", "assign"]

log = logging.getLogger("caseload.optimizer")
DECODE_RESERVE = 0.08  # share of the time budget kept for decoding and writing reasons, plus
RESERVE_PER_CLIENT_S = 1.5e-4  # this per client (measured ~8 s to name and explain 50,000 clients)
LP_SHARE = 0.2          # each LP relaxation may take at most this share of the time left
DIVE_ROUNDS = 8          # LP diving rounds for the first stage's starting plan (measured: 2,675 placements
                         # after 8 rounds vs 2,593 rounding once, 50,000 clients; under a second)
FIRST_STAGE_SHARE = 0.6  # on a large agency, placements (the first stage) get this share of the time left
WHOLE_FIRST_STAGE_COLUMNS = 8000  # above this, stage 1 is region by region (`optimizer.neighbourhoods`)
EXACT_COLUMNS = 2500  # up to this many columns CP-SAT gets the complete model (and proves its own bound)


def assign(agency: Agency, *, time_limit_s: float | None = None, seed: int = 0, num_workers: int = 2,
           progress: Callable[[str], None] | None = None) -> Plan:
    """Place waiting clients with workers tonight (see the package docstring for the objective)."""
    start = time.monotonic()
    budget = agency.policy.time_limit_s if time_limit_s is None else time_limit_s
    say = progress or (lambda _message: None)

    say("checking eligibility")
    el = compute_eligibility(agency)
    cap = worker_capacity(agency, el)
    units = rule_family_one_worker(agency, el)
    order = ranked(units)
    greedy = greedy_fill(el, cap, units)

    say("building the model")
    cl = build_classes(agency, el, cap, units, order)

    reserve = budget * DECODE_RESERVE + RESERVE_PER_CLIENT_S * el.n_clients

    def left() -> float:
        return max(0.5, budget - reserve - (time.monotonic() - start))

    solver = {"seed": seed, "num_workers": num_workers, "progress": say}
    if len(cl.columns) <= EXACT_COLUMNS:
        state, results, model_info = _small(el, cap, units, cl, greedy, left, solver)
        lp = lp_relaxation(cl, cap, time_limit_s=max(1.0, left())) if len(cl.columns) else None
    else:
        say("solving the LP relaxation")
        guide = lp_relaxation(cl, cap, moves=False, time_limit_s=left() * LP_SHARE)
        state, results, model_info, lp = _large(el, cap, units, order, cl, greedy, guide, left, solver)

    say("naming clients")
    undo_idle_moves(state)
    undo_unneeded_moves(state)
    filled = fill(state, order)
    filled += make_room(state, order, cl.move_budget, _allowed(cl))
    filled += fill(state, order)
    note = None
    if state.placed_count() < greedy.placed_count():
        note = "the solver's plan placed fewer clients than the greedy one: the greedy plan is used"
        state = greedy
        fill(state, order)
    first = results[0] if results else None
    weights = tier_weights(units)
    gains = {u: unit.size * weights[unit.tier] + unit.days for u, unit in enumerate(units)}
    exact = model_info["exact"]
    extra = {
        "status": first.status if first is not None else "OPTIMAL",
        "placement_bound": _bound(exact, first, lp, state.placed_count()),
        "bound_source": _bound_source(exact, lp),
        "seed": seed,
        "time_limit_s": budget,
        "num_workers": num_workers,
        "stages": [r.as_dict() for r in results],
        "model": {"units": len(units), "classes": len(cl.classes), "move_classes": len(cl.move_classes),
                  "columns": len(cl.columns), "move_budget": cl.move_budget,
                  "lp_relaxation": None if lp is None else round(lp.objective, 3),
                  "placed_after_solve": filled, **model_info},
    }
    if note:
        extra["note"] = note
    plan = make_plan(agency, state, extra, gains)
    plan.summary["wall_time_s"] = round(time.monotonic() - start, 3)
    return plan


def _allowed(cl: Classes) -> dict[int, np.ndarray]:
    """Per unit, the workers the model has columns for."""
    return {u: cls.workers for cls in cl.classes for u in cls.units}


def _small(el: Eligibility, cap: WorkerCapacity, units: list[Unit], cl: Classes, greedy: Caseloads,
           left: Callable[[], float], solver: dict) -> tuple[Caseloads, list[StageResult], dict]:
    """The complete model, moves included, all seven stages."""
    am = build_model(cl, cap)
    runner = StageRunner(am, cap, time_limit_s=left(), **solver)
    runner.run(encode(am, plan_columns(cl, greedy)))
    state = Caseloads(el, cap, units)
    if runner.values is not None:
        decode(am, runner, state)
    return state, runner.results, {"exact": True, "columns_in_cp_sat": len(am.cols)}


def _large(el: Eligibility, cap: WorkerCapacity, units: list[Unit], order: list[int], cl: Classes,
           greedy: Caseloads, guide: Relaxation, left: Callable[[], float],
           solver: dict) -> tuple[Caseloads, list[StageResult], dict, Relaxation]:
    """The large-agency path (see the module docstring).

    ``guide`` is the LP relaxation without moves: the first-stage model has no move variables, and
    columns chosen from a relaxation that may move clients point at the wrong workers (measured:
    restricted model's own bound 542 instead of 554 on a 6,000-client agency). The relaxation with
    moves gives the proven bound and a second starting plan: LP diving from each relaxation (then the
    make-room pass) gives two plans, the better one (its moves fixed) starts the first stage.
    """
    c = cl.columns
    say = solver["progress"]
    allowed = _allowed(cl)
    keep = np.nonzero(plan_columns(cl, greedy))[0]
    chosen = choose_columns(cl, guide, keep) if guide.solved else keep
    chosen = chosen[~c.is_move[chosen]]
    say("bounding placements (LP relaxation with moves)")
    lp = guide
    if guide.solved:
        start_columns = np.unique(np.concatenate([np.nonzero(guide.values > 1e-6)[0], chosen]))
        lp = lp_relaxation(cl, cap, start=start_columns, time_limit_s=left() * LP_SHARE)

    say("rounding the LP relaxations")
    start = greedy
    for relaxation in (guide, lp):
        if not relaxation.solved:
            continue
        plan = Caseloads(el, cap, units)
        dive(cl, cap, plan, relaxation, order, rounds=DIVE_ROUNDS,
             deadline=time.monotonic() + left() * LP_SHARE, fill=fill)
        make_room(plan, order, cl.move_budget, allowed)
        undo_idle_moves(plan)
        undo_unneeded_moves(plan)
        fill(plan, order)
        if plan.placed_count() > start.placed_count():
            start = plan

    # the first stage without move variables: the start's moves are fixed, CP-SAT places units
    moved = dict(start.move_to)
    fixed = _after_moves(cap, el, moved)
    start_columns = plan_columns(cl, start)
    chosen = np.union1d(chosen, np.nonzero(start_columns)[0])
    stage_start = time.monotonic()
    if len(chosen) <= WHOLE_FIRST_STAGE_COLUMNS:
        am = build_model(cl, fixed, chosen)
        runner = StageRunner(am, fixed, time_limit_s=left() * FIRST_STAGE_SHARE, **solver)
        runner.run(encode(am, start_columns), only=("placements",))
        state = _with_moves(el, cap, units, moved)
        if runner.values is not None:
            decode(am, runner, state)
        results = list(runner.results)
    else:
        say("stage 1: placements, region by region")
        state = _with_moves(el, cap, units, moved)
        for u in np.nonzero(start.unit_worker >= 0)[0]:
            state.place(int(u), int(start.unit_worker[u]))
        improve(state, cl, chosen, deadline=time.monotonic() + left() * FIRST_STAGE_SHARE, seed=solver["seed"],
                num_workers=solver["num_workers"], fixed=fixed)
        results = [StageResult("placements", "FEASIBLE", state.placed_count(), None,
                               time.monotonic() - stage_start)]
    fill(state, order)
    if state.placed_count() < start.placed_count():
        state = start
    make_room(state, order, cl.move_budget, allowed)
    undo_idle_moves(state)
    undo_unneeded_moves(state)
    fill(state, order)

    # later stages with tonight's moves fixed: the model sees the loads and intake they leave
    moved = dict(state.move_to)
    fixed = _after_moves(cap, el, moved)
    placed_columns = plan_columns(cl, state)
    chosen = np.union1d(chosen, np.nonzero(placed_columns)[0])
    am2 = build_model(cl, fixed, chosen)
    runner2 = StageRunner(am2, fixed, time_limit_s=left(), **solver)
    runner2.require("placements", int(placed_columns[chosen] @ c.size[chosen]))
    runner2.run(encode(am2, placed_columns), only=tuple(n for n in STAGE_SHARE if n not in ("placements", "moves")))
    results.extend(runner2.results)
    if runner2.values is not None and any(r.value is not None for r in runner2.results):
        final = _with_moves(el, cap, units, moved)
        decode(am2, runner2, final)
        state = final
    return state, results, {"exact": False, "columns_in_cp_sat": len(chosen),
                            "lp_converged": lp.converged}, lp


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


def _bound(exact: bool, first: StageResult | None, lp: Relaxation | None, placed: int) -> int | None:
    """Proven upper bound on placements: the smaller of CP-SAT's stage-1 bound on the complete model and
    the LP relaxation's (both proven; either may be the tighter one).

    When the complete model's placement objective is constant (no column at all) nothing can be
    placed beyond what the plan holds, so the bound is the plan's count.
    """
    bounds = []
    if exact:
        if first is None or first.name != "placements":
            return placed
        if first.bound is not None:
            bounds.append(int(math.floor(first.bound + 1e-6)))
    if lp is not None and lp.solved:
        bounds.append(int(math.floor(lp.objective + 1e-6)))
    return min(bounds) if bounds else None


def _bound_source(exact: bool, lp: Relaxation | None) -> str:
    if exact:
        return "CP-SAT best bound of the placement stage (complete model), or the LP relaxation's if smaller"
    if lp is not None and lp.solved:
        return "LP relaxation of the complete model (CP-SAT searched an LP-guided restriction of it)"
    return "none"
