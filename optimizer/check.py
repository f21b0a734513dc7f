"""An independent checker of a plan against every hard rule, for the tests and the benchmarks.

It shares no code with the optimizer beyond the domain types and `caseload.languages.primary`: each
rule is re-derived here, one client at a time, in plain Python, so a bug in the vectorised
eligibility or in the model cannot hide itself. `violations` returns one readable line per broken
rule (empty list: the plan is valid).

Conventions it checks (the same ones the optimizer documents): areas compare trimmed and
case-insensitively and a client with no area passes; travel is checked only when both sides have
coordinates and the worker has a max_travel_km; a French-capable worker speaks French; a worker whose
input caseload is over target takes no one; new clients tonight (new, moved in, re-placed) count
against max_new_per_week together with active clients whose intake_date falls in the 7 days ending
on as_of; forced moves (the client's worker is no longer eligible) do not count against
max_moves_share, whose budget is what the store's window has left (`Agency.moves_used`). The
coordinator's overrides in force: a forbidden worker never serves the client, a pinned client is served by
the pinned worker or no one, a held waiting client is not placed, a kept active client is not moved.
"""

from __future__ import annotations

import math
from datetime import timedelta

from caseload.domain import Agency, Client, Decision, NeedLevel, OverrideAction, Status, Worker
from caseload.languages import primary
from optimizer.plan import Plan

TOLERANCE = 1e-9


def _distance_km(a_lat: float, a_lon: float, b_lat: float, b_lon: float) -> float:
    r = 6371.0088
    p1, p2 = math.radians(a_lat), math.radians(b_lat)
    dp, dl = p2 - p1, math.radians(b_lon - a_lon)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(min(1.0, max(0.0, h))))


def _speaks(c: Client) -> set[str]:
    out = {primary(x) for x in c.languages}
    if c.french_service:
        out.add("fr")
    return out


def _worker_speaks(w: Worker) -> set[str]:
    out = {primary(x) for x in w.languages}
    if w.french:
        out.add("fr")
    return out


def broken_pair_rules(agency: Agency, c: Client, w: Worker, *, staying: bool) -> list[str]:
    """Names of the per-pair rules client c and worker w break (``staying``: c is kept by w)."""
    broken = []
    if c.french_service and not w.french:
        broken.append("french_service")
    if not _speaks(c) & _worker_speaks(w):
        broken.append("language_shared")
    areas = {a.strip().casefold() for a in w.areas if a.strip()}
    if areas and c.area and c.area.strip() and c.area.strip().casefold() not in areas:
        broken.append("worker_areas")
    if (w.max_travel_km is not None and c.has_location and w.has_location
            and _distance_km(c.latitude, c.longitude, w.latitude, w.longitude) > w.max_travel_km + 1e-9):
        broken.append("max_travel_km")
    if c.worker_gender_preference and w.gender != c.worker_gender_preference:
        broken.append("worker_gender_preference")
    if w.worker_id in c.excluded_workers:
        broken.append("excluded_workers")
    if not w.available and not (staying and agency.policy.keep_on_leave):
        broken.append("unavailable_takes_no_one_new")
    mine = [o for o in agency.live_overrides if o.client_id == c.client_id]
    if any(o.action == OverrideAction.FORBID and o.worker_id == w.worker_id for o in mine):
        broken.append("forbidden_by_coordinator")
    pins = [o.worker_id for o in mine if o.action == OverrideAction.PIN]
    if pins and pins[0] != w.worker_id:
        broken.append("pinned_by_coordinator")
    if c.status == Status.WAITING and any(o.action == OverrideAction.HOLD for o in mine):
        broken.append("held_by_coordinator")
    return broken


def _load(agency: Agency, w: Worker, clients: list[Client]) -> float:
    high_ratio, low_ratio = agency.policy.ratios_for(w)
    return sum(1 / high_ratio if c.need_level == NeedLevel.HIGH else 1 / low_ratio for c in clients)


def violations(agency: Agency, plan: Plan) -> list[str]:
    """Every hard rule the plan breaks, one line each."""
    out: list[str] = []
    workers = {w.worker_id: w for w in agency.workers}
    decided = {c.client_id: c for c in agency.clients if c.status in (Status.WAITING, Status.ACTIVE)}
    seen: dict[str, object] = {}
    for a in plan.assignments:
        if a.client_id in seen:
            out.append(f"{a.client_id}: assigned twice")
        seen[a.client_id] = a
        if a.client_id not in decided:
            out.append(f"{a.client_id}: not a waiting or active client")
    for client_id in decided:
        if client_id not in seen:
            out.append(f"{client_id}: missing from the plan")
    plan_of = {a.client_id: a for a in plan.assignments if a.client_id in decided}

    def forced(c: Client) -> bool:
        w = workers.get(c.worker_id or "")
        return w is None or bool(broken_pair_rules(agency, c, w, staying=True))

    final: dict[str, list[Client]] = {w: [] for w in workers}
    arrivals: dict[str, int] = {w: 0 for w in workers}
    optional_moves = 0
    for client_id, a in plan_of.items():
        c = decided[client_id]
        d = a.decision
        if a.worker_id is not None and a.worker_id not in workers:
            out.append(f"{client_id}: unknown worker {a.worker_id}")
            continue
        if c.status == Status.WAITING and d not in (Decision.NEW, Decision.WAITING):
            out.append(f"{client_id}: waiting client with decision {d}")
        if c.status == Status.ACTIVE:
            if d == Decision.NEW:
                out.append(f"{client_id}: active client with decision new")
            if d == Decision.KEPT and a.worker_id != c.worker_id:
                out.append(f"{client_id}: kept but worker changed")
            if d == Decision.MOVED and a.worker_id == c.worker_id:
                out.append(f"{client_id}: moved to the same worker")
            if d == Decision.WAITING and not forced(c):
                out.append(f"{client_id}: active client left waiting though their worker is still eligible")
            if d == Decision.MOVED and any(o.client_id == client_id and o.action == OverrideAction.KEEP
                                           for o in agency.live_overrides):
                out.append(f"{client_id}: moved though the coordinator keeps them with {c.worker_id}")
            if d == Decision.MOVED and not forced(c):
                optional_moves += 1
        if (d == Decision.WAITING) != (a.worker_id is None):
            out.append(f"{client_id}: decision {d} with worker {a.worker_id}")
        if d in (Decision.WAITING, Decision.MOVED) and not a.reason:
            out.append(f"{client_id}: {d} without a reason")
        if a.worker_id is None:
            continue
        w = workers[a.worker_id]
        final[w.worker_id].append(c)
        if d in (Decision.NEW, Decision.MOVED):
            arrivals[w.worker_id] += 1
        for rule in broken_pair_rules(agency, c, w, staying=d == Decision.KEPT):
            out.append(f"{client_id}: {d} with {w.worker_id} breaks {rule}")
        out.extend(_reported(client_id, c, w, a))

    out.extend(_family_rules(agency, decided, plan_of, forced))
    out.extend(_capacity_rules(agency, workers, final, arrivals))
    n_active = sum(c.status == Status.ACTIVE for c in agency.clients)
    budget = max(0, math.floor(agency.policy.max_moves_share * n_active + 1e-9) - agency.moves_used)
    if optional_moves > budget:
        out.append(f"max_moves_share: {optional_moves} optional moves, at most {budget} allowed")
    return out


def _reported(client_id: str, c: Client, w: Worker, a) -> list[str]:
    """The reported travel_km and language must be true."""
    out = []
    if c.has_location and w.has_location:
        d = _distance_km(c.latitude, c.longitude, w.latitude, w.longitude)
        if a.travel_km is None or abs(a.travel_km - d) > 0.05:
            out.append(f"{client_id}: reported travel_km {a.travel_km} but the distance is {d:.2f}")
    if a.language is None or primary(a.language) not in _speaks(c) & _worker_speaks(w):
        out.append(f"{client_id}: reported language {a.language} is not shared with {w.worker_id}")
    elif c.french_service and primary(a.language) != "fr":
        out.append(f"{client_id}: French-service client reported served in {a.language}")
    return out


def _family_rules(agency: Agency, decided: dict[str, Client], plan_of: dict, forced) -> list[str]:
    """One worker per family (for anyone placed or moved tonight), placed whole or not at all."""
    out = []
    families: dict[str, list[Client]] = {}
    for c in decided.values():
        if c.family_id:
            families.setdefault(c.family_id, []).append(c)
    for family, members in families.items():
        served = {plan_of[c.client_id].worker_id for c in members if plan_of[c.client_id].worker_id}
        changed = [c for c in members if plan_of[c.client_id].decision in (Decision.NEW, Decision.MOVED)]
        if changed and len(served) > 1:
            out.append(f"family {family}: members placed tonight with different workers {sorted(served)}")
        to_place = [c for c in members if c.status == Status.WAITING or forced(c)]
        placed = [c for c in to_place if plan_of[c.client_id].worker_id is not None]
        if placed and len(placed) < len(to_place):
            out.append(f"family {family}: placed in part ({len(placed)} of {len(to_place)} members)")
    return out


def _capacity_rules(agency: Agency, workers: dict[str, Worker], final: dict[str, list[Client]],
                    arrivals: dict[str, int]) -> list[str]:
    """Load within target for every worker taking anyone; no intake over target or over the week's pace."""
    out = []
    current: dict[str, list[Client]] = {w: [] for w in workers}
    for c in agency.clients:
        if c.status == Status.ACTIVE and c.worker_id in current:
            current[c.worker_id].append(c)
    since = agency.as_of - timedelta(days=7)
    for worker_id, w in workers.items():
        if arrivals[worker_id] == 0:
            continue
        load = _load(agency, w, final[worker_id])
        if load > w.fte + TOLERANCE:
            out.append(f"{worker_id}: load {load:.4f} FTE over target {w.fte:g} after taking new clients")
        if _load(agency, w, current[worker_id]) > w.fte + TOLERANCE:
            out.append(f"{worker_id}: was over target and still took {arrivals[worker_id]} new client(s)")
        if w.max_new_per_week is not None:
            recent = sum(1 for c in current[worker_id]
                         if c.intake_date is not None and since < c.intake_date <= agency.as_of)
            if arrivals[worker_id] + recent > w.max_new_per_week:
                out.append(f"{worker_id}: {arrivals[worker_id]} new tonight + {recent} this week "
                           f"> max_new_per_week {w.max_new_per_week}")
    return out
