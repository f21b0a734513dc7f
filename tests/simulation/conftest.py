"""Scenarios and agencies built in code for the simulation's tests (nothing personal, nothing committed)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from caseload.domain import Agency, Client, NeedLevel, Policy, Status, Worker
from simulation.schema import Scenario, scenario_from_dict

START = date(2027, 1, 1)


def make_scenario(**changes: Any) -> Scenario:
    """A small valid scenario (no start_from) with `changes` applied to its top-level keys."""
    data: dict[str, Any] = {
        "name": "test",
        "start": START,
        "horizon_months": 24,
        "replications": 4,
        "seed": 5,
        "referrals_per_month": 30,
        "high_need_share": 0.35,
        "funding": [{"month": 0, "fte": 14, "cost_per_fte": 78000}],
    }
    data.update(changes)
    return scenario_from_dict(data)


def mmc_scenario(fte: float, ratio: float, arrivals: float, mean_stay: float, horizon: int, **changes: Any
                 ) -> Scenario:
    """The textbook case: one need level, exponential stays, nothing but arrivals and graduations."""
    exponential = {"distribution": "exponential", "mean": mean_stay}
    return make_scenario(
        horizon_months=horizon, referrals_per_month=arrivals, high_need_share=1.0,
        duration_months={"high": exponential, "low": exponential},
        reassessment_every_months=None, dropout_per_month=0, waitlist_renege_months=None,
        attrition_per_year=0, targets={"high_need_ratio": ratio, "low_need_ratio": 50},
        funding=[{"month": 0, "fte": fte, "cost_per_fte": 78000}], **changes,
    )


def make_agency(active: int = 120, waiting: int = 30, workers: int = 6, french_workers: int = 2) -> Agency:
    """A small agency: workers of 1 FTE (some French-capable), clients active with them and waiting."""
    staff = [Worker(f"w{i}", 1.0 if i % 3 else 0.8, ("en", "fr") if i < french_workers else ("en", "ar"),
                    french=i < french_workers) for i in range(workers)]
    clients = []
    for i in range(active):
        french = i % 10 == 0
        w = (i % french_workers) if french else french_workers + i % (workers - french_workers)
        clients.append(Client(
            f"a{i}", NeedLevel.HIGH if i % 3 == 0 else NeedLevel.LOW, ("fr",) if french else ("ar", "en"),
            french_service=french, status=Status.ACTIVE, worker_id=f"w{w}",
            referral_date=START - timedelta(days=400), intake_date=START - timedelta(days=10 + 3 * i),
        ))
    for i in range(waiting):
        clients.append(Client(
            f"q{i}", NeedLevel.HIGH if i % 2 else NeedLevel.LOW, ("es", "en"), french_service=i % 7 == 0,
            referral_date=START - timedelta(days=5 * i), priority=1 if i == waiting - 1 else 0,
        ))
    return Agency(clients, staff, Policy(), as_of=START)


@pytest.fixture
def agency() -> Agency:
    return make_agency()
