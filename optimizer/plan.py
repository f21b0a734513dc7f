"""The run's result: one assignment per waiting/active client, with reasons, and the summary.

`Plan` is what `assign` and `greedy_assign` both return, built by `make_plan` from the final
caseloads, so the two are reported the same way and checked by the same checker.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from caseload.domain import Agency, Assignment, Decision, NeedLevel, Status
from optimizer.caseloads import Caseloads
from optimizer.explain import forced_reason, moved_reason, reason_group, waiting_reason


@dataclass(slots=True)
class Plan:
    """Assignments (agency order; graduated/exited clients are not in it) and a JSON-ready summary."""

    assignments: list[Assignment]
    summary: dict[str, Any] = field(default_factory=dict)


def _served(state: Caseloads, i: int, j: int, decision: Decision, reason: str = "") -> Assignment:
    el = state.el
    slot = el.pair_slot(i, j)
    travel = None if slot < 0 or math.isnan(el.travel_km[slot]) else round(float(el.travel_km[slot]), 2)
    return Assignment(el.clients[i].client_id, el.workers[j].worker_id, decision, reason, travel,
                      el.language_of(slot) if slot >= 0 else None)


def assignments_of(state: Caseloads) -> list[Assignment]:
    """One assignment per waiting/active client, in agency order, with a true reason where one is due."""
    el = state.el
    unit_of = {i: u for u, unit in enumerate(state.units) for i in unit.members}
    out = []
    for i, c in enumerate(el.clients):
        u = unit_of.get(i)
        if u is not None:  # a waiting client or a forced mover
            j = int(state.unit_worker[u])
            if j >= 0:
                if c.status == Status.ACTIVE:
                    out.append(_served(state, i, j, Decision.MOVED, moved_reason(state, i, j)))
                else:
                    out.append(_served(state, i, j, Decision.NEW))
            else:
                reason = waiting_reason(state, u, i)
                if c.status == Status.ACTIVE:
                    reason = f"{forced_reason(el, i)}; {reason}"
                out.append(Assignment(c.client_id, None, Decision.WAITING, reason))
        elif i in state.move_to:
            j = state.move_to[i]
            out.append(_served(state, i, j, Decision.MOVED, moved_reason(state, i, j)))
        else:
            out.append(_served(state, i, int(el.current[i]), Decision.KEPT))
    return out


def worker_rows(agency: Agency, state: Caseloads, assignments: list[Assignment]) -> list[dict[str, Any]]:
    """Caseload per worker after the run against its target (FTE), from the assignments themselves."""
    el = state.el
    high = np.zeros(el.n_workers, dtype=np.int64)
    low = np.zeros(el.n_workers, dtype=np.int64)
    for a, c in zip(assignments, el.clients, strict=True):
        if a.worker_id is not None:
            j = el.worker_index[a.worker_id]
            if c.need_level == NeedLevel.HIGH:
                high[j] += 1
            else:
                low[j] += 1
    rows = []
    for j, w in enumerate(el.workers):
        high_ratio, low_ratio = agency.policy.ratios_for(w)
        load = high[j] / high_ratio + low[j] / low_ratio
        rows.append({
            "worker_id": w.worker_id, "fte": w.fte, "high": int(high[j]), "low": int(low[j]),
            "load": round(load, 4), "target": w.fte, "utilisation": round(load / w.fte, 4),
            "over_target": bool(load > w.fte + 1e-9), "available": w.available,
            "new": int(state.new[j]),
        })
    return rows


def objective_parts(state: Caseloads, assignments: list[Assignment], gains: dict[int, int],
                    workers: list[dict[str, Any]]) -> dict[str, Any]:
    """Each part of the objective for the final plan, in order of importance."""
    el = state.el
    placed_units = np.nonzero(state.unit_worker >= 0)[0]
    preferred = needs = 0
    travel = 0.0
    for i, a in enumerate(assignments):
        if a.worker_id is None:
            continue
        slot = el.pair_slot(i, el.worker_index[a.worker_id])
        if slot < 0:
            continue
        preferred += bool(el.preferred[slot])
        needs += int(el.needs_matched[slot])
        if not math.isnan(el.travel_km[slot]):
            travel += float(el.travel_km[slot])
    utils = [w["utilisation"] for w in workers if w["available"]]
    mean = sum(utils) / len(utils) if utils else 0.0
    return {
        "placements": state.placed_count(),
        "weighted_placements": int(sum(gains.get(int(u), 0) for u in placed_units)),
        "moves": len(state.move_to),
        "preferred_language_matches": preferred,
        "specialised_needs_matched": needs,
        "travel_km": round(travel, 1),
        "load_spread": round(float(sum(abs(x - mean) for x in utils) / len(utils)), 4) if utils else 0.0,
    }


def make_plan(agency: Agency, state: Caseloads, extra: dict[str, Any], gains: dict[int, int]) -> Plan:
    """The Plan for the final caseloads: assignments with reasons and the summary the CLI prints."""
    assignments = assignments_of(state)
    el = state.el
    waiting_units = [u for u in range(len(state.units)) if state.unit_worker[u] < 0]
    placed = sum(a.decision == Decision.NEW for a in assignments)
    replaced = sum(1 for u, unit in enumerate(state.units) if state.unit_worker[u] >= 0
                   for i in unit.members if el.clients[i].status == Status.ACTIVE)
    waiting = [a for a in assignments if a.decision == Decision.WAITING]
    by_reason: dict[str, int] = {}
    for a in waiting:  # by rule: counts and ids are in each client's own reason in assignments.csv
        group = reason_group(a.reason or "")
        by_reason[group] = by_reason.get(group, 0) + 1
    workers = worker_rows(agency, state, assignments)
    bound = extra.pop("placement_bound", None)
    placements = placed + replaced
    if bound is not None:
        bound = max(int(bound), placements)
    summary: dict[str, Any] = {
        "status": extra.pop("status"),
        "placed": placed,
        "replaced": replaced,
        "waiting": len(waiting),
        "waiting_by_reason": dict(sorted(by_reason.items(), key=lambda kv: (-kv[1], kv[0]))),
        "kept": sum(a.decision == Decision.KEPT for a in assignments),
        "moved": sum(a.decision == Decision.MOVED for a in assignments),
        "forced_moves": int(sum(el.forced)),
        "optional_moves": sum(a.decision == Decision.MOVED and not el.forced[el.client_index[a.client_id]]
                              for a in assignments),
        "moves_used_before": agency.moves_used,
        "new": placed,
        "placement_bound": bound,
        "placement_gap": (None if bound is None else round((bound - placements) / bound, 6) if bound else 0.0),
        "objective": objective_parts(state, assignments, gains, workers),
        "workers": workers,
        "policy_deviations": agency.policy.deviations(),
        "waiting_units": len(waiting_units),
    }
    summary.update(extra)
    return Plan(assignments=assignments, summary=summary)
