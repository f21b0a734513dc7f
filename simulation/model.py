"""One replication of an agency's next months, as a SimPy discrete-event model.

What happens, in the model's terms (time is in months from the start):

* Referrals arrive as a Poisson process (rate per month from the scenario), each with a need level, a
  first language and whether they chose French service. All of a client's random draws (stay,
  dropout time, reassessment outcomes) are made when they arrive, from a stream of their month's own:
  two scenarios that differ only in funding see the same clients, so their difference is the funding's.
* A client waits until a worker has room under the ratio targets. Room is counted in integer capacity
  units so that `high/15 + low/50 <= fte` is exact, per worker. The waitlist is served strictly in order
  (clients returned by a departing worker first, then priority, then referral date): the head is placed
  with the worker with the most room, and nobody jumps a client who does not fit yet. French-service
  clients wait in their own line for French-capable workers; with `french_pool: shared` those workers
  also take other clients.
* A client stays until graduation (the drawn stay) or dropout, whichever comes first, and is reassessed
  every `reassessment_every_months` of service: a step down frees room, a step up may overload a worker
  until someone leaves (the framework's targets are guidance, not a wall).
* A waiting client gives up (reneges) after `waitlist_renege_months` of waiting.
* Staff follow the funding schedule: more funding opens positions filled after the hiring lag; less
  funding cancels open positions, then lays off the newest workers. Workers leave at the attrition rate
  and are replaced after the hiring lag; a leaver's clients go back to the head of the waitlist.

Why callbacks rather than one SimPy process per client: a replication of a 2,000-client agency handles
tens of thousands of events, and a generator per client costs several times a bare timeout with a
callback. Each active client has at most one pending event (its next reassessment change or its exit);
events made stale by a client being returned to the waitlist are recognised by an epoch counter.
"""

from __future__ import annotations

import gc
import math
import time
from dataclasses import dataclass
from fractions import Fraction
from heapq import heappop, heappush

import numpy as np
import simpy
from simpy.events import URGENT, Event, Timeout

from simulation.durations import sample, sample_given_elapsed
from simulation.inputs import ModelInputs
from simulation.start import HIGH, LOW

# Monthly metrics (rows of ReplicationResult.monthly). Stocks are end-of-month; flows are in-month.
METRICS = (
    "waitlist", "wait_mean_months", "wait_p90_months", "active_high", "active_low", "utilisation",
    "referrals", "placements", "graduations", "exits", "reneged", "fte", "cost", "returned",
    # With ModelInputs.waiting_ages, waits counted from the start (a client waiting since before it counts from
    # month 0): of the clients placed in the month, and of those still waiting at its end (time so far).
    "placed_since_start_p90_months", "waiting_since_start_p90_months",
)
STOCKS = ("waitlist", "active_high", "active_low", "utilisation", "fte")
# Per-replication totals over the horizon (and end-of-horizon stocks) for the summary.
TOTALS = (
    "referrals", "placements", "graduations", "exits", "reneged", "returned", "cost",
    "wait_mean_months", "wait_p90_months", "waitlist_end", "active_high_end", "active_low_end",
    "utilisation_end", "fte_end",
)
M = {name: i for i, name in enumerate(METRICS)}
T = {name: i for i, name in enumerate(TOTALS)}

WAITING, ACTIVE, GRADUATED, EXITED, RENEGED, NEW = range(6)  # NEW: drawn, not arrived yet
GENERAL, FRENCH = 0, 1
CHANGE, FINISH = 0, 1
TIER_RETURNED, TIER_REFERRAL = 0, 1
FTE_DECIMALS = 1000  # capacity units resolve FTE to 1/1000
EPS = 1e-9
NO_CHANGES: tuple = ()  # the path of a client whose level never changes (shared, never mutated)

# Stream numbers under a replication's seed: months of arrivals never shift each other's draws.
STREAM_START, STREAM_STAFF, STREAM_ARRIVALS = 0, 1, 2


def percentile(values: list[float], q: float) -> float:
    """numpy's default (linear) percentile, in plain Python: a month's few waits need no array."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100.0
    low = int(position)
    if low + 1 >= len(ordered):
        return ordered[-1]
    return ordered[low] + (ordered[low + 1] - ordered[low]) * (position - low)


class ConservationError(AssertionError):
    """The audit found a client counted twice or lost: a bug in the model, never a property of the data."""


class _Client:
    __slots__ = ("level", "queue", "priority", "referral", "stay", "graduates", "path", "pidx", "served",
                 "since", "worker", "state", "epoch", "seq", "language", "placed")

    def __init__(self, level: int, queue: int, priority: int, referral: float, stay: float,
                 graduates: bool, path: list, served: float, seq: int, language: int) -> None:
        self.level = level
        self.queue = queue
        self.priority = priority
        self.referral = referral
        self.stay = stay
        self.graduates = graduates
        self.path = path  # [(months of service, new level), ...] reassessments that change the level
        self.pidx = 0
        self.served = served  # months of service before `since`
        self.since = 0.0
        self.worker = -1
        self.state = NEW
        self.epoch = 0
        self.seq = seq
        self.language = language
        self.placed = False


@dataclass
class ReplicationResult:
    monthly: np.ndarray  # (len(METRICS), horizon + 1); month 0 holds the start's stocks, flows are NaN
    totals: np.ndarray  # (len(TOTALS),)
    waitlist_by_language: np.ndarray  # end of horizon, per ModelInputs.languages
    events: int
    start_total: int  # clients at the start (waiting + active), for the conservation check
    cpu_s: float = 0.0  # processor time of this replication (benchmarks: wall time hides a busy machine)


def capacity_unit(ratios: list[float]) -> int:
    """Capacity units per FTE such that one client of every ratio weighs a whole number of units.

    With the framework's 15 and 50, an FTE is 150,000 units, a high-need client 10,000 and a low-need
    client 3,000: the weighted caseload rule is checked in integers, with no drift from adding and
    removing 1/15ths millions of times.
    """
    unit = 1
    for ratio in ratios:
        unit = math.lcm(unit, Fraction(ratio).limit_denominator(1000).numerator)
    return unit * FTE_DECIMALS


class Replication:
    def __init__(self, inputs: ModelInputs, seed: int, replication: int, audit: bool = False) -> None:
        self.inp = inputs
        self.seed, self.rep = seed, replication
        self.audit = audit
        self.env = simpy.Environment()
        h = inputs.horizon
        self.monthly = np.full((len(METRICS), h + 1), np.nan)
        self.events = 0
        self.seq = 0
        self.all_clients: list[_Client] = []

        start = inputs.start_state
        ratios = [inputs.high_need_ratio, inputs.low_need_ratio]
        if start is not None:
            for w in start.workers:
                ratios += [r for r in (w.high_need_ratio, w.low_need_ratio) if r is not None]
        self.unit = capacity_unit(ratios)
        self.default_loads = self._loads(None, None)
        self.uniform_loads = True  # every worker weighs clients alike (no per-worker targets)

        # Workers (parallel lists; a removed worker keeps its index with alive False).
        self.cap: list[int] = []
        self.free: list[int] = []  # capacity units left under the targets (negative: overloaded)
        self.load: list[tuple[int, int]] = []
        self.fte: list[float] = []
        self.french: list[bool] = []
        self.alive: list[bool] = []
        self.worker_epoch: list[int] = []
        self.clients_of: list[dict[int, _Client]] = []
        self.serves: list[tuple[int, ...]] = []
        self.languages_of: list[frozenset[str] | None] = []
        # Lines of the waitlist: GENERAL and FRENCH, or one per language pool (ModelInputs.pools).
        self.pools = inputs.pools
        lines = len(self.pools) if self.pools else 2
        self.eligible: list[list[int]] = [[] for _ in range(lines)]
        self.pending: list[list] = []  # open positions: [fte, french, cancelled, languages]
        self.filled_fte = 0.0
        self.fte_area = 0.0
        self.fte_since = 0.0

        # The waitlist: one heap per line, and per line and need level whether nobody has room now.
        self.heaps: list[list] = [[] for _ in range(lines)]
        self.blocked = [[False, False] for _ in range(lines)]
        self.waiting = 0
        self.active = [0, 0]

        # Flows of the current month and of the horizon.
        self.flow = dict.fromkeys(("referrals", "placements", "graduations", "exits", "reneged", "returned"), 0)
        self.total = dict.fromkeys(self.flow, 0)
        self.waits: list[float] = []
        self.waits_since_start: list[float] = []
        self.all_waits: list[float] = []
        self.cost_total = 0.0
        self.start_total = 0

        self.rng_start = self._rng(STREAM_START)
        self.rng_staff = self._rng(STREAM_STAFF)
        self._cum_mix = np.cumsum(inputs.language_mix)
        self._cum_mix[-1] = 1.0
        self._fs_by_language = np.asarray(inputs.french_service_by_language)
        if self.pools:
            self._cum_pools = np.cumsum(inputs.pool_mix)
            self._cum_pools[-1] = 1.0
            self._pool_language = np.asarray(inputs.pool_language, dtype=np.int64)
            self._pool_french = np.array([p.french for p in self.pools], dtype=bool)
            start = inputs.start_state
            # Positions opened by more funding take today's workers' profiles in turn.
            self._profiles = [w.languages for w in start.workers] if start and start.workers else [frozenset()]

    # --- random streams ------------------------------------------------------------------------

    def _rng(self, *key: int) -> np.random.Generator:
        seq = np.random.SeedSequence(self.seed, spawn_key=(self.rep, *key))
        return np.random.Generator(np.random.PCG64(seq))

    # --- scheduling helpers ----------------------------------------------------------------------

    def _at(self, delay: float, callback, value=None, urgent: bool = False) -> Event:
        event = Event(self.env)
        event._ok = True
        event._value = value
        event.callbacks.append(callback)
        self.env.schedule(event, URGENT if urgent else 1, max(delay, 0.0))
        return event

    # --- workers ---------------------------------------------------------------------------------

    def _account_fte(self) -> None:
        now = self.env.now
        self.fte_area += self.filled_fte * (now - self.fte_since)
        self.fte_since = now

    def _loads(self, high_ratio: float | None, low_ratio: float | None) -> tuple[int, int]:
        high = Fraction(high_ratio or self.inp.high_need_ratio).limit_denominator(1000)
        low = Fraction(low_ratio or self.inp.low_need_ratio).limit_denominator(1000)
        return (self.unit * high.denominator // high.numerator, self.unit * low.denominator // low.numerator)

    def _lines_served(self, french: bool, languages: frozenset[str] | None) -> tuple[int, ...]:
        """The lines a worker takes clients from: French first when French-capable (as before pools)."""
        shared = self.inp.french_pool_shared
        if not self.pools:
            if french:
                return (FRENCH, GENERAL) if shared else (FRENCH,)
            return (GENERAL,)
        if languages is None:  # a funded position: the next of today's profiles
            languages = self._profiles[len(self.cap) % len(self._profiles)]
        french_lines = [q for q, p in enumerate(self.pools) if p.french and french]
        if french and not shared:
            return tuple(french_lines)
        return tuple(french_lines + [q for q, p in enumerate(self.pools)
                                     if not p.french and p.served_by(languages, french)])

    def _add_worker(self, fte: float, french: bool, ratios: tuple[float | None, float | None] = (None, None),
                    fill: bool = True, languages: frozenset[str] | None = None) -> int:
        self._account_fte()
        w = len(self.cap)
        self.cap.append(int(fte * self.unit + 0.5))
        self.free.append(self.cap[w])
        self.load.append(self._loads(*ratios))
        if self.load[w] != self.default_loads:
            self.uniform_loads = False
        self.fte.append(fte)
        self.french.append(french)
        self.alive.append(True)
        self.worker_epoch.append(0)
        self.clients_of.append({})
        serves = self._lines_served(french, languages)
        self.languages_of.append(languages)
        self.serves.append(serves)
        for q in serves:
            self.eligible[q].append(w)
        self.filled_fte += fte
        if self.inp.attrition_hazard > 0:
            leaves = self.rng_staff.exponential(1.0 / self.inp.attrition_hazard)
            self._at(leaves, self._on_leave, (w, 0))
        if fill:
            self._room(w)
        return w

    def _return_clients(self, w: int, keep_units: int) -> None:
        """Send a worker's clients back to the head of the waitlist, newest placement first."""
        clients = self.clients_of[w]
        now = self.env.now
        touched = set()
        while clients and self.cap[w] - self.free[w] > keep_units:
            _, c = clients.popitem()
            self.free[w] += self.load[w][c.level]
            self.active[c.level] -= 1
            c.served += now - c.since
            c.epoch += 1
            c.state = WAITING
            c.worker = -1
            self.waiting += 1
            self.flow["returned"] += 1
            heappush(self.heaps[c.queue], (TIER_RETURNED, -c.priority, c.referral, c.seq, c))
            touched.add(c.queue)
        for q in sorted(touched):
            self._drain(q)

    def _remove_worker(self, w: int) -> None:
        self._account_fte()
        self.alive[w] = False
        self.worker_epoch[w] += 1
        for q in self.serves[w]:
            self.eligible[q].remove(w)
        self.filled_fte -= self.fte[w]
        self.free[w] -= self.cap[w]
        self.cap[w] = 0
        self._return_clients(w, -1)

    def _shrink_worker(self, w: int, fte: float) -> None:
        self._account_fte()
        self.filled_fte -= self.fte[w] - fte
        self.fte[w] = fte
        cap = int(fte * self.unit + 0.5)
        self.free[w] += cap - self.cap[w]
        self.cap[w] = cap
        self._return_clients(w, self.cap[w])

    def _on_leave(self, event: Event) -> None:
        self.events += 1
        w, epoch = event._value
        if not self.alive[w] or self.worker_epoch[w] != epoch:
            return
        fte, french = self.fte[w], self.french[w]
        self._remove_worker(w)
        self._open_position(fte, french, self.languages_of[w])

    def _open_position(self, fte: float, french: bool, languages: frozenset[str] | None = None,
                       delay: float | None = None) -> None:
        position = [fte, french, False, languages]
        self.pending.append(position)
        self._at(self.inp.hiring_lag if delay is None else delay, self._on_hire, position)

    def _on_hire(self, event: Event) -> None:
        self.events += 1
        position = event._value
        if position[2]:
            return
        self.pending.remove(position)
        self._add_worker(position[0], position[1], languages=position[3])

    def _committed(self, french: bool | None = None) -> float:
        filled = sum(f for f, fr, a in zip(self.fte, self.french, self.alive, strict=True)
                     if a and (french is None or fr == french))
        waiting = sum(p[0] for p in self.pending if french is None or p[1] == french)
        return filled + waiting

    def _set_funding(self, target: float) -> None:
        """Move committed FTE (filled plus open positions) to the funded level, keeping the French share."""
        share = self.inp.french_fte_share
        committed = self._committed()
        if target > committed + EPS:
            # Whole positions (the last one partial), each French-capable if the French pool is further
            # below its share of the new funding than the other pool is below its own.
            extra = target - committed
            french_gap = share * target - self._committed(True)
            general_gap = (1 - share) * target - self._committed(False)
            while extra > EPS:
                size = min(1.0, extra)
                french = share > 0 and french_gap > general_gap
                self._open_position(size, french)
                if french:
                    french_gap -= size
                else:
                    general_gap -= size
                extra -= size
            return
        cut = committed - target
        while cut > EPS:
            excess_french = self._committed(True) - share * target
            excess_general = self._committed(False) - (1 - share) * target
            french = excess_french > excess_general
            if not self._cut_one(french, cut) and not self._cut_one(not french, cut):
                break
            cut = self._committed() - target

    def _cut_one(self, french: bool, cut: float) -> bool:
        """Cut up to `cut` FTE from one pool: open positions first, then the newest worker."""
        for position in reversed(self.pending):
            if position[1] == french and not position[2]:
                if position[0] <= cut + EPS:
                    position[2] = True
                    self.pending.remove(position)
                else:
                    position[0] -= cut
                return True
        for w in range(len(self.cap) - 1, -1, -1):
            if self.alive[w] and self.french[w] == french:
                if self.fte[w] <= cut + EPS:
                    self._remove_worker(w)
                else:
                    self._shrink_worker(w, self.fte[w] - cut)
                return True
        return False

    def _on_funding(self, event: Event) -> None:
        self.events += 1
        self._set_funding(event._value)

    # --- the waitlist ----------------------------------------------------------------------------

    def _best(self, q: int, level: int) -> int:
        """The eligible worker with the most room that can take a client of this level (-1: none)."""
        eligible, free, load = self.eligible[q], self.free, self.load
        if not eligible:
            return -1
        if self.uniform_loads:  # the worker with the most room fits the client, or nobody does
            w = max(eligible, key=free.__getitem__)
            return w if free[w] >= load[w][level] else -1
        best, best_free = -1, -1
        for w in eligible:
            room = free[w]
            if room > best_free and room >= load[w][level]:
                best, best_free = w, room
        return best

    def _drain(self, q: int, w: int = -1) -> None:
        """Place clients from the head of line q while someone has room (w: the worker that just got room).

        `blocked[q][level]` records that no eligible worker has room for that level; it stays true until
        some worker gains room, which is always signalled here with that worker as `w`, so a full scan
        of the workers is needed only when nothing is known.
        """
        heap, blocked = self.heaps[q], self.blocked[q]
        free, load = self.free, self.load
        while heap:
            c = heap[0][4]
            if c.state != WAITING:
                heappop(heap)  # gave up waiting since it was queued
                continue
            level = c.level
            if blocked[level]:
                if w >= 0 and free[w] >= load[w][level]:
                    heappop(heap)
                    self._place(c, w)
                    continue
                break
            best = self._best(q, level)
            if best < 0:
                blocked[level] = True
                break
            heappop(heap)
            self._place(c, best)
        if w >= 0:
            room = free[w]
            if blocked[HIGH] and room >= load[w][HIGH]:
                blocked[HIGH] = False
            if blocked[LOW] and room >= load[w][LOW]:
                blocked[LOW] = False

    def _room(self, w: int) -> None:
        """Worker w has more room than before: offer it to the lines it serves."""
        for q in self.serves[w]:
            self._drain(q, w)

    def _place(self, c: _Client, w: int) -> None:
        now = self.env.now
        c.state = ACTIVE
        c.worker = w
        c.since = now
        self.free[w] -= self.load[w][c.level]
        self.clients_of[w][c.seq] = c
        self.active[c.level] += 1
        self.waiting -= 1
        if not c.placed:
            c.placed = True
            wait = now - c.referral
            self.waits.append(wait)
            if self.inp.waiting_ages:
                self.waits_since_start.append(now - max(c.referral, 0.0))
            self.flow["placements"] += 1
        self._schedule_next(c)

    def _schedule_next(self, c: _Client) -> None:
        target, kind = c.stay, FINISH
        if c.pidx < len(c.path):
            offset = c.path[c.pidx][0]
            if offset < target:
                target, kind = offset, CHANGE
        delay = c.since + (target - c.served) - self.env.now
        event = Timeout(self.env, delay if delay > 0 else 0.0, (c, c.epoch, kind))
        event.callbacks.append(self._on_client)

    def _on_client(self, event: Event) -> None:
        self.events += 1
        c, epoch, kind = event._value
        if c.epoch != epoch:
            return  # returned to the waitlist since: the event was for a stay that was interrupted
        w = c.worker
        if kind == CHANGE:
            new = c.path[c.pidx][1]
            c.pidx += 1
            old = c.level
            c.level = new
            self.free[w] -= self.load[w][new] - self.load[w][old]
            self.active[old] -= 1
            self.active[new] += 1
            self._schedule_next(c)
            if new == LOW:
                self._room(w)
            return
        self.free[w] += self.load[w][c.level]
        del self.clients_of[w][c.seq]
        self.active[c.level] -= 1
        c.epoch += 1
        if c.graduates:
            c.state = GRADUATED
            self.flow["graduations"] += 1
        else:
            c.state = EXITED
            self.flow["exits"] += 1
        self._room(w)

    def _on_renege(self, event: Event) -> None:
        self.events += 1
        c, epoch = event._value
        if c.state != WAITING or c.epoch != epoch:
            return
        c.state = RENEGED
        self.waiting -= 1
        self.flow["reneged"] += 1
        self._drain(c.queue)

    def _enqueue_new(self, c: _Client) -> None:
        c.state = WAITING
        self.waiting += 1
        heappush(self.heaps[c.queue], (TIER_REFERRAL, -c.priority, c.referral, c.seq, c))

    def _patience(self, c: _Client) -> None:
        """If still waiting once the line has moved, the client will give up at referral + renege months.

        Scheduled only for clients not placed at once: most referrals to an agency with room never
        need the event.
        """
        renege = self.inp.renege_months
        if renege is not None and c.state == WAITING:
            self._at(c.referral + renege - self.env.now, self._on_renege, (c, c.epoch))

    # --- clients' draws --------------------------------------------------------------------------

    def _paths(self, level: np.ndarray, served: np.ndarray, stay: np.ndarray,
               rng: np.random.Generator) -> list[list]:
        """Reassessment outcomes that change each client's level, at multiples of the interval of service."""
        n = level.size
        paths: list = [NO_CHANGES] * n
        every = self.inp.reassess_every
        down, up = self.inp.step_down, self.inp.step_up
        if n == 0 or every is None or (down == 0 and up == 0):
            return paths
        first = np.floor(served / every + EPS) + 1  # the next reassessment's index for each client
        count = np.maximum(np.ceil(stay / every - EPS) - first, 0)
        k_max = int(count.max()) if n else 0
        if k_max == 0:
            return paths
        draws = rng.random((n, k_max))
        lv = level.astype(np.int8)
        for j in range(k_max):
            when = (first + j) * every
            due = when < stay
            u = draws[:, j]
            new = np.where(lv == HIGH, np.where(u < down, LOW, HIGH), np.where(u < up, HIGH, LOW))
            changed = due & (new != lv)
            lv = np.where(due, new, lv)
            for i in np.flatnonzero(changed).tolist():
                if paths[i] is NO_CHANGES:
                    paths[i] = []
                paths[i].append((float(when[i]), int(new[i])))
        return paths

    def _new_clients(self, level: np.ndarray, queue: np.ndarray, priority: np.ndarray, referral: np.ndarray,
                     served: np.ndarray, total: np.ndarray, language: np.ndarray,
                     rng: np.random.Generator) -> list[_Client]:
        """Clients with their stays: the drawn stay or a dropout, whichever comes first."""
        n = level.size
        hazard = self.inp.dropout_hazard
        dropout = served + (rng.exponential(1.0 / hazard, n) if hazard > 0 else np.full(n, np.inf))
        stay = np.minimum(total, dropout)
        graduates = total <= dropout
        paths = self._paths(level, served, stay, rng)
        out = []
        seq0 = self.seq
        for i, (lv, q, pr, ref, sv, st, gr, la) in enumerate(zip(
                level.tolist(), queue.tolist(), priority.tolist(), referral.tolist(), served.tolist(),
                stay.tolist(), graduates.tolist(), language.tolist(), strict=True)):
            out.append(_Client(lv, q, pr, ref, st, gr, paths[i], sv, seq0 + i, la))
        self.seq += n
        if self.audit:
            self.all_clients.extend(out)
        return out

    def _stays(self, level: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        n = level.size
        high = sample(self.inp.duration_high, n, rng)
        low = sample(self.inp.duration_low, n, rng)
        return np.where(level == HIGH, high, low)

    def _referrals(self, month: int) -> tuple[np.ndarray, list[_Client]]:
        """The month's referrals, drawn from the month's own stream (same clients whatever the funding)."""
        rng = self._rng(STREAM_ARRIVALS, month)
        n = int(rng.poisson(self.inp.rates[month]))
        times = month + np.sort(rng.random(n))
        level = np.where(rng.random(n) < self.inp.high_need_share, HIGH, LOW).astype(np.int8)
        if self.pools:  # a pool by its share of referrals; its language and French service come with it
            queue = np.minimum(np.searchsorted(self._cum_pools, rng.random(n), side="right"),
                               len(self._cum_pools) - 1)
            language = self._pool_language[queue]
        else:
            language = np.minimum(np.searchsorted(self._cum_mix, rng.random(n), side="right"),
                                  len(self._cum_mix) - 1)
            queue = (rng.random(n) < self._fs_by_language[language]).astype(np.int8)
        total = self._stays(level, rng)
        zeros = np.zeros(n)
        clients = self._new_clients(level, queue, np.zeros(n, dtype=np.int64), times, zeros,
                                    total, language, rng)
        return times, clients

    def _arrivals(self):
        env = self.env
        for month in range(self.inp.horizon):
            times, clients = self._referrals(month)
            for t, c in zip(times.tolist(), clients, strict=True):
                if t > env.now:
                    yield env.timeout(t - env.now)
                self.events += 1
                self.flow["referrals"] += 1
                self._enqueue_new(c)
                self._drain(c.queue)
                self._patience(c)

    # --- the start -------------------------------------------------------------------------------

    def _load_start(self) -> None:
        inp, st = self.inp, self.inp.start_state
        rng = self.rng_start
        if st is None:
            fte = inp.funding[0][1] or 0.0
            french_fte = inp.french_fte_share * fte
            for french, amount in ((True, french_fte), (False, fte - french_fte)):
                while amount > EPS:
                    size = min(1.0, amount)
                    self._add_worker(size, french, fill=False)
                    amount -= size
            return
        for sw in st.workers:
            if sw.joins_month > 0:  # a hire who starts later holds an open position until then
                self._open_position(sw.fte, sw.french, sw.languages, delay=sw.joins_month)
            else:
                self._add_worker(sw.fte, sw.french, (sw.high_need_ratio, sw.low_need_ratio), fill=False,
                                 languages=sw.languages)

        # Active clients: remaining stay given the months already served.
        act = st.active
        if act.size:
            elapsed = act.months.copy()
            unknown = np.isnan(elapsed)
            total = np.empty(act.size)
            for level, dist in ((HIGH, inp.duration_high), (LOW, inp.duration_low)):
                known = (act.level == level) & ~unknown
                total[known] = sample_given_elapsed(dist, np.maximum(elapsed[known], 0.0), rng)
                guess = (act.level == level) & unknown
                drawn = sample(dist, int(guess.sum()), rng)
                position = rng.random(int(guess.sum()))
                total[guess] = drawn
                elapsed[guess] = drawn * position  # unknown intake: somewhere in a typical stay
            elapsed = np.maximum(elapsed, 0.0)
            queue = act.pool if self.pools else (act.french & (inp.french_fte_share > 0)).astype(np.int8)
            clients = self._new_clients(act.level.astype(np.int8), queue, act.priority, np.zeros(act.size),
                                        elapsed, total, act.language, rng)
            for c, w in zip(clients, act.worker.tolist(), strict=True):
                if w < 0 or not self.alive[w]:
                    w = self._least_loaded(c.queue)
                c.placed = True
                c.state = ACTIVE
                c.worker = w
                self.free[w] -= self.load[w][c.level]
                self.clients_of[w][c.seq] = c
                self.active[c.level] += 1
                self._schedule_next(c)

        wait = st.waiting
        if wait.size:
            referral = -np.nan_to_num(wait.months, nan=0.0)
            total = self._stays(wait.level, rng)
            queue = wait.pool if self.pools else wait.french.astype(np.int8)
            clients = self._new_clients(wait.level.astype(np.int8), queue, wait.priority,
                                        referral, np.zeros(wait.size), total, wait.language, rng)
            for c in clients:
                self._enqueue_new(c)
                self._patience(c)
        self.start_total = self.waiting + sum(self.active)

    def _least_loaded(self, q: int) -> int:
        if self.pools:  # an active client stays with someone, even one who could not take them on today
            candidates = self.eligible[q] or [w for w, a in enumerate(self.alive) if a]
        else:
            candidates = self.eligible[q] or self.eligible[GENERAL] or self.eligible[FRENCH]
        if not candidates:
            self._add_worker(0.0, False, fill=False, languages=frozenset())  # a zero-FTE placeholder
            candidates = [len(self.cap) - 1]
        return max(candidates, key=lambda w: (self.free[w], -w))

    # --- recording -------------------------------------------------------------------------------

    def _stocks(self, month: int) -> None:
        row = self.monthly
        row[M["waitlist"], month] = self.waiting
        row[M["active_high"], month] = self.active[HIGH]
        row[M["active_low"], month] = self.active[LOW]
        capacity = sum(c for c, a in zip(self.cap, self.alive, strict=True) if a)
        load = sum(c - f for c, f in zip(self.cap, self.free, strict=True))
        row[M["utilisation"], month] = load / capacity if capacity > 0 else np.nan

    def _on_month_end(self, event: Event) -> None:
        self.events += 1
        month = event._value
        self._account_fte()
        row = self.monthly
        self._stocks(month)
        fte = self.fte_area  # FTE-months over one month: the month's average filled FTE
        row[M["fte"], month] = fte
        cost = fte * self.inp.cost_per_fte[month - 1] / 12.0
        row[M["cost"], month] = cost
        self.cost_total += cost
        self.fte_area = 0.0
        for name, value in self.flow.items():
            row[M[name], month] = value
            self.total[name] += value
            self.flow[name] = 0
        if self.waits:
            waits = self.waits
            row[M["wait_mean_months"], month] = sum(waits) / len(waits)
            row[M["wait_p90_months"], month] = percentile(waits, 90.0)
            self.all_waits.extend(waits)
            self.waits = []
        if self.inp.waiting_ages:
            self._waiting_ages(month)
        if self.audit:
            self._check(month)

    def _waiting_ages(self, month: int) -> None:
        """90th percentiles of waits counted from the start: of the month's placements, and of the waitlist so far.

        Waits of clients placed in a month miss whoever is never placed (a pool nobody serves); the
        waitlist's time so far counts them. Counting from the start leaves out what today's waitlist has
        already waited, which no staffing decision can undo (0 when nobody was placed or nobody waits).
        """
        now = self.env.now
        ages = [now - max(entry[4].referral, 0.0) for heap in self.heaps for entry in heap
                if entry[4].state == WAITING]
        self.monthly[M["waiting_since_start_p90_months"], month] = percentile(ages, 90.0) if ages else 0.0
        placed = self.waits_since_start
        self.monthly[M["placed_since_start_p90_months"], month] = percentile(placed, 90.0) if placed else 0.0
        self.waits_since_start = []

    def _check(self, month: int) -> None:
        """Recount everyone from their own state and compare with the running counters."""
        states = np.bincount([c.state for c in self.all_clients], minlength=6)
        arrived = self.start_total + self.total["referrals"]
        done = self.total["graduations"] + self.total["exits"] + self.total["reneged"]
        problems = []
        if len(self.all_clients) - states[NEW] != arrived:
            problems.append(f"{len(self.all_clients) - states[NEW]} clients arrived but {arrived} counted")
        if states[WAITING] != self.waiting:
            problems.append(f"waiting {self.waiting} != {states[WAITING]} counted one by one")
        if states[ACTIVE] != sum(self.active):
            problems.append(f"active {sum(self.active)} != {states[ACTIVE]} counted one by one")
        for state, name in ((GRADUATED, "graduations"), (EXITED, "exits"), (RENEGED, "reneged")):
            if states[state] != self.total[name]:
                problems.append(f"{name} {self.total[name]} != {states[state]} counted one by one")
        if arrived != self.waiting + sum(self.active) + done:
            problems.append(f"arrived {arrived} != waiting + active + left {self.waiting + sum(self.active) + done}")
        queued = [id(entry[4]) for heap in self.heaps for entry in heap if entry[4].state == WAITING]
        if len(queued) != self.waiting or len(set(queued)) != len(queued):
            problems.append(f"{self.waiting} waiting but {len(queued)} places in the lines")
        seen: set[int] = set()
        for w, clients in enumerate(self.clients_of):
            if sum(self.load[w][c.level] for c in clients.values()) != self.cap[w] - self.free[w]:
                problems.append(f"worker {w}: used units do not match its clients")
            for c in clients.values():
                if id(c) in seen or c.state != ACTIVE or c.worker != w:
                    problems.append("a client is with two workers or is not active")
                seen.add(id(c))
        if len(seen) != sum(self.active):
            problems.append("active clients not all with a worker")
        if problems:
            raise ConservationError(f"month {month}, replication {self.rep}: " + "; ".join(problems))

    # --- run -------------------------------------------------------------------------------------

    def run(self) -> ReplicationResult:
        inp = self.inp
        self._load_start()
        self._account_fte()
        self._stocks(0)
        self.monthly[M["fte"], 0] = self.filled_fte
        if inp.waiting_ages:
            self._waiting_ages(0)
        for month, fte in inp.funding:
            if fte is not None:
                self._at(float(month), self._on_funding, fte)
        self.env.process(self._arrivals())
        self._at(0.0, lambda _e: [self._drain(q) for q in range(len(self.heaps))])
        last = None
        for month in range(1, inp.horizon + 1):
            last = self._at(float(month), self._on_month_end, month, urgent=True)
        self.env.run(until=last)
        return self._result()

    def _result(self) -> ReplicationResult:
        h = self.inp.horizon
        totals = np.full(len(TOTALS), np.nan)
        for name in ("referrals", "placements", "graduations", "exits", "reneged", "returned"):
            totals[T[name]] = self.total[name]
        totals[T["cost"]] = self.cost_total
        if self.all_waits:
            waits = np.asarray(self.all_waits)
            totals[T["wait_mean_months"]] = waits.mean()
            totals[T["wait_p90_months"]] = np.percentile(waits, 90)
        for name in ("waitlist", "active_high", "active_low", "utilisation", "fte"):
            totals[T[f"{name}_end"]] = self.monthly[M[name], h]
        by_language = np.zeros(len(self.inp.languages))
        for heap in self.heaps:
            for entry in heap:
                c = entry[4]
                if c.state == WAITING and c.referral <= h:
                    by_language[c.language] += 1
        return ReplicationResult(self.monthly, totals, by_language, self.events, self.start_total)


def run_replication(inputs: ModelInputs, seed: int, replication: int, audit: bool = False) -> ReplicationResult:
    """Replication number `replication` under `seed`: the same numbers whichever process runs it.

    The cyclic garbage collector is paused for the run: tens of thousands of long-lived client objects
    make its passes cost a tenth of the run, and the replication's cycles are freed afterwards anyway.
    """
    enabled = gc.isenabled()
    gc.disable()
    began = time.process_time()
    try:
        result = Replication(inputs, seed, replication, audit).run()
        result.cpu_s = time.process_time() - began
        return result
    finally:
        if enabled:
            gc.enable()
