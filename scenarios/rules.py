"""The hard matching rules, written out plainly and independently of the optimizer.

The generator uses them to build an active caseload that a real agency could have, the tests use them to
check that caseload, and the reference MIP (benchmarks/reference_mip.py) uses them to build its own model,
so that the benchmark compares the optimizer against a second, separately written reading of the data
contract rather than against its own eligibility code.

A worker may serve a client when they share a language (compared by primary subtag, `fa-AF` ~ `fa`), the
worker is French-capable if the client chose French services, the client's area is among the worker's
areas (if the worker lists any), the client's home is within the worker's max_travel_km of the office
(when both have coordinates), the worker's gender matches the client's preference, and the client has not
excluded the worker. New clients go only to available workers. A worker's caseload is weighted against
its targets: `high / high_ratio + low / low_ratio <= fte`.
"""

from __future__ import annotations

import math

from caseload.domain import Client, NeedLevel, Policy, Worker
from caseload.languages import primary

EARTH_RADIUS_KM = 6371.0088
EPS = 1e-9


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance, the contract's default `travel: haversine`."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def travel_km(client: Client, worker: Worker) -> float | None:
    """Home-to-office distance, or None when either side has no coordinates."""
    if not (client.has_location and worker.has_location):
        return None
    return haversine_km(client.latitude, client.longitude, worker.latitude, worker.longitude)  # type: ignore[arg-type]


def shared_languages(client: Client, worker: Worker) -> list[str]:
    """The client's languages (in their order of preference) that the worker also speaks."""
    spoken = {primary(code) for code in worker.languages}
    return [code for code in client.languages if primary(code) in spoken]


def rule_broken(client: Client, worker: Worker) -> str | None:
    """The first hard rule that stops this worker from serving this client (availability aside), or None."""
    if worker.worker_id in client.excluded_workers:
        return "excluded by the client"
    if client.french_service and not worker.french:
        return "client chose French services; worker is not French-capable"
    if not shared_languages(client, worker):
        return "no shared language"
    if worker.areas and (client.area is None or client.area.upper() not in {a.upper() for a in worker.areas}):
        return "client's area is outside the worker's areas"
    if worker.max_travel_km is not None:
        km = travel_km(client, worker)
        if km is not None and km > worker.max_travel_km + EPS:
            return "client lives beyond the worker's max_travel_km"
    if client.worker_gender_preference and worker.gender != client.worker_gender_preference:
        return "worker's gender does not match the client's preference"
    return None


def can_serve(client: Client, worker: Worker) -> bool:
    """True when no hard rule (other than availability and capacity) stops the match."""
    return rule_broken(client, worker) is None


def load_of(client: Client, worker: Worker, policy: Policy) -> float:
    """The share of one FTE this client takes in this worker's caseload (1/15 high, 1/50 low by default)."""
    high, low = policy.ratios_for(worker)
    return 1.0 / high if client.need_level == NeedLevel.HIGH else 1.0 / low


def integer_weights(worker: Worker, policy: Policy) -> tuple[int, int, int] | None:
    """(high weight, low weight, capacity) as integers when the targets and FTE allow it exactly.

    `h/15 + l/50 <= fte` is the same as `50h + 15l <= 750 fte`; exact integers keep the reference MIP
    free of rounding doubts at a worker's last free place. None when the numbers are not whole.
    """
    high, low = policy.ratios_for(worker)
    if not (float(high).is_integer() and float(low).is_integer()):
        return None
    cap = worker.fte * high * low
    if abs(cap - round(cap)) > 1e-9:
        return None
    return int(low), int(high), int(round(cap))
