"""Today's agency as the simulation's first day: who is active with whom, who waits, who works.

A projection that starts from an empty agency answers a question nobody asked; funders want to know
what happens to *this* waitlist. `start_state_from_agency` turns an `Agency` (from the data-contract
reader) into plain arrays the model loads, and the referral mix (languages, French service, need level)
that new referrals are drawn from when the scenario does not set it. No client ids are kept.

Language pools: clients who can be served by the same workers as far as language and French service go
(the languages they speak, as primary subtags, and whether they chose French service) form one pool. A
pool's share of new referrals is its share of today's waitlist and of the clients referred in the last
year, so a projection with `language_pools` sees a Tigrinya waitlist that only a Tigrinya speaker clears.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np

from caseload.domain import Agency, Client, NeedLevel, Worker
from caseload.languages import primary
from caseload.validation import InputError

DAYS_PER_MONTH = 365.2425 / 12
HIGH, LOW = 0, 1  # need levels as the model stores them
FRENCH_CODE = "fr"
RECENT_REFERRAL_DAYS = 365  # referrals of the last year shape the pools' shares of new referrals


@dataclass(frozen=True, slots=True)
class StartWorker:
    fte: float
    french: bool
    high_need_ratio: float | None = None  # the worker's own target, overriding the policy
    low_need_ratio: float | None = None
    languages: frozenset[str] = frozenset()  # primary subtags (French included when French-capable)
    joins_month: float = 0.0  # a hire who starts later (months from the start): an open position until then


@dataclass(frozen=True, slots=True)
class Pool:
    """Clients alike for who may serve them: the languages they speak and whether they chose French service."""

    languages: frozenset[str]
    french: bool

    def served_by(self, languages: frozenset[str], french: bool) -> bool:
        """The optimizer's French-service and shared-language rules, on a pool (no area, travel or gender)."""
        if self.french:
            return french
        return bool(self.languages & languages)


@dataclass(frozen=True)
class StartGroup:
    """Clients of one status as parallel arrays (one entry per client)."""

    level: np.ndarray  # HIGH or LOW
    french: np.ndarray  # bool: chose French service
    priority: np.ndarray  # int
    language: np.ndarray  # index into StartState.languages
    months: np.ndarray  # waiting: months since referral; active: months since intake (NaN: unknown)
    worker: np.ndarray  # active: index into StartState.workers (-1: not found); waiting: -1
    pool: np.ndarray  # index into StartState.pools

    @property
    def size(self) -> int:
        return int(self.level.size)

    @classmethod
    def empty(cls) -> StartGroup:
        return cls(*(np.zeros(0, dtype=t) for t in (np.int8, bool, np.int64, np.int32, float, np.int32, np.int32)))


@dataclass(frozen=True)
class StartState:
    as_of: date
    workers: tuple[StartWorker, ...]
    active: StartGroup
    waiting: StartGroup
    languages: tuple[str, ...]
    language_mix: np.ndarray  # share of clients by first language
    french_service_by_language: np.ndarray  # share choosing French service, per first language
    high_need_share: float | None
    high_need_ratio: float
    low_need_ratio: float
    notes: tuple[str, ...] = field(default=())
    pools: tuple[Pool, ...] = field(default=())
    pool_mix: np.ndarray = field(default_factory=lambda: np.zeros(0))  # share of new referrals per pool
    pool_language: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))  # commonest first

    @property
    def fte(self) -> float:
        return float(sum(w.fte for w in self.workers))

    @property
    def french_fte_share(self) -> float:
        total = self.fte
        return float(sum(w.fte for w in self.workers if w.french) / total) if total > 0 else 0.0

    @property
    def french_service_share(self) -> float:
        return float(np.dot(self.language_mix, self.french_service_by_language)) if self.languages else 0.0


def _months(later: date, earlier: date | None) -> float:
    if earlier is None:
        return float("nan")
    return (later - earlier).days / DAYS_PER_MONTH


def worker_pool_languages(worker: Worker) -> frozenset[str]:
    """A worker's languages as primary subtags; a French-capable worker speaks French."""
    codes = {primary(code) for code in worker.languages}
    if worker.french:
        codes.add(FRENCH_CODE)
    return frozenset(codes)


def start_worker(worker: Worker, joins_month: float = 0.0) -> StartWorker:
    """A worker as the simulation holds one (a hire may join after the start)."""
    return StartWorker(worker.fte, worker.french, worker.high_need_ratio, worker.low_need_ratio,
                       worker_pool_languages(worker), joins_month)


def client_pool(client: Client) -> Pool:
    return Pool(frozenset(primary(code) for code in client.languages), client.french_service)


def start_state_from_agency(agency: Agency, start: date | None = None) -> StartState:
    """The simulation's day 0 from an agency's clients and workers (dates measured from `start`)."""
    start = start or agency.as_of
    workers = tuple(start_worker(w) for w in agency.workers)
    index = {w.worker_id: i for i, w in enumerate(agency.workers)}
    pool = agency.active + agency.waiting
    firsts = [c.languages[0] if c.languages else "und" for c in pool]
    counts = Counter(firsts)
    languages = tuple(sorted(counts, key=lambda lang: (-counts[lang], lang)))
    lang_index = {lang: i for i, lang in enumerate(languages)}
    mix = np.array([counts[lang] for lang in languages], dtype=float)
    mix = mix / mix.sum() if mix.size else mix
    french_counts = Counter(first for first, c in zip(firsts, pool, strict=True) if c.french_service)
    by_language = np.array([french_counts[lang] / counts[lang] for lang in languages], dtype=float)

    # Pools, and their shares of new referrals: today's waitlist and the last year's referrals.
    recent = [c for c in agency.clients if c.status.value != "waiting" and c.referral_date is not None
              and 0 <= (start - c.referral_date).days <= RECENT_REFERRAL_DAYS]
    referred = agency.waiting + recent or pool
    pool_of = {}
    for c in pool + referred:
        pool_of.setdefault(client_pool(c), len(pool_of))
    pools = tuple(pool_of)
    pool_counts = Counter(pool_of[client_pool(c)] for c in referred)
    pool_mix = np.array([pool_counts[p] for p in range(len(pools))], dtype=float)
    pool_mix = pool_mix / pool_mix.sum() if pool_mix.sum() > 0 else pool_mix
    firsts_by_pool: dict[int, Counter] = {}
    for c in pool + referred:
        first = c.languages[0] if c.languages else "und"
        firsts_by_pool.setdefault(pool_of[client_pool(c)], Counter())[first] += 1
    pool_language = np.array([lang_index.get(firsts_by_pool[p].most_common(1)[0][0], 0)
                              for p in range(len(pools))], dtype=np.int32)

    def group(clients: list, active: bool) -> StartGroup:
        if not clients:
            return StartGroup.empty()
        return StartGroup(
            level=np.array([HIGH if c.need_level == NeedLevel.HIGH else LOW for c in clients], dtype=np.int8),
            french=np.array([c.french_service for c in clients], dtype=bool),
            priority=np.array([c.priority for c in clients], dtype=np.int64),
            language=np.array([lang_index[c.languages[0] if c.languages else "und"] for c in clients],
                              dtype=np.int32),
            months=np.array([_months(start, c.intake_date if active else c.referral_date) for c in clients],
                            dtype=float),
            worker=np.array([index.get(c.worker_id, -1) if active else -1 for c in clients], dtype=np.int32),
            pool=np.array([pool_of[client_pool(c)] for c in clients], dtype=np.int32),
        )

    notes = list(agency.policy.deviations())
    unknown = sum(1 for c in agency.active if c.worker_id not in index)
    if unknown:
        notes.append(f"{unknown} active client(s) name a worker not in the workers file: "
                     "they are given to the least-loaded eligible worker")
    on_leave = sum(1 for w in agency.workers if not w.available)
    if on_leave:
        notes.append(f"{on_leave} worker(s) on leave are simulated as available (leave is not modelled)")
    high_share = None
    if pool:
        high_share = sum(1 for c in pool if c.need_level == NeedLevel.HIGH) / len(pool)
    return StartState(
        as_of=start,
        workers=workers,
        active=group(agency.active, True),
        waiting=group(agency.waiting, False),
        languages=languages,
        language_mix=mix,
        french_service_by_language=by_language,
        high_need_share=high_share,
        high_need_ratio=agency.policy.high_need_ratio,
        low_need_ratio=agency.policy.low_need_ratio,
        notes=tuple(notes),
        pools=pools,
        pool_mix=pool_mix,
        pool_language=pool_language,
    )


def load_start_state(folder: Path, start: date | None = None) -> StartState:
    """Read a data-contract folder with the project's reader; its errors surface as `ValidationFailed`."""
    from caseload.reader import load_agency
    from caseload.validation import ValidationFailed

    if not folder.is_dir():
        raise ValidationFailed([InputError(str(folder), None, "start_from", None, "folder does not exist")])
    agency = load_agency(folder, as_of=start)
    return start_state_from_agency(agency, start)
