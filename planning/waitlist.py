"""The waitlist as a queue: each waiting client's place in line, why they wait, and when they should be placed.

A waiting family asks two questions: where do we stand, and roughly when. Both answers come from the
optimizer's own view of the night, not a second copy of its rules:

* **Position.** The optimizer ranks placement units (a client, or a whole family) by tier (forced movers,
  then priority), then days waiting, then referral date (`optimizer.units.ranked`). A client's position is
  1 + the number of waiting units ranked ahead of theirs that could be served by one of the same workers
  (`optimizer.compute_eligibility`, the family's intersection for a family): the people actually in
  front of them, not the whole agency. Clients no worker can serve queue among themselves. A higher-ranked
  client with the same eligible workers is therefore always ahead of a lower-ranked one.
* **Reason.** The plan's own reason (`optimizer.explain`, via the plan's assignments).
* **Expected placement.** A Monte Carlo over exit times, vectorised over replications with numpy. After
  tonight's plan each worker has a load against its target (the optimizer's integer capacity units,
  `optimizer.worker_capacity`); each client they serve leaves after a stay drawn from a lognormal with the
  policy's expected duration per need level as mean (sd a quarter of it, the simulation's default shape),
  conditional on the months already served (`simulation.durations.sample_given_elapsed`: overdue clients
  leave within a month). Waiting units then claim room in queue order: each takes, in each replication,
  the first week from which one of its eligible workers has room for it for good (room counted after every
  claim made by units ahead of it), and frees that room again when its own drawn stay ends. Units ahead
  always choose first, so a lower-ranked client never delays a higher-ranked one; a lower-ranked client
  may still be placed sooner when different workers serve them. The median and the 10th/90th percentiles
  across replications are the expected date and its 80% range; a replication where the client is not
  placed within the horizon counts as later than the horizon (the date is empty when that is the median).

A client the coordinator holds (override ``hold``) keeps the workers who could serve them once released
(``eligible_workers``) and queues behind everyone sharing those workers: their claim starts the week after
the hold's ``until`` date, after every client not held; a hold without an end date gives no date.

Intake pacing (`max_new_per_week`) holds week by week: a unit waits for a week in which the worker still
has intake for all its members.

What it leaves out, so that the dates are honest about their basis: new referrals (a new client of higher
priority would come first; one of equal priority queues behind), dropouts and step-downs (both free room
earlier: the dates lean late), and leave ending (a worker on leave takes nobody new for the whole horizon).
Placements are counted at the end of the week in which room appears: the nightly run places them within
that week.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from caseload.domain import Agency, Decision, NeedLevel, OverrideAction, Policy, Status
from optimizer import compute_eligibility, worker_capacity
from optimizer.eligibility import Eligibility, WorkerCapacity
from optimizer.plan import Plan
from optimizer.units import Unit, days_waiting, ranked, rule_family_one_worker
from planning.reviews import next_review
from simulation.durations import sample, sample_given_elapsed
from simulation.schema import Lognormal

DAYS_PER_MONTH = 365.2425 / 12
DURATION_SD_SHARE = 0.25       # sd of a stay as a share of its mean: the simulation's default (16 +- 4, 12 +- 3)
STEP_DAYS = 7                  # placements are counted per week
HORIZON_WEEKS = 260            # five years: later than that is "not expected"
REPLICATIONS = 200
MAX_CELLS = 24_000_000         # replications x workers x weeks held at once (two int32 arrays of this size)
EARLY_Q, LATE_Q = 0.10, 0.90   # the 80% range
COLUMNS = ["client_id", "position", "priority", "referral_date", "days_waiting", "reason", "eligible_workers",
           "expected_placement", "expected_placement_early", "expected_placement_late", "next_review",
           "languages", "area", "need_level", "status"]
NOT_IN_PLAN = "not in tonight's plan (referred or changed after the run)"


@dataclass(frozen=True, slots=True)
class Tonight:
    """The agency after tonight's plan: who each worker serves (and since when), who waits and why."""

    worker_of: np.ndarray          # int32 per Eligibility client: worker index after the plan, -1 waiting
    started: list[date | None]     # per client: intake date of the stay in progress (as_of for new ones)
    reasons: dict[str, str]        # client_id -> the plan's reason for waiting


def tonight(agency: Agency, el: Eligibility, plan: Plan | None) -> Tonight:
    """Apply the plan's decisions to the agency; clients the plan does not mention keep their stored state."""
    decided = {a.client_id: a for a in plan.assignments} if plan is not None else {}
    worker_of = np.full(el.n_clients, -1, dtype=np.int32)
    started: list[date | None] = [None] * el.n_clients
    reasons: dict[str, str] = {}
    for i, c in enumerate(el.clients):
        a = decided.get(c.client_id)
        if a is None:
            if c.status == Status.ACTIVE and c.worker_id in el.worker_index:
                worker_of[i], started[i] = el.worker_index[c.worker_id], c.intake_date
            else:
                reasons[c.client_id] = NOT_IN_PLAN
            continue
        if Decision(a.decision) == Decision.WAITING or a.worker_id not in el.worker_index:
            reasons[c.client_id] = a.reason or ""
            continue
        worker_of[i] = el.worker_index[a.worker_id]
        started[i] = agency.as_of if Decision(a.decision) == Decision.NEW or c.status == Status.WAITING \
            else c.intake_date
    return Tonight(worker_of=worker_of, started=started, reasons=reasons)


def _durations(policy: Policy) -> dict[NeedLevel, Lognormal]:
    """Stays as the simulation draws them: lognormal around the policy's expected duration per need level."""
    out = {}
    for level in NeedLevel:
        mean = float(policy.expected_duration_months(level.value))
        out[level] = Lognormal(distribution="lognormal", mean=mean, sd=mean * DURATION_SD_SHARE)
    return out


def _weeks(months: np.ndarray) -> np.ndarray:
    """Months from tonight to the week (1-based) by whose end the room is free."""
    return np.maximum(1, np.ceil(months * DAYS_PER_MONTH / STEP_DAYS)).astype(np.int64)


def _remaining_months(agency: Agency, el: Eligibility, now: Tonight, served: np.ndarray, reps: int,
                      rng: np.random.Generator) -> np.ndarray:
    """(reps, len(served)) months until each served client leaves, drawn given the months already served."""
    dists = _durations(agency.policy)
    out = np.empty((reps, served.size))
    levels = np.array([el.clients[i].need_level == NeedLevel.HIGH for i in served], dtype=bool)
    elapsed = np.array([np.nan if now.started[i] is None else max(0.0, (agency.as_of - now.started[i]).days)
                        / DAYS_PER_MONTH for i in served])
    for level, dist in dists.items():
        for known in (True, False):
            cols = np.nonzero((levels == (level == NeedLevel.HIGH)) & (np.isnan(elapsed) != known))[0]
            if cols.size == 0:
                continue
            if known:
                gone = np.repeat(elapsed[cols][None, :], reps, axis=0).ravel()
                total = sample_given_elapsed(dist, gone, rng)
            else:  # no intake date: somewhere in a typical stay, as the simulation assumes
                total = sample(dist, reps * cols.size, rng)
                gone = total * rng.random(total.size)
            out[:, cols] = (total - gone).reshape(reps, cols.size)
    return out


def _suffix_min(rows: np.ndarray) -> np.ndarray:
    """min over s >= k of rows[..., s], for every k: the room a client placed at week k keeps for good."""
    return np.minimum.accumulate(rows[..., ::-1], axis=-1)[..., ::-1]


def _first_at_least(flat: np.ndarray, starts: np.ndarray, weights: np.ndarray, weeks: int) -> np.ndarray:
    """Per row: first week k with ``flat[start + k] >= weight`` (``weeks`` when none), rows nondecreasing.

    A binary search run on every row at once: ceil(log2(weeks + 1)) rounds of one gather each.
    """
    lo = np.zeros(starts.shape, dtype=np.int64)
    hi = np.full(starts.shape, weeks, dtype=np.int64)
    for _ in range(int(weeks).bit_length()):
        mid = (lo + hi) >> 1
        fits = flat[starts + np.minimum(mid, weeks - 1)] >= weights
        fits &= mid < weeks
        hi = np.where(fits, mid, hi)
        lo = np.where(fits, lo, mid + 1)
    return hi


class _Rooms:
    """Room per (replication, worker, week) after the claims so far, and the first week a unit fits for good.

    ``sure[r, j, k]`` = min over weeks s >= k of room: a unit of weight w may be placed with worker j at week
    k iff ``sure >= w``. It never decreases in k, so the first such week is a binary search. First weeks are
    kept per unit shape (high, low members) for every (replication, worker), and refreshed only on the rows
    a claim changed, so a unit reads them with one gather.
    """

    def __init__(self, room: np.ndarray, cap: WorkerCapacity):
        self.room = room
        self.reps, self.n_workers, self.weeks = room.shape
        self.hw, self.lw = cap.high_weight.astype(np.int64), cap.low_weight.astype(np.int64)
        self.sure = np.ascontiguousarray(_suffix_min(room))
        self.first: dict[tuple[int, int], np.ndarray] = {}

    def weight(self, shape: tuple[int, int], workers: np.ndarray | slice = slice(None)) -> np.ndarray:
        return shape[0] * self.hw[workers] + shape[1] * self.lw[workers]

    def first_for(self, shape: tuple[int, int]) -> np.ndarray:
        """(reps, workers): first week from which a unit of this shape fits for good (``weeks``: never)."""
        if shape not in self.first:
            starts = np.arange(self.reps * self.n_workers, dtype=np.int64) * self.weeks
            weights = np.tile(self.weight(shape), self.reps)
            self.first[shape] = _first_at_least(self.sure.ravel(), starts, weights, self.weeks).reshape(
                self.reps, self.n_workers)
        return self.first[shape]

    def forget(self, shape: tuple[int, int]) -> None:
        """No unit of this shape is left in the queue: stop refreshing it."""
        self.first.pop(shape, None)

    def claim(self, reps: np.ndarray, workers: np.ndarray, start: np.ndarray, stops: list[np.ndarray],
              weights: list[np.ndarray]) -> None:
        """Replication r's unit takes weights[m][r] from week start[r] until stops[m][r] (exclusive)."""
        n, at = reps.size, np.arange(reps.size)
        held = np.zeros((n, self.weeks + 1), dtype=np.int64)
        for stop, weight in zip(stops, weights, strict=True):
            held[at, start] += weight
            held[at, np.minimum(stop, self.weeks)] -= weight
        rows = self.room[reps, workers] - np.cumsum(held[:, :self.weeks], axis=1).astype(self.room.dtype)
        self.room[reps, workers] = rows
        sure = np.ascontiguousarray(_suffix_min(rows))
        self.sure[reps, workers] = sure
        starts = at.astype(np.int64) * self.weeks
        for shape, first in self.first.items():
            first[reps, workers] = _first_at_least(sure.ravel(), starts, self.weight(shape, workers), self.weeks)


class _Intake:
    """New clients per (replication, worker, week) for workers with ``max_new_per_week``: a unit is placed in
    the first week, from its first week with room, in which the worker still has intake for all its members.
    A week's placements are counted on its last night, whose seven-day window holds that week's intakes only
    (tonight's and earlier ones have left it)."""

    MAX_STEPS = 104  # weeks a unit is pushed back for intake at most (two years of full weeks)

    def __init__(self, limit: np.ndarray, count: np.ndarray):
        self.limit, self.count = limit, count
        self.weeks = count.shape[2]

    @classmethod
    def of(cls, el: Eligibility, reps: int, weeks: int) -> _Intake | None:
        paced = np.array([w.max_new_per_week is not None for w in el.workers], dtype=bool)
        if not paced.any():
            return None
        limit = np.array([w.max_new_per_week if w.max_new_per_week is not None else 0 for w in el.workers],
                         dtype=np.int64)
        limit[~paced] = np.iinfo(np.int32).max
        return cls(limit, np.zeros((reps, el.n_workers, weeks), dtype=np.int16))

    def first_open(self, first: np.ndarray, workers: np.ndarray, size: int) -> np.ndarray:
        """(reps, workers) first week >= ``first`` with intake left for ``size`` new clients (weeks: none)."""
        limit = self.limit[workers]
        first = np.where((limit < size)[None, :], self.weeks, first)
        if not (limit < np.iinfo(np.int32).max).any():
            return first
        reps = np.arange(first.shape[0])[:, None]
        for _ in range(self.MAX_STEPS):
            inside = first < self.weeks
            used = self.count[reps, workers[None, :], np.minimum(first, self.weeks - 1)]
            full = inside & (used + size > limit[None, :])
            if not full.any():
                break
            first = first + full
        return first

    def take(self, reps: np.ndarray, workers: np.ndarray, weeks: np.ndarray, size: int) -> None:
        self.count[reps, workers, weeks] += size


def expected_weeks(agency: Agency, el: Eligibility, cap: WorkerCapacity, units: list[Unit], queue: list[int],
                   now: Tonight, *, replications: int = REPLICATIONS, seed: int = 0,
                   horizon_weeks: int = HORIZON_WEEKS, earliest: np.ndarray | None = None) -> np.ndarray:
    """(replications, len(queue)) week in which each queued unit is placed (``horizon_weeks``: not within it).

    ``queue`` lists unit indices in queue order (best-ranked first); ``earliest`` (per queue entry) the first
    week a unit may be placed (a hold's end; ``horizon_weeks`` or more: never).
    """
    rng = np.random.default_rng(seed)
    weeks, m = horizon_weeks + 1, el.n_workers
    reps = max(20, min(replications, MAX_CELLS // max(1, m * weeks)))
    served = np.nonzero(now.worker_of >= 0)[0]
    w_of = now.worker_of[served]
    high = np.array([el.clients[i].need_level == NeedLevel.HIGH for i in served], dtype=bool)
    load = np.where(high, cap.high_weight[w_of], cap.low_weight[w_of]).astype(np.int64)
    room0 = cap.capacity.astype(np.int64) - np.bincount(w_of, weights=load, minlength=m).astype(np.int64)

    # Room frees when a served client leaves: week by week, cumulated.
    leave = np.minimum(_weeks(_remaining_months(agency, el, now, served, reps, rng)), weeks)  # (reps, served)
    cell = (np.arange(reps)[:, None] * m + w_of[None, :]) * (weeks + 1) + leave
    room = np.bincount(cell.ravel(), weights=np.broadcast_to(load, leave.shape).ravel(),
                       minlength=reps * m * (weeks + 1)).astype(np.int32).reshape(reps, m, weeks + 1)
    room[:, :, 0] += room0.astype(np.int32)[None, :]
    np.cumsum(room, axis=2, out=room)  # the last column holds exits beyond the horizon: never read
    rooms = _Rooms(room[:, :, :weeks], cap)

    intake = _Intake.of(el, reps, weeks)
    dists = _durations(agency.policy)
    placed = np.full((reps, len(queue)), horizon_weeks, dtype=np.int64)
    all_reps = np.arange(reps)
    left = Counter((units[u].high, units[u].low) for u in queue if len(units[u].eligible))
    for q, u in enumerate(queue):
        unit = units[u]
        if len(unit.eligible) == 0:
            continue
        eligible = unit.eligible.astype(np.int64)
        shape = (unit.high, unit.low)
        first = rooms.first_for(shape)[:, eligible]
        left[shape] -= 1
        if not left[shape]:
            rooms.forget(shape)
        soonest = 1 if earliest is None else max(1, int(earliest[q]))  # not placed tonight: next week at best
        first = np.maximum(first, soonest)
        if intake is not None:
            first = intake.first_open(first, eligible, unit.size)
        pick = first.argmin(axis=1)
        week = first[all_reps, pick]
        ok = week < horizon_weeks
        if not ok.any():
            continue
        placed[ok, q] = week[ok]
        r, j, start = all_reps[ok], eligible[pick[ok]], week[ok]
        stops, weights = [], []
        for member in unit.members:  # each member leaves after their own stay
            level = el.clients[member].need_level
            stay = _weeks(sample(dists[level], r.size, rng))
            stops.append(start + stay)
            weights.append(np.where(level == NeedLevel.HIGH, cap.high_weight[j], cap.low_weight[j]))
        rooms.claim(r, j, start, stops, weights)
        if intake is not None:
            intake.take(r, j, start, unit.size)
    return placed


def positions(units: list[Unit], queue: list[int], n_workers: int, block: int = 2048) -> np.ndarray:
    """Per queued unit: 1 + queued units ahead of it that share an eligible worker (or, like it, have none)."""
    n = len(queue)
    member = np.zeros((n, n_workers + 1), dtype=np.float32)
    for q, u in enumerate(queue):
        eligible = units[u].eligible
        if len(eligible):
            member[q, eligible] = 1.0
        else:
            member[q, n_workers] = 1.0
    out = np.ones(n, dtype=np.int64)
    for lo in range(0, n, block):
        hi = min(n, lo + block)
        shares = (member[lo:hi] @ member[:hi].T) > 0           # (hi - lo, hi): only units up to hi can be ahead
        ahead = np.arange(hi)[None, :] < np.arange(lo, hi)[:, None]
        out[lo:hi] += np.count_nonzero(shares & ahead, axis=1)
    return out


def _hold_ends(as_of: date, until: list[date | None], horizon_weeks: int) -> int:
    """The first week a held unit may be placed: the week after its last hold lapses (never without an end)."""
    if any(day is None for day in until):
        return horizon_weeks
    return max(1, math.ceil(((max(until) - as_of).days + 1) / STEP_DAYS))


def _dates(as_of: date, weeks: np.ndarray, horizon_weeks: int) -> pd.Series:
    """Week numbers as dates (the end of that week); beyond the horizon: NaT."""
    days = np.where(weeks >= horizon_weeks, np.nan, weeks * STEP_DAYS)
    return pd.Series(pd.Timestamp(as_of) + pd.to_timedelta(days, unit="D"))


def waitlist(agency: Agency, plan: Plan | None = None, *, seed: int = 0, replications: int = REPLICATIONS,
             horizon_weeks: int = HORIZON_WEEKS, time_limit_s: float | None = None,
             progress: Callable[[str], None] | None = None) -> pd.DataFrame:
    """The waitlist after tonight's plan, one row per waiting client in queue order (see the module docstring).

    ``plan``: tonight's plan for this agency (`optimizer.assign`'s); None runs `optimizer.assign` (with
    ``time_limit_s`` and ``seed``). Columns: client_id, position, priority, referral_date, days_waiting,
    reason, eligible_workers, expected_placement (median), expected_placement_early / _late (the 80% range),
    next_review, languages (`;`-separated, preferred first), area, need_level, status (an active client
    forced off their worker who waits is listed too). Dates are pandas timestamps (NaT: not expected within
    ``horizon_weeks``). The same agency, plan and seed give the same table.
    """
    say = progress or (lambda _message: None)
    if plan is None:
        from optimizer import assign

        say("making tonight's plan")
        plan = assign(agency, time_limit_s=time_limit_s, seed=seed)
    say("ordering the queue")
    holds = {o.client_id: o.until for o in agency.live_overrides if o.action == OverrideAction.HOLD}
    free = agency if not holds else Agency(  # who could serve a held client once the hold ends
        agency.clients, agency.workers, agency.policy, as_of=agency.as_of,
        overrides=[o for o in agency.overrides if o.action != OverrideAction.HOLD])
    el = compute_eligibility(free)
    cap = worker_capacity(free, el)
    now = tonight(agency, el, plan)
    units = rule_family_one_worker(free, el)
    waiting = [u for u in ranked(units) if all(now.worker_of[i] < 0 for i in units[u].members)]
    held = {u for u in waiting if any(el.clients[i].client_id in holds for i in units[u].members)}
    queue = [u for u in waiting if u not in held] + [u for u in waiting if u in held]
    earliest = np.array([_hold_ends(agency.as_of, [holds.get(el.clients[i].client_id, agency.as_of)
                                                   for i in units[u].members], horizon_weeks) if u in held else 1
                         for u in queue], dtype=np.int64)
    position = positions(units, queue, el.n_workers)
    say("estimating placement dates")
    weeks = expected_weeks(free, el, cap, units, queue, now, replications=replications, seed=seed,
                           horizon_weeks=horizon_weeks, earliest=earliest)
    ordered = np.sort(weeks, axis=0)
    pick = {name: ordered[min(len(ordered) - 1, int(math.floor(q * (len(ordered) - 1) + 0.5)))]
            for name, q in (("early", EARLY_Q), ("median", 0.5), ("late", LATE_Q))}
    dates = {name: _dates(agency.as_of, value, horizon_weeks) for name, value in pick.items()}

    counts = np.diff(el.indptr)
    rows = []
    for q, u in enumerate(queue):
        for i in units[u].members:
            c = el.clients[i]
            rows.append({
                "client_id": c.client_id, "position": int(position[q]), "priority": c.priority,
                "referral_date": c.referral_date, "days_waiting": days_waiting(c.referral_date, agency.as_of),
                "reason": now.reasons.get(c.client_id, ""), "eligible_workers": int(counts[i]),
                "expected_placement": dates["median"].iloc[q], "expected_placement_early": dates["early"].iloc[q],
                "expected_placement_late": dates["late"].iloc[q],
                "next_review": next_review(c, agency.policy, agency.as_of),
                "languages": ";".join(c.languages), "area": c.area or "", "need_level": c.need_level.value,
                "status": c.status.value,
            })
    frame = pd.DataFrame(rows, columns=COLUMNS)
    for column in ("referral_date", "next_review", "expected_placement", "expected_placement_early",
                   "expected_placement_late"):
        frame[column] = pd.to_datetime(frame[column])
    for column in ("position", "priority", "days_waiting", "eligible_workers"):
        frame[column] = frame[column].astype("int64")
    return frame
