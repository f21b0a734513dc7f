"""Placement units: who is placed together tonight (a single client, or a whole family), and in what order.

Every client the run must find a worker for (a waiting client, or an active client *forced* off a worker
who is no longer eligible for them) belongs to exactly one unit. A unit is placed whole with one worker
or not at all; that is how `rule_family_one_worker` is enforced, in the greedy and in the model alike.

Ranking (objective 1 after the count): forced movers first (they already had a worker), then by priority
(larger is more urgent), then by days waiting since referral (a client with no referral_date counts as
referred today), then referral date and agency order as deterministic tie-breakers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from caseload.domain import Agency, NeedLevel, Status
from optimizer.eligibility import Eligibility

MAX_DAYS = 3650  # a referral older than ten years counts as ten years: keeps objective weights bounded


@dataclass(slots=True)
class Unit:
    """Clients placed together with one worker; ``eligible`` is the workers every rule allows for all."""

    members: tuple[int, ...]          # client indices in the Eligibility, agency order
    high: int
    low: int
    eligible: np.ndarray              # int32 worker indices, ascending
    priority: int
    forced: bool
    days: int                         # summed days waiting of the members (the objective's wait term)
    longest: int                      # days waiting of the longest-waiting member (the ranking's)
    referral: date | None             # earliest referral date of the members
    family_id: str | None = None
    family_worker: int = -1           # the worker already serving the family's kept members, -1 none
    family_block: str | None = None   # why the family cannot be placed at all (e.g. split across workers)
    tier: int = 0                     # rank of (forced, priority): larger first

    @property
    def size(self) -> int:
        return self.high + self.low

    def rank_key(self, first: int) -> tuple:
        """Sort key: forced, urgent, long-waiting first; referral date and agency order break ties."""
        return (-self.tier, -self.longest, self.referral or date.max, first)


def days_waiting(referral: date | None, as_of: date) -> int:
    if referral is None:
        return 0
    return max(0, min(MAX_DAYS, (as_of - referral).days))


def rule_family_one_worker(agency: Agency, el: Eligibility) -> list[Unit]:
    """Group the clients to place into units so that a family is served by one worker, placed whole.

    - members of a family (same family_id) that need a worker tonight form one unit;
    - if other members of the family stay with worker W, the unit may only go to W;
    - if the staying members are split across several workers already, the unit cannot be placed (the
      rule cannot be met without moving those members) and waits with that reason.
    Clients without a family_id are units of one.
    """
    to_place = [i for i, c in enumerate(el.clients)
                if c.status == Status.WAITING or (c.status == Status.ACTIVE and el.forced[i])]
    kept_workers: dict[str, set[int]] = {}
    for i, c in enumerate(el.clients):
        if c.family_id and c.status == Status.ACTIVE and not el.forced[i]:
            kept_workers.setdefault(c.family_id, set()).add(int(el.current[i]))
    groups: dict[str, list[int]] = {}
    singles: list[list[int]] = []
    for i in to_place:
        family = el.clients[i].family_id
        if family:
            groups.setdefault(family, []).append(i)
        else:
            singles.append([i])
    units = []
    ordered = sorted([(members[0], None, members) for members in singles]
                     + [(members[0], family, members) for family, members in groups.items()],
                     key=lambda t: t[0])
    for _, family, members in ordered:
        unit = _unit(agency, el, members, family)
        if family:
            workers = sorted(kept_workers.get(family, ()))
            if len(workers) > 1:
                names = ", ".join(el.workers[j].worker_id for j in workers)
                unit.family_block = f"family already served by more than one worker ({names})"
                unit.eligible = unit.eligible[:0]
            elif workers:
                unit.family_worker = workers[0]
                unit.eligible = unit.eligible[unit.eligible == workers[0]]
        units.append(unit)
    _assign_tiers(units)
    return units


def _unit(agency: Agency, el: Eligibility, members: list[int], family: str | None) -> Unit:
    clients = [el.clients[i] for i in members]
    eligible = el.eligible(members[0])
    for i in members[1:]:
        eligible = np.intersect1d(eligible, el.eligible(i), assume_unique=True)
    referrals = [c.referral_date for c in clients if c.referral_date is not None]
    return Unit(
        members=tuple(members),
        high=sum(c.need_level == NeedLevel.HIGH for c in clients),
        low=sum(c.need_level == NeedLevel.LOW for c in clients),
        eligible=eligible.astype(np.int32),
        priority=max(c.priority for c in clients),
        forced=bool(any(el.forced[i] for i in members)),
        days=sum(days_waiting(c.referral_date, agency.as_of) for c in clients),
        longest=max(days_waiting(c.referral_date, agency.as_of) for c in clients),
        referral=min(referrals) if referrals else None,
        family_id=family,
    )


def _assign_tiers(units: list[Unit]) -> None:
    """Tier 0 is the lowest priority present; forced movers get a tier above every priority."""
    priorities = sorted({u.priority for u in units})
    rank = {p: n for n, p in enumerate(priorities)}
    for u in units:
        u.tier = len(priorities) if u.forced else rank[u.priority]


def ranked(units: list[Unit]) -> list[int]:
    """Unit indices, most deserving first (see module docstring)."""
    return sorted(range(len(units)), key=lambda n: units[n].rank_key(units[n].members[0]))


def referral_order(units: list[Unit]) -> list[int]:
    """Unit indices as a coordinator's spreadsheet takes them: forced movers, then by referral date."""
    return sorted(range(len(units)),
                  key=lambda n: (not units[n].forced, units[n].referral or date.max, units[n].members[0]))
