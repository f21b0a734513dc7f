"""The coordinator's spreadsheet, as a baseline: first eligible worker with room, in referral order.

Forced movers (active clients whose worker is no longer eligible) are taken first, then waiting
clients by referral date; each unit (a client, or a family placed whole) goes to the first worker in
the workers file who is eligible and has room and weekly intake left. No optional moves. It obeys every
hard rule, so it is also the model's starting hint and a floor the optimizer never falls below.
"""

from __future__ import annotations

import time

from caseload.domain import Agency
from optimizer.caseloads import Caseloads
from optimizer.eligibility import Eligibility, WorkerCapacity, compute_eligibility, worker_capacity
from optimizer.plan import Plan, make_plan
from optimizer.units import Unit, referral_order, rule_family_one_worker


def greedy_fill(el: Eligibility, cap: WorkerCapacity, units: list[Unit]) -> Caseloads:
    """Place units in referral order with the first eligible worker that fits."""
    state = Caseloads(el, cap, units)
    for u in referral_order(units):
        for j in units[u].eligible:
            if state.fits(u, int(j)):
                state.place(u, int(j))
                break
    return state


def greedy_assign(agency: Agency) -> Plan:
    """First eligible worker with room, in referral order; same Plan (and reasons) as `assign`."""
    start = time.monotonic()
    el = compute_eligibility(agency)
    cap = worker_capacity(agency, el)
    units = rule_family_one_worker(agency, el)
    state = greedy_fill(el, cap, units)
    extra = {"status": "GREEDY", "placement_bound": None, "seed": None, "time_limit_s": None}
    plan = make_plan(agency, state, extra, gains={})
    plan.summary["wall_time_s"] = round(time.monotonic() - start, 3)
    return plan
