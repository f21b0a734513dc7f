"""A tiny stand-in for `optimizer.assign`, for the store's tests only (monkeypatched in, never shipped).

The store's promises (one transaction, one writer, nothing changes on unchanged input) do not depend on
how good the plan is, so the tests use this greedy, deterministic placement instead of CP-SAT: it keeps
every active client, then places waiting clients (urgent and long-waiting first) with the least-loaded
worker who shares a language, serves French when asked, is available and not excluded, and has room.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from caseload.domain import Agency, Assignment, Client, Decision, NeedLevel, Status
from caseload.languages import primary


@dataclass
class StandinPlan:
    assignments: list[Assignment]
    summary: dict[str, Any] = field(default_factory=dict)


def _weight(client: Client, high: float, low: float) -> float:
    return 1 / high if client.need_level == NeedLevel.HIGH else 1 / low


def standin_assign(agency: Agency, *, time_limit_s: float | None = None, seed: int = 0, num_workers: int = 2,
                   progress=None, start_from=None) -> StandinPlan:  # noqa: ANN001 - the optimizer's signature
    policy = agency.policy
    workers = {w.worker_id: w for w in agency.workers}
    load = {w.worker_id: 0.0 for w in agency.workers}
    out: list[Assignment] = []
    for client in agency.clients:
        if client.status == Status.ACTIVE and client.worker_id in workers:
            high, low = policy.ratios_for(workers[client.worker_id])
            load[client.worker_id] += _weight(client, high, low)
            out.append(Assignment(client.client_id, client.worker_id, Decision.KEPT, "",
                                  None, client.languages[0] if client.languages else None))
    waiting = sorted(agency.waiting, key=lambda c: (-c.priority, c.referral_date or agency.as_of, c.client_id))
    reasons: dict[str, int] = {}
    for client in waiting:
        options = []
        for w in agency.workers:
            shared = [lang for lang in client.languages if primary(lang) in {primary(x) for x in w.languages}]
            high, low = policy.ratios_for(w)
            if (not w.available or not shared or w.worker_id in client.excluded_workers
                    or (client.french_service and not w.french)
                    or load[w.worker_id] + _weight(client, high, low) > w.fte + 1e-9):
                continue
            options.append((load[w.worker_id] / w.fte, w.worker_id, shared[0], high, low))
        if not options:
            reason = "no worker with capacity who speaks the client's language"
            reasons[reason] = reasons.get(reason, 0) + 1
            out.append(Assignment(client.client_id, None, Decision.WAITING, reason))
            continue
        _, worker_id, language, high, low = min(options)
        load[worker_id] += _weight(client, high, low)
        out.append(Assignment(client.client_id, worker_id, Decision.NEW, "", None, language))
        if progress:
            progress(f"placed {client.client_id}")
    placed = sum(a.decision == Decision.NEW for a in out)
    summary = {"status": "FEASIBLE", "placed": placed, "waiting": sum(a.decision == Decision.WAITING for a in out),
               "kept": sum(a.decision == Decision.KEPT for a in out), "moved": 0, "waiting_by_reason": reasons,
               "objective": {"placed": placed}}
    return StandinPlan(sorted(out, key=lambda a: a.client_id), summary)
