"""Properties on random small agencies: no rule broken, never fewer placements than the greedy, true reasons.

The rules are checked by `optimizer.check.violations`, written independently of the optimizer; the
reasons by re-deriving, for each waiting client, what its reason claims (no tests depend on time).
"""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings

from caseload.domain import Decision, NeedLevel, Status
from optimizer import assign, greedy_assign
from optimizer.check import broken_pair_rules, violations
from tests.optimizer.strategies import agencies

PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def placements(plan) -> int:
    return plan.summary["placed"] + plan.summary["replaced"]


@PROPERTY
@given(agencies())
def test_plans_break_no_rule_and_beat_the_greedy(agency):
    plan = assign(agency, time_limit_s=5)
    greedy = greedy_assign(agency)
    assert violations(agency, plan) == []
    assert violations(agency, greedy) == []
    assert placements(plan) >= placements(greedy)
    assert plan.summary["placement_bound"] >= placements(plan)
    json.dumps(plan.summary)
    json.dumps(greedy.summary)


def _load(agency, worker, clients) -> float:
    high, low = agency.policy.ratios_for(worker)
    return sum(1 / high if c.need_level == NeedLevel.HIGH else 1 / low for c in clients)


@PROPERTY
@given(agencies())
def test_waiting_reasons_are_true(agency):
    plan = assign(agency, time_limit_s=5)
    decided = {c.client_id: c for c in agency.clients if c.status in (Status.WAITING, Status.ACTIVE)}
    workers = {w.worker_id: w for w in agency.workers}
    final: dict[str, list] = {w: [] for w in workers}
    arrivals = {w: 0 for w in workers}
    for a in plan.assignments:
        if a.worker_id:
            final[a.worker_id].append(decided[a.client_id])
            arrivals[a.worker_id] += a.decision in (Decision.NEW, Decision.MOVED)
    current = {w: [c for c in agency.clients if c.status == Status.ACTIVE and c.worker_id == w] for w in workers}
    for a in plan.assignments:
        if a.decision != Decision.WAITING:
            continue
        c = decided[a.client_id]
        reason = a.reason.split("; ", 1)[-1]  # a forced mover's reason starts with why they left
        assert reason
        eligible = [w for w in agency.workers if not broken_pair_rules(agency, c, w, staying=False)]
        if reason.startswith(("no ", "the only worker ", "all ")) and "eligible" not in reason:
            assert eligible == [], (reason, [w.worker_id for w in eligible])
        single = not c.family_id
        if single and ("eligible workers are at target" in reason or "eligible worker, " in reason
                       or "eligible workers have reached" in reason):
            # every eligible worker truly cannot take this (single) client tonight
            assert len(eligible) >= 1
            for w in eligible:
                high, low = agency.policy.ratios_for(w)
                extra = 1 / high if c.need_level == NeedLevel.HIGH else 1 / low
                full = _load(agency, w, final[w.worker_id]) + extra > w.fte + 1e-9
                over = _load(agency, w, current[w.worker_id]) > w.fte + 1e-9
                recent = sum(1 for x in current[w.worker_id] if x.intake_date and
                             (agency.as_of - x.intake_date).days < 7)
                paced = w.max_new_per_week is not None and arrivals[w.worker_id] + recent + 1 > w.max_new_per_week
                assert full or over or paced, (a.client_id, reason, w.worker_id)


@PROPERTY
@given(agencies(max_clients=10, max_workers=3))
def test_same_seed_same_plan(agency):
    first = assign(agency, time_limit_s=5, seed=3)
    second = assign(agency, time_limit_s=5, seed=3)
    assert first.assignments == second.assignments


@PROPERTY
@given(agencies())
def test_move_reasons_are_true(agency):
    plan = assign(agency, time_limit_s=5)
    status = {c.client_id: c.status for c in agency.clients}
    current = {c.client_id: c.worker_id for c in agency.clients}
    new_at: dict[str, int] = {}
    for a in plan.assignments:
        if a.decision == Decision.NEW:
            new_at[a.worker_id] = new_at.get(a.worker_id, 0) + 1
    for a in plan.assignments:
        if a.decision != Decision.MOVED:
            continue
        assert status[a.client_id] == Status.ACTIVE
        old = current[a.client_id]
        assert a.reason.startswith(f"worker {old} ") or a.reason.startswith(f"moved from {old} to {a.worker_id}")
        if a.reason.endswith("to make room for a waiting client"):
            assert new_at.get(old, 0) >= 1
