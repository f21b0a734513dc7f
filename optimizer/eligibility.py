"""Which worker may serve which client tonight: the per-pair hard rules, computed vectorised with numpy.

A pair (client, worker) is *eligible* when it passes every per-pair rule below. The rules are checked
in this order, and `first_rule` records the first one that excludes a worker (that order is also the
order in which a waiting client's explanation narrows the workforce, see `optimizer.explain`):

1. `rule_french_service`: a client who chose services in French (Francophone Integration Pathway) is
   served only by a worker with ``french=True``; the language used is then French.
2. `rule_language_shared`: client and worker share a language, compared by primary subtag
   (`caseload.languages.primary`, so ``fa-AF`` matches ``fa``). A French-capable worker counts as speaking
   French. The language reported is the client's most preferred shared one (French for a French-service
   client).
3. `rule_worker_areas`: a worker with areas serves only clients whose area is one of them (compared
   trimmed and case-insensitively). A client with no area cannot be checked, so the rule lets them
   through: the agency chose not to record an area, and refusing would leave them waiting for a
   missing cell.
4. `rule_max_travel_km`: haversine distance from the client's home to the worker's office at most the
   worker's ``max_travel_km``; when either side has no coordinates the rule cannot be checked and passes.
5. `rule_worker_gender_preference`: a client with a preference is served only by a worker of that gender
   (a worker with no recorded gender does not qualify).
6. `rule_excluded_workers`: a worker the client excluded never serves them.
7. `rule_unavailable_takes_no_one_new`: a worker on leave (``available=False``) is eligible only for the
   active clients they already serve, and only when the policy keeps clients on leave.

The coordinator's overrides in force on the run's date (``agency.live_overrides``, data contract
overrides) come last, so that a pin to a worker an earlier rule excludes is reported with that rule
(`optimizer.overrides.check_overrides` rejects it before a run):

8. `rule_forbidden_by_coordinator`: a ``forbid`` override: that worker never serves the client (an active
   client served by them now is moved off, a forced move).
9. `rule_pinned_by_coordinator`: a ``pin`` override: only the pinned worker serves the client (a waiting
   client is placed with them or waits; an active client with another worker is moved to them: a forced
   move, which does not count against ``max_moves_share``).
10. `rule_held_by_coordinator`: a ``hold`` override: a waiting client is placed with no one tonight.

A ``keep`` override is no per-pair rule: its client is never moved optionally (``Eligibility.kept``; see
`optimizer.classes.movable_items` and `optimizer.moves.movable_clients`).

An active client whose current worker is no longer eligible (excluded, on leave without
``keep_on_leave``, an area or language change...) is *forced* to move: the model re-places them like a
waiting client (first in line), or they wait with a reason. Forced moves do not count against
``max_moves_share``, which limits the optional reshuffling the optimizer does to make room.

The structure (the same one the benchmarks' independent HiGHS reference reads):

``Eligibility``
    ``clients``      the clients the run decides about (status waiting or active), in agency order: index i
    ``workers``      every worker, in agency order: index j
    ``indptr``, ``indices``   CSR rows: the eligible workers of client i are
                     ``indices[indptr[i]:indptr[i + 1]]`` (int32, ascending)
    ``travel_km``    float64 per eligible pair (aligned with ``indices``): haversine km, NaN if unknown
    ``language``     int16 per eligible pair: index into ``languages`` of the shared language used
    ``preferred``    bool per eligible pair: the client is served in their first (preferred) language
    ``needs_matched`` int8 per eligible pair: how many of the client's needs tags the worker specialises in
    ``first_rule``   uint8 (n_clients, n_workers): 0 when eligible, else 1 + the index in ``RULES`` of the
                     first rule that excludes the worker
    ``current``      int32 per client: index of the worker serving an active client now, -1 for waiting
    ``forced``       bool per client: an active client whose current worker is not eligible for them

``worker_capacity(agency, eligibility)`` -> ``WorkerCapacity``, integer arrays per worker j:
    ``capacity``     the target in load units: ``floor(fte * scale)``
    ``high_weight``, ``low_weight``  load units of one high-need / low-need client (``scale / ratio``),
                     exact integers, so ``high * high_weight + low * low_weight <= capacity`` is exactly
                     the framework's ``high/high_ratio + low/low_ratio <= fte`` with the worker's ratios
    ``current_load`` load units of every active client the worker serves in the input
    ``kept_load``    the same without forced movers (the load that stays before any optional move)
    ``over_target``  ``current_load > capacity``: takes no one new tonight and is never pushed further over
    ``accepts_new``  available and not over target
    ``new_allowance`` how many new clients (new, moved in, re-placed) the worker may receive tonight:
                     ``max_new_per_week`` minus active clients whose intake_date falls in the 7 days ending
                     on ``agency.as_of``, floored at 0; ``NO_LIMIT`` when the worker has no pacing limit
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from fractions import Fraction

import numpy as np

from caseload.domain import Agency, Client, NeedLevel, Override, OverrideAction, Policy, Status, Worker
from caseload.languages import primary

EARTH_RADIUS_KM = 6371.0088
FRENCH = "fr"
NO_LIMIT = 1_000_000
TRAVEL_EPS_KM = 1e-9  # a home exactly at the limit is within it (floating-point noise aside)
CHUNK_PAIRS = 2_000_000  # client rows per block are chosen so a block holds about this many pairs


def area_key(area: str | None) -> str | None:
    """Areas are compared trimmed and case-insensitively (``m1b`` is ``M1B``)."""
    if area is None:
        return None
    key = area.strip().casefold()
    return key or None


def client_languages(client: Client) -> tuple[str, ...]:
    """The client's languages as primary subtags, preferred first; French is added for French service."""
    codes = [primary(code) for code in client.languages]
    if client.french_service and FRENCH not in codes:
        codes.append(FRENCH)
    return tuple(dict.fromkeys(codes))


def worker_languages(worker: Worker) -> frozenset[str]:
    """The worker's languages as primary subtags; a French-capable worker speaks French."""
    codes = {primary(code) for code in worker.languages}
    if worker.french:
        codes.add(FRENCH)
    return frozenset(codes)


def haversine_km(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    """Great-circle distance in km, broadcasting over numpy arrays (degrees in, NaN stays NaN)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi = p2 - p1
    dlmb = np.radians(lon2) - np.radians(lon1)
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


@dataclass(frozen=True, slots=True)
class _Table:
    """Per-client and per-worker attributes as arrays, so each rule is a broadcast over a block of rows."""

    language_codes: list[str]            # the language table; index = language id
    client_profile: np.ndarray           # int32 per client: index into profile_shared rows
    profile_shared: np.ndarray           # int16 (n_profiles, n_workers): shared language id, -1 none
    client_first: np.ndarray             # int16 per client: id of the preferred language
    client_french: np.ndarray            # bool
    worker_french: np.ndarray            # bool
    client_area: np.ndarray              # int32 per client: index into area_ok rows, -1 no area
    area_ok: np.ndarray                  # bool (n_areas, n_workers)
    client_lat: np.ndarray
    client_lon: np.ndarray
    worker_lat: np.ndarray
    worker_lon: np.ndarray
    worker_max_km: np.ndarray            # NaN: no limit
    client_gender_pref: np.ndarray       # int8: -1 none, else index into genders
    worker_gender: np.ndarray            # int8: -1 unknown
    excluded_rows: np.ndarray            # int32 pairs (client, worker) the client excluded, sorted by client
    excluded_cols: np.ndarray
    worker_available: np.ndarray         # bool
    current: np.ndarray                  # int32 per client, -1 for waiting
    keep_on_leave: bool
    forbid_rows: np.ndarray              # int32 pairs (client, worker) the coordinator forbade, sorted by client
    forbid_cols: np.ndarray
    pinned: np.ndarray                   # int32 per client: the worker the coordinator pinned them to, -1 none
    held: np.ndarray                     # bool per client: a waiting client the coordinator holds back


@dataclass(frozen=True, slots=True)
class Block:
    """Rows ``start:stop`` of the client table, with their haversine distances to every worker."""

    table: _Table
    start: int
    stop: int
    distance: np.ndarray  # float64 (rows, n_workers), NaN when either side lacks coordinates

    @property
    def rows(self) -> slice:
        return slice(self.start, self.stop)


# --- the per-pair rules: each returns a bool (rows, n_workers) array, True where the pair passes -------


def rule_french_service(b: Block) -> np.ndarray:
    """A French-service client only with a French-capable worker (``french=True``)."""
    t = b.table
    return ~t.client_french[b.rows, None] | t.worker_french[None, :]


def rule_language_shared(b: Block) -> np.ndarray:
    """Client and worker share at least one language (primary subtags)."""
    t = b.table
    return t.profile_shared[t.client_profile[b.rows]] >= 0


def rule_worker_areas(b: Block) -> np.ndarray:
    """A worker with areas serves clients in those areas; a client with no area passes."""
    t = b.table
    area = t.client_area[b.rows]
    ok = np.ones((b.stop - b.start, t.area_ok.shape[1]), dtype=bool)
    has = area >= 0
    ok[has] = t.area_ok[area[has]]
    return ok


def rule_max_travel_km(b: Block) -> np.ndarray:
    """Home-office distance within the worker's max_travel_km (passes when it cannot be measured)."""
    limit = b.table.worker_max_km[None, :]
    with np.errstate(invalid="ignore"):
        return ~(b.distance > limit + TRAVEL_EPS_KM)  # NaN distance or limit compares False: the pair passes


def rule_worker_gender_preference(b: Block) -> np.ndarray:
    """A client's worker_gender_preference admits only workers of that gender."""
    t = b.table
    pref = t.client_gender_pref[b.rows, None]
    return (pref < 0) | (pref == t.worker_gender[None, :])


def rule_excluded_workers(b: Block) -> np.ndarray:
    """A worker in the client's excluded_workers never serves them."""
    t = b.table
    ok = np.ones((b.stop - b.start, len(t.worker_available)), dtype=bool)
    lo, hi = np.searchsorted(t.excluded_rows, [b.start, b.stop])
    ok[t.excluded_rows[lo:hi] - b.start, t.excluded_cols[lo:hi]] = False
    return ok


def rule_unavailable_takes_no_one_new(b: Block) -> np.ndarray:
    """A worker on leave keeps their own active clients (if the policy says so) and takes no one else."""
    t = b.table
    ok = np.repeat(t.worker_available[None, :], b.stop - b.start, axis=0)
    if t.keep_on_leave:
        current = t.current[b.rows]
        rows = np.nonzero(current >= 0)[0]
        ok[rows, current[rows]] = True
    return ok


def rule_forbidden_by_coordinator(b: Block) -> np.ndarray:
    """A worker the coordinator forbade for the client never serves them (override ``forbid``)."""
    t = b.table
    ok = np.ones((b.stop - b.start, len(t.worker_available)), dtype=bool)
    lo, hi = np.searchsorted(t.forbid_rows, [b.start, b.stop])
    ok[t.forbid_rows[lo:hi] - b.start, t.forbid_cols[lo:hi]] = False
    return ok


def rule_pinned_by_coordinator(b: Block) -> np.ndarray:
    """A client the coordinator pinned is served by the pinned worker only (override ``pin``)."""
    pinned = b.table.pinned[b.rows, None]
    return (pinned < 0) | (pinned == np.arange(len(b.table.worker_available))[None, :])


def rule_held_by_coordinator(b: Block) -> np.ndarray:
    """A waiting client the coordinator holds is placed with no one tonight (override ``hold``)."""
    t = b.table
    held = t.held[b.rows] & (t.current[b.rows] < 0)
    return np.repeat(~held[:, None], len(t.worker_available), axis=1)


RULES: tuple[tuple[str, Callable[[Block], np.ndarray]], ...] = (
    ("french_service", rule_french_service),
    ("language_shared", rule_language_shared),
    ("worker_areas", rule_worker_areas),
    ("max_travel_km", rule_max_travel_km),
    ("worker_gender_preference", rule_worker_gender_preference),
    ("excluded_workers", rule_excluded_workers),
    ("unavailable_takes_no_one_new", rule_unavailable_takes_no_one_new),
    ("forbidden_by_coordinator", rule_forbidden_by_coordinator),
    ("pinned_by_coordinator", rule_pinned_by_coordinator),
    ("held_by_coordinator", rule_held_by_coordinator),
)
RULE_NAMES: tuple[str, ...] = tuple(name for name, _ in RULES)


@dataclass(slots=True)
class Eligibility:
    """Eligible workers of every waiting/active client, and why each other worker is not (see module doc)."""

    clients: list[Client]
    workers: list[Worker]
    languages: list[str]
    indptr: np.ndarray
    indices: np.ndarray
    travel_km: np.ndarray
    language: np.ndarray
    preferred: np.ndarray
    needs_matched: np.ndarray
    first_rule: np.ndarray
    current: np.ndarray
    forced: np.ndarray
    client_index: dict[str, int]
    worker_index: dict[str, int]
    kept: np.ndarray | None = None   # bool per client: an active client the coordinator keeps (override keep)
    overrides: dict[int, list[Override]] = field(default_factory=dict)  # per client index, the live overrides

    def is_kept(self, i: int) -> bool:
        """Whether the coordinator keeps active client i with their worker (never moved optionally)."""
        return self.kept is not None and bool(self.kept[i])

    def override_of(self, i: int, action: OverrideAction) -> Override | None:
        """Client i's live override of this kind (the first one), if any."""
        return next((o for o in self.overrides.get(i, ()) if o.action == action), None)

    @property
    def n_clients(self) -> int:
        return len(self.clients)

    @property
    def n_workers(self) -> int:
        return len(self.workers)

    def eligible(self, i: int) -> np.ndarray:
        """Worker indices eligible for client i (ascending)."""
        return self.indices[self.indptr[i]:self.indptr[i + 1]]

    def pair_slot(self, i: int, j: int) -> int:
        """Position of eligible pair (i, j) in the per-pair arrays, -1 when j is not eligible for i."""
        lo, hi = self.indptr[i], self.indptr[i + 1]
        k = lo + int(np.searchsorted(self.indices[lo:hi], j))
        return k if k < hi and self.indices[k] == j else -1

    def excluding_rule(self, i: int, j: int) -> str | None:
        """Name of the first rule that excludes worker j for client i, None when the pair is eligible."""
        code = int(self.first_rule[i, j])
        return None if code == 0 else RULE_NAMES[code - 1]

    def language_of(self, slot: int) -> str:
        return self.languages[int(self.language[slot])]


def _index(values: list, key: Callable) -> tuple[np.ndarray, list]:
    """Map each value to the index of its (hashable) key in first-seen order."""
    seen: dict = {}
    ids = np.empty(len(values), dtype=np.int32)
    for n, value in enumerate(values):
        ids[n] = seen.setdefault(key(value), len(seen))
    return ids, list(seen)


def _build_table(clients: list[Client], workers: list[Worker], policy: Policy,
                 overrides: list[Override] | None = None) -> _Table:
    worker_index = {w.worker_id: j for j, w in enumerate(workers)}
    n_workers = len(workers)
    profiles_of_clients = [client_languages(c) for c in clients]
    w_langs = [worker_languages(w) for w in workers]
    codes = sorted({code for p in profiles_of_clients for code in p} | {code for s in w_langs for code in s})
    code_id = {code: n for n, code in enumerate(codes)}

    keyed = [(p, c.french_service) for p, c in zip(profiles_of_clients, clients, strict=True)]
    client_profile, profile_keys = _index(keyed, lambda k: k)
    profiles = [p for p, _ in profile_keys]
    shared = np.full((len(profiles), n_workers), -1, dtype=np.int16)
    speaks = np.zeros((len(codes), n_workers), dtype=bool)
    for j, langs in enumerate(w_langs):
        for code in langs:
            speaks[code_id[code], j] = True
    french_id = code_id.get(FRENCH, -1)
    for p, profile in enumerate(profiles):
        for code in reversed(profile):  # the most preferred shared language wins
            row = speaks[code_id[code]]
            shared[p, row] = code_id[code]
    client_french = np.array([c.french_service for c in clients], dtype=bool)
    # A French-service client is served in French whatever else they speak.
    for p, (_, french_service) in enumerate(profile_keys):
        if french_service:
            shared[p] = np.where(speaks[french_id], french_id, -1)
    client_first = np.array(
        [french_id if c.french_service else code_id[p[0]] if p else -1
         for c, p in zip(clients, profiles_of_clients, strict=True)],
        dtype=np.int16,
    )

    client_area, areas = _index(clients, lambda c: area_key(c.area))
    area_ok = np.ones((len(areas), n_workers), dtype=bool)
    worker_areas = [frozenset(a for a in (area_key(x) for x in w.areas) if a) for w in workers]
    for a, key in enumerate(areas):
        if key is not None:
            area_ok[a] = [not wa or key in wa for wa in worker_areas]
    none_area = [a for a, key in enumerate(areas) if key is None]
    lookup = np.arange(len(areas), dtype=np.int32)
    for a in none_area:
        lookup[a] = -1
    client_area = lookup[client_area] if len(areas) else client_area

    genders = sorted({c.worker_gender_preference for c in clients if c.worker_gender_preference}
                     | {w.gender for w in workers if w.gender})
    gender_id = {g: n for n, g in enumerate(genders)}

    ex_rows, ex_cols = [], []
    for i, c in enumerate(clients):
        for worker_id in sorted(c.excluded_workers):
            j = worker_index.get(worker_id)
            if j is not None:
                ex_rows.append(i)
                ex_cols.append(j)

    def coords(items: list, attr: str) -> np.ndarray:
        return np.array([getattr(x, attr) if x.has_location else np.nan for x in items], dtype=np.float64)

    return _Table(
        language_codes=codes,
        client_profile=client_profile,
        profile_shared=shared,
        client_first=client_first,
        client_french=client_french,
        worker_french=np.array([w.french for w in workers], dtype=bool),
        client_area=client_area.astype(np.int32),
        area_ok=area_ok,
        client_lat=coords(clients, "latitude"),
        client_lon=coords(clients, "longitude"),
        worker_lat=coords(workers, "latitude"),
        worker_lon=coords(workers, "longitude"),
        worker_max_km=np.array([np.nan if w.max_travel_km is None else w.max_travel_km for w in workers],
                               dtype=np.float64),
        client_gender_pref=np.array([gender_id.get(c.worker_gender_preference or "", -1) for c in clients],
                                    dtype=np.int8),
        worker_gender=np.array([gender_id.get(w.gender or "", -1) for w in workers], dtype=np.int8),
        excluded_rows=np.array(ex_rows, dtype=np.int32),
        excluded_cols=np.array(ex_cols, dtype=np.int32),
        worker_available=np.array([w.available for w in workers], dtype=bool),
        current=np.array([worker_index.get(c.worker_id or "", -1) if c.status == Status.ACTIVE else -1
                          for c in clients], dtype=np.int32),
        keep_on_leave=policy.keep_on_leave,
        **_override_arrays(clients, worker_index, overrides or []),
    )


def _override_arrays(clients: list[Client], worker_index: dict[str, int],
                     overrides: list[Override]) -> dict[str, np.ndarray]:
    """The forbid pairs, pins and holds as the per-pair rules read them (unknown ids are ignored here:
    the reader and `optimizer.overrides.check_overrides` report them)."""
    client_index = {c.client_id: i for i, c in enumerate(clients)}
    forbid: set[tuple[int, int]] = set()
    pinned = np.full(len(clients), -1, dtype=np.int32)
    held = np.zeros(len(clients), dtype=bool)
    for o in overrides:
        i = client_index.get(o.client_id)
        j = worker_index.get(o.worker_id or "", -1)
        if i is None:
            continue
        if o.action == OverrideAction.FORBID and j >= 0:
            forbid.add((i, j))
        elif o.action == OverrideAction.PIN and j >= 0 and pinned[i] < 0:
            pinned[i] = j
        elif o.action == OverrideAction.HOLD:
            held[i] = True
    pairs = sorted(forbid)
    return {"forbid_rows": np.array([i for i, _ in pairs], dtype=np.int32),
            "forbid_cols": np.array([j for _, j in pairs], dtype=np.int32), "pinned": pinned, "held": held}


def _needs_masks(clients: list[Client], workers: list[Worker]) -> tuple[np.ndarray, np.ndarray]:
    """Needs and specializations as bit masks over the tags both sides use (at most 63 such tags)."""
    tags = sorted({t for c in clients for t in c.needs} & {t for w in workers for t in w.specializations})
    if len(tags) > 63:  # keep the most common; a needs match is objective (4), never a hard rule
        counts = {t: 0 for t in tags}
        for c in clients:
            for t in c.needs:
                if t in counts:
                    counts[t] += 1
        tags = sorted(sorted(tags, key=lambda t: -counts[t])[:63])
    bit = {t: np.uint64(1) << np.uint64(n) for n, t in enumerate(tags)}

    def mask(items: frozenset[str]) -> np.uint64:
        out = np.uint64(0)
        for t in items:
            if t in bit:
                out |= bit[t]
        return out

    return (np.array([mask(c.needs) for c in clients], dtype=np.uint64),
            np.array([mask(w.specializations) for w in workers], dtype=np.uint64))


def decided_clients(agency: Agency) -> list[Client]:
    """The clients a run decides about: waiting and active ones (graduated and exited are ignored)."""
    return [c for c in agency.clients if c.status in (Status.WAITING, Status.ACTIVE)]


def compute_eligibility(agency: Agency) -> Eligibility:
    """Apply every per-pair rule to every (waiting/active client, worker) pair, block by block."""
    clients = decided_clients(agency)
    workers = list(agency.workers)
    n, m = len(clients), len(workers)
    live = agency.live_overrides
    t = _build_table(clients, workers, agency.policy, live)
    needs_c, spec_w = _needs_masks(clients, workers)

    first_rule = np.zeros((n, m), dtype=np.uint8)
    indices_parts, travel_parts, counts = [], [], np.zeros(n, dtype=np.int64)
    step = max(1, CHUNK_PAIRS // max(m, 1))
    for start in range(0, n, step):
        stop = min(n, start + step)
        with np.errstate(invalid="ignore"):
            distance = haversine_km(t.client_lat[start:stop, None], t.client_lon[start:stop, None],
                                    t.worker_lat[None, :], t.worker_lon[None, :])
        block = Block(t, start, stop, distance)
        code = first_rule[start:stop]
        for number, (_, rule) in enumerate(RULES, start=1):
            code[(code == 0) & ~rule(block)] = number
        rows, cols = np.nonzero(code == 0)
        counts[start:stop] = np.bincount(rows, minlength=stop - start)
        indices_parts.append(cols.astype(np.int32))
        travel_parts.append(distance[rows, cols])

    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    indices = np.concatenate(indices_parts) if indices_parts else np.zeros(0, dtype=np.int32)
    travel = np.concatenate(travel_parts) if travel_parts else np.zeros(0, dtype=np.float64)
    pair_client = np.repeat(np.arange(n, dtype=np.int32), counts)
    language = t.profile_shared[t.client_profile[pair_client], indices] if n else np.zeros(0, np.int16)
    preferred = language == t.client_first[pair_client]
    needs = np.bitwise_count(needs_c[pair_client] & spec_w[indices]).astype(np.int8)

    current = t.current
    forced = np.zeros(n, dtype=bool)
    active = np.nonzero(current >= 0)[0]
    forced[active] = first_rule[active, current[active]] != 0
    return Eligibility(
        clients=clients, workers=workers, languages=t.language_codes, indptr=indptr, indices=indices,
        travel_km=travel, language=language.astype(np.int16), preferred=preferred, needs_matched=needs,
        first_rule=first_rule, current=current, forced=forced,
        client_index=(client_index := {c.client_id: i for i, c in enumerate(clients)}),
        worker_index={w.worker_id: j for j, w in enumerate(workers)},
        **_kept_and_overrides(client_index, current, live),
    )


def _kept_and_overrides(client_index: dict[str, int], current: np.ndarray,
                        overrides: list[Override]) -> dict[str, object]:
    kept = np.zeros(len(current), dtype=bool)
    per_client: dict[int, list[Override]] = {}
    for o in overrides:
        i = client_index.get(o.client_id)
        if i is None:
            continue
        per_client.setdefault(i, []).append(o)
        if o.action == OverrideAction.KEEP and current[i] >= 0:
            kept[i] = True
    return {"kept": kept, "overrides": per_client}


# --- capacity --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WorkerCapacity:
    """Per-worker integer capacity figures (see the module docstring)."""

    scale: np.ndarray
    capacity: np.ndarray
    high_weight: np.ndarray
    low_weight: np.ndarray
    current_load: np.ndarray
    kept_load: np.ndarray
    over_target: np.ndarray
    accepts_new: np.ndarray
    new_allowance: np.ndarray

    def weight(self, j: int, need: NeedLevel) -> int:
        return int(self.high_weight[j] if need == NeedLevel.HIGH else self.low_weight[j])

    def unit_weight(self, j: int | np.ndarray, high: int, low: int) -> np.ndarray | int:
        return high * self.high_weight[j] + low * self.low_weight[j]


def _rational(x: float) -> Fraction:
    return Fraction(x).limit_denominator(10_000)


def integer_weights(fte: float, high_ratio: float, low_ratio: float) -> tuple[int, int, int, int]:
    """(scale, capacity, high weight, low weight) with ``h*hw + l*lw <= capacity`` iff the FTE rule holds.

    One FTE is ``scale`` units with ``scale`` a multiple of both ratios' numerators, so a high-need client
    weighs exactly ``scale/high_ratio`` units (15 and 50 give scale 150: 10 and 3 units).
    """
    hr, lr, f = _rational(high_ratio), _rational(low_ratio), _rational(fte)
    scale = math.lcm(hr.numerator, lr.numerator)
    high = scale / hr
    low = scale / lr
    # scale/hr = scale*den/num is an integer because num divides scale.
    assert high.denominator == 1 and low.denominator == 1
    return scale, math.floor(f * scale), int(high), int(low)


def recent_intakes(agency: Agency) -> dict[str, int]:
    """Active clients per worker whose intake_date falls in the 7 days ending on ``agency.as_of``."""
    since = agency.as_of - timedelta(days=7)
    out: dict[str, int] = {}
    for c in agency.clients:
        if (c.status == Status.ACTIVE and c.worker_id and c.intake_date is not None
                and since < c.intake_date <= agency.as_of):
            out[c.worker_id] = out.get(c.worker_id, 0) + 1
    return out


def worker_capacity(agency: Agency, eligibility: Eligibility | None = None) -> WorkerCapacity:
    """Integer capacity, weights, loads, intake allowance per worker (computes eligibility if not given)."""
    el = eligibility if eligibility is not None else compute_eligibility(agency)
    m = el.n_workers
    scale = np.zeros(m, dtype=np.int64)
    capacity = np.zeros(m, dtype=np.int64)
    hw = np.zeros(m, dtype=np.int64)
    lw = np.zeros(m, dtype=np.int64)
    for j, w in enumerate(el.workers):
        high_ratio, low_ratio = agency.policy.ratios_for(w)
        scale[j], capacity[j], hw[j], lw[j] = integer_weights(w.fte, high_ratio, low_ratio)
    current_load = np.zeros(m, dtype=np.int64)
    kept_load = np.zeros(m, dtype=np.int64)
    for i, c in enumerate(el.clients):
        j = int(el.current[i])
        if j < 0:
            continue
        units = hw[j] if c.need_level == NeedLevel.HIGH else lw[j]
        current_load[j] += units
        if not el.forced[i]:
            kept_load[j] += units
    over = current_load > capacity
    available = np.array([w.available for w in el.workers], dtype=bool)
    intakes = recent_intakes(agency)
    allowance = np.array(
        [NO_LIMIT if w.max_new_per_week is None else max(0, w.max_new_per_week - intakes.get(w.worker_id, 0))
         for w in el.workers],
        dtype=np.int64,
    )
    return WorkerCapacity(scale=scale, capacity=capacity, high_weight=hw, low_weight=lw,
                          current_load=current_load, kept_load=kept_load, over_target=over,
                          accepts_new=available & ~over, new_allowance=allowance)
