"""`assign`: tonight's plan from the CP-SAT model, with a proven bound on placements.

Pipeline: eligibility (vectorised per-pair rules) -> units (families whole) -> the greedy plan (hint
and floor) -> classes of interchangeable units and the CP-SAT model -> seven lexicographic stages ->
counts decoded into named clients -> polishing (idle moves undone, anything that still fits placed) ->
assignments with reasons and the summary.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from caseload.domain import Agency
from optimizer.caseloads import Caseloads
from optimizer.decode import decode, encode
from optimizer.eligibility import compute_eligibility, worker_capacity
from optimizer.greedy import greedy_fill
from optimizer.model import build_model, tier_weights
from optimizer.plan import Plan, make_plan
from optimizer.polish import fill, undo_idle_moves
from optimizer.stages import StageRunner
from optimizer.units import ranked, rule_family_one_worker

__all__ = ["Plan", "assign"]

log = logging.getLogger("caseload.optimizer")
DECODE_RESERVE = 0.1  # share of the time budget kept for decoding and writing reasons


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
    am = build_model(agency, el, cap, units, order)
    n_vars = len(am.model.proto.variables)
    log.info("model: %d units in %d classes, %d move classes, %d variables",
             len(units), len(am.classes), len(am.move_classes), n_vars)
    elapsed = time.monotonic() - start
    runner = StageRunner(am, cap, seed=seed, num_workers=num_workers,
                         time_limit_s=max(0.5, (budget - elapsed) * (1 - DECODE_RESERVE)), progress=say)
    runner.run(encode(am, greedy))

    say("naming clients")
    state = Caseloads(el, cap, units)
    if runner.values is not None:
        decode(am, runner, state)
    undo_idle_moves(state)
    filled = fill(state, order)
    note = None
    if state.placed_count() < greedy.placed_count():
        note = "the solver's plan placed fewer clients than the greedy one: the greedy plan is used"
        state = greedy
        fill(state, order)
    first = runner.results[0] if runner.results else None
    weights = tier_weights(units)
    gains = {u: unit.size * weights[unit.tier] + unit.days for u, unit in enumerate(units)}
    extra = {
        "status": first.status if first and first.name == "placements" else ("OPTIMAL" if not units else "UNKNOWN"),
        "placement_bound": _bound(first, state.placed_count()),
        "seed": seed,
        "time_limit_s": budget,
        "num_workers": num_workers,
        "stages": [r.as_dict() for r in runner.results],
        "model": {"units": len(units), "classes": len(am.classes), "move_classes": len(am.move_classes),
                  "variables": n_vars, "move_budget": am.move_budget, "filled_after_solve": filled},
    }
    if note:
        extra["note"] = note
    plan = make_plan(agency, state, extra, gains)
    plan.summary["wall_time_s"] = round(time.monotonic() - start, 3)
    return plan


def _bound(first, placed: int) -> int:
    """Stage 1's best bound on placements (an integer), never below what the plan achieves."""
    if first is None or first.name != "placements" or first.bound is None:
        return placed
    return max(placed, int(first.bound + 1e-6))
