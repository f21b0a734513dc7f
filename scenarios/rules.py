"""The hard matching rules, written out plainly and independently of the optimizer.

The generator uses them to build an active caseload that a real agency could have, the tests use them to
check that caseload, and the reference MIP (benchmarks/reference_mip.py) uses them to build its own model,
so that the benchmark compares the optimizer against a second, separately written reading of the data
contract rather than against its own eligibility code.

A worker may serve a client when they share a language (compared by primary subtag, `fa-AF` ~ `fa`; a
French-capable worker speaks French), the worker is French-capable if the client chose French services
(who are then served in French), the client's area is among the worker's areas (if the worker lists any
and the client has an area), the client's home is within the worker's max_travel_km of the office (when
both have coordinates), the worker has the gender the client asked for, and the client has not excluded
the worker. New clients go only to available workers. A worker's caseload is weighted against its
targets: `high / high_ratio + low / low_ratio <= fte`. Where the contract leaves a case open (no area, no
coordinates) these rules let the pair through, as the optimizer documents it does.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

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
    """The languages the pair can use, the client's preferred first (only French for French services)."""
    spoken = {primary(code) for code in worker.languages} | ({"fr"} if worker.french else set())
    if client.french_service:
        return ["fr"] if "fr" in spoken else []
    return [code for code in client.languages if primary(code) in spoken]


def rule_broken(client: Client, worker: Worker) -> str | None:
    """The first hard rule that stops this worker from serving this client (availability aside), or None."""
    if worker.worker_id in client.excluded_workers:
        return "excluded by the client"
    if client.french_service and not worker.french:
        return "client chose French services; worker is not French-capable"
    if not shared_languages(client, worker):
        return "no shared language"
    area = (client.area or "").strip().casefold()
    if worker.areas and area and area not in {a.strip().casefold() for a in worker.areas}:
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


def eligible_workers(clients: Sequence[Client], workers: Sequence[Worker], chunk: int = 2048) -> list[np.ndarray]:
    """For each client, the indices of the workers `can_serve` allows, computed with numpy in blocks.

    The same rules as `rule_broken`, vectorised so that 50,000 clients by 1,000 workers takes seconds; the
    tests check the two agree pair by pair.
    """
    n_workers = len(workers)
    if not clients:
        return []
    worker_langs = [{primary(code) for code in w.languages} | ({"fr"} if w.french else set()) for w in workers]
    french = np.array([w.french for w in workers], dtype=bool)

    def usable(client: Client) -> tuple[str, ...]:
        return ("fr",) if client.french_service else tuple(sorted({primary(code) for code in client.languages}))

    profiles: dict[tuple[str, ...], int] = {}
    client_profile = np.array([profiles.setdefault(usable(c), len(profiles)) for c in clients], dtype=np.int64)
    speaks = np.zeros((len(profiles), n_workers), dtype=bool)
    for profile, p in profiles.items():
        speaks[p] = [bool(set(profile) & langs) for langs in worker_langs]

    worker_areas = [{a.strip().casefold() for a in w.areas} for w in workers]
    areas: dict[str, int] = {"": 0}
    client_area = np.array([areas.setdefault((c.area or "").strip().casefold(), len(areas)) for c in clients])
    area_ok = np.ones((len(areas), n_workers), dtype=bool)
    for key, a in areas.items():
        if key:
            area_ok[a] = [not wa or key in wa for wa in worker_areas]

    w_lat = np.array([w.latitude if w.has_location else np.nan for w in workers], dtype=float)
    w_lon = np.array([w.longitude if w.has_location else np.nan for w in workers], dtype=float)
    w_limit = np.array([np.inf if w.max_travel_km is None else w.max_travel_km for w in workers], dtype=float)
    c_lat = np.array([c.latitude if c.has_location else np.nan for c in clients], dtype=float)
    c_lon = np.array([c.longitude if c.has_location else np.nan for c in clients], dtype=float)
    genders = {g: n for n, g in enumerate(sorted({w.gender or "" for w in workers} | {""}))}
    w_gender = np.array([genders[w.gender or ""] for w in workers])
    c_pref = np.array([genders.get(c.worker_gender_preference, -2) if c.worker_gender_preference else -1
                       for c in clients])
    index = {w.worker_id: j for j, w in enumerate(workers)}
    client_french = np.array([c.french_service for c in clients], dtype=bool)

    out: list[np.ndarray] = []
    for start in range(0, len(clients), chunk):
        stop = min(len(clients), start + chunk)
        ok = speaks[client_profile[start:stop]] & area_ok[client_area[start:stop]]
        ok &= ~client_french[start:stop, None] | french[None, :]
        lat1, lon1 = np.radians(c_lat[start:stop, None]), np.radians(c_lon[start:stop, None])
        lat2, lon2 = np.radians(w_lat[None, :]), np.radians(w_lon[None, :])
        a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
        km = 2 * EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, np.sqrt(a)))
        with np.errstate(invalid="ignore"):
            ok &= ~(km > w_limit[None, :] + EPS)  # unknown distance (NaN) passes
        pref = c_pref[start:stop, None]
        ok &= (pref == -1) | (pref == w_gender[None, :])
        for row in range(stop - start):
            for worker_id in clients[start + row].excluded_workers:
                if worker_id in index:
                    ok[row, index[worker_id]] = False
        out.extend(np.flatnonzero(r).astype(np.int32) for r in ok)
    return out
