"""The planner's vocabulary: clients, workers, the policy and an agency's state on one night.

These types are what every reader produces (CSV/xlsx files, the store, the app's tables) and what the
optimizer and the simulation consume, so the optimizer never sees raw text or spreadsheet quirks.
Languages are already normalised BCP 47 tags (see `caseload.languages`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum


class NeedLevel(StrEnum):
    HIGH = "high"
    LOW = "low"


class Status(StrEnum):
    WAITING = "waiting"
    ACTIVE = "active"
    GRADUATED = "graduated"
    EXITED = "exited"


class Decision(StrEnum):
    KEPT = "kept"
    NEW = "new"
    MOVED = "moved"
    WAITING = "waiting"


@dataclass(frozen=True, slots=True)
class Client:
    client_id: str
    need_level: NeedLevel
    languages: tuple[str, ...]
    french_service: bool = False
    latitude: float | None = None
    longitude: float | None = None
    area: str | None = None
    family_id: str | None = None
    status: Status = Status.WAITING
    worker_id: str | None = None
    referral_date: date | None = None
    intake_date: date | None = None
    priority: int = 0
    needs: frozenset[str] = frozenset()
    worker_gender_preference: str | None = None
    excluded_workers: frozenset[str] = frozenset()
    last_review_date: date | None = None

    @property
    def has_location(self) -> bool:
        return self.latitude is not None and self.longitude is not None


@dataclass(frozen=True, slots=True)
class Worker:
    worker_id: str
    fte: float
    languages: tuple[str, ...]
    french: bool = False
    latitude: float | None = None
    longitude: float | None = None
    areas: frozenset[str] = frozenset()
    max_travel_km: float | None = None
    specializations: frozenset[str] = frozenset()
    gender: str | None = None
    available: bool = True
    high_need_ratio: float | None = None
    low_need_ratio: float | None = None
    max_new_per_week: int | None = None

    @property
    def has_location(self) -> bool:
        return self.latitude is not None and self.longitude is not None


# The IRCC Case Management Framework (2023), Annex B: the numbers a deviation is measured against.
FRAMEWORK_HIGH_NEED_RANGE = (10.0, 20.0)
FRAMEWORK_HIGH_NEED_RATIO = 15.0
FRAMEWORK_LOW_NEED_RATIO = 50.0


@dataclass(frozen=True, slots=True)
class Policy:
    high_need_ratio: float = FRAMEWORK_HIGH_NEED_RATIO
    low_need_ratio: float = FRAMEWORK_LOW_NEED_RATIO
    max_moves_share: float = 0.02
    keep_on_leave: bool = True
    travel: str = "haversine"
    time_limit_s: float = 60.0
    stage_gap: float = 0.005  # a later objective stage stops within this share of its proven bound
    moves_window_days: int = 30
    waitlist_review_weeks: int = 4
    reassessment_every_months: int = 3
    expected_duration_high_months: float = 16.0
    expected_duration_low_months: float = 12.0
    cost_per_fte: float = 78_000.0

    def expected_duration_months(self, need_level: str) -> float:
        """Planned months in case management until graduation, for expected exit dates."""
        return self.expected_duration_high_months if need_level == "high" else self.expected_duration_low_months

    def deviations(self) -> list[str]:
        """Where the policy departs from the framework's targets: shown to the user, never silent."""
        notes = []
        low, high = FRAMEWORK_HIGH_NEED_RANGE
        if not low <= self.high_need_ratio <= high:
            notes.append(
                f"high_need_ratio {self.high_need_ratio:g} is outside the framework's range {low:g}-{high:g}"
            )
        elif self.high_need_ratio != FRAMEWORK_HIGH_NEED_RATIO:
            notes.append(
                f"high_need_ratio {self.high_need_ratio:g} differs from the framework's default "
                f"{FRAMEWORK_HIGH_NEED_RATIO:g}"
            )
        if self.low_need_ratio != FRAMEWORK_LOW_NEED_RATIO:
            notes.append(
                f"low_need_ratio {self.low_need_ratio:g} differs from the framework's target "
                f"{FRAMEWORK_LOW_NEED_RATIO:g}"
            )
        return notes

    def ratios_for(self, worker: Worker) -> tuple[float, float]:
        """(high, low) clients-per-FTE targets for a worker: the worker's own override the policy's."""
        return (
            worker.high_need_ratio if worker.high_need_ratio is not None else self.high_need_ratio,
            worker.low_need_ratio if worker.low_need_ratio is not None else self.low_need_ratio,
        )


@dataclass(frozen=True, slots=True)
class Candidate:
    """A position the agency could fund (data contract, candidates): a worker profile with a price.

    `annual_cost` is for one hire; None means the policy's cost_per_fte x fte. `max_hires` None: no limit.
    """

    candidate_id: str
    fte: float
    languages: tuple[str, ...]
    french: bool = False
    latitude: float | None = None
    longitude: float | None = None
    areas: frozenset[str] = frozenset()
    max_travel_km: float | None = None
    specializations: frozenset[str] = frozenset()
    gender: str | None = None
    annual_cost: float | None = None
    max_hires: int | None = None

    def cost(self, policy: Policy) -> float:
        """A year's cost of one hire of this kind."""
        return self.annual_cost if self.annual_cost is not None else policy.cost_per_fte * self.fte

    def hire(self, n: int) -> Worker:
        """The n-th hire of this kind (1-based) as a worker: `HIRE-<candidate_id>-<n>` (data contract)."""
        return Worker(
            worker_id=f"HIRE-{self.candidate_id}-{n}", fte=self.fte, languages=self.languages, french=self.french,
            latitude=self.latitude, longitude=self.longitude, areas=self.areas, max_travel_km=self.max_travel_km,
            specializations=self.specializations, gender=self.gender,
        )


class OverrideAction(StrEnum):
    PIN = "pin"        # serve with worker_id (placed, or moved if active)
    FORBID = "forbid"  # never worker_id
    HOLD = "hold"      # do not place this client now
    KEEP = "keep"      # an active client is never moved


@dataclass(frozen=True, slots=True)
class Override:
    """A coordinator's decision, a hard rule for every run until removed or lapsed (data contract)."""

    client_id: str
    action: OverrideAction
    reason: str
    worker_id: str | None = None
    set_by: str | None = None
    until: date | None = None

    def applies_on(self, day: date) -> bool:
        """An override lapses after its `until` date."""
        return self.until is None or day <= self.until


@dataclass(slots=True)
class Agency:
    """Everything the nightly run needs: who is waiting, who is served by whom, and the rules."""

    clients: list[Client]
    workers: list[Worker]
    policy: Policy = field(default_factory=Policy)
    as_of: date = field(default_factory=date.today)
    overrides: list[Override] = field(default_factory=list)
    # Optional moves already made in the policy's moves_window_days before this run (counted from the store's
    # history; 0 for files without a store): tonight's move budget is what the window has left.
    moves_used: int = 0

    @property
    def live_overrides(self) -> list[Override]:
        """The overrides in force on the run's date (lapsed ones stop applying)."""
        return [o for o in self.overrides if o.applies_on(self.as_of)]

    @property
    def waiting(self) -> list[Client]:
        return [c for c in self.clients if c.status == Status.WAITING]

    @property
    def active(self) -> list[Client]:
        return [c for c in self.clients if c.status == Status.ACTIVE]


@dataclass(frozen=True, slots=True)
class Assignment:
    """One row of assignments.csv: where a client stands after the run, and why."""

    client_id: str
    worker_id: str | None
    decision: Decision
    reason: str = ""
    travel_km: float | None = None
    language: str | None = None
