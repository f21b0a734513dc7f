"""Hypothesis strategies: small random agencies that hit every rule (and its edge cases) often."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import strategies as st

from caseload.domain import Agency, Client, NeedLevel, Policy, Status, Worker
from tests.optimizer.agencies import AS_OF

LANGUAGES = ("en", "ar", "ti", "fr", "fa")
AREAS = ("M1B", "M2N", "K1N")
NEEDS = ("gbv", "youth", "senior")


def _coords(draw) -> tuple[float | None, float | None]:
    if draw(st.booleans()):
        return None, None
    return (45.40 + draw(st.integers(0, 40)) / 100, -75.70 + draw(st.integers(0, 40)) / 100)


@st.composite
def workers(draw, n: int) -> list[Worker]:
    out = []
    for j in range(n):
        lat, lon = _coords(draw)
        out.append(Worker(
            worker_id=f"W{j}",
            fte=draw(st.sampled_from([0.2, 0.5, 1.0])),
            languages=tuple(dict.fromkeys(("en",) * draw(st.sampled_from([0, 1, 1]))
                                          + tuple(draw(st.lists(st.sampled_from(LANGUAGES), min_size=1,
                                                                max_size=2, unique=True))))),
            french=draw(st.booleans()),
            latitude=lat, longitude=lon,
            areas=frozenset(draw(st.lists(st.sampled_from(AREAS), max_size=2, unique=True))),
            max_travel_km=draw(st.sampled_from([None, 10.0, 30.0])),
            specializations=frozenset(draw(st.lists(st.sampled_from(NEEDS), max_size=2, unique=True))),
            gender=draw(st.sampled_from([None, "female", "male"])),
            available=draw(st.sampled_from([True, True, True, False])),
            high_need_ratio=draw(st.sampled_from([None, None, 4.0, 12.5])),
            low_need_ratio=draw(st.sampled_from([None, None, 10.0])),
            max_new_per_week=draw(st.sampled_from([None, None, None, 0, 1, 2])),
        ))
    return out


@st.composite
def agencies(draw, max_clients: int = 12, max_workers: int = 4) -> Agency:
    ws = draw(workers(draw(st.integers(1, max_workers))))
    ids = [w.worker_id for w in ws]
    clients = []
    for i in range(draw(st.integers(0, max_clients))):
        status = draw(st.sampled_from([Status.WAITING, Status.WAITING, Status.ACTIVE, Status.ACTIVE,
                                       Status.GRADUATED]))
        lat, lon = _coords(draw)
        languages = tuple(draw(st.lists(st.sampled_from(LANGUAGES), min_size=1, max_size=2, unique=True)))
        if draw(st.booleans()) and "en" not in languages:
            languages += ("en",)
        clients.append(Client(
            client_id=f"C{i}",
            need_level=draw(st.sampled_from([NeedLevel.LOW, NeedLevel.HIGH])),
            languages=languages,
            french_service="fr" in languages and draw(st.booleans()),
            latitude=lat, longitude=lon,
            area=draw(st.sampled_from([None, None, *AREAS])),
            family_id=draw(st.sampled_from([None, None, None, "F1", "F2"])),
            status=status,
            worker_id=draw(st.sampled_from(ids)) if status != Status.WAITING else None,
            referral_date=draw(st.sampled_from([None, AS_OF - timedelta(days=3), AS_OF - timedelta(days=90)])),
            intake_date=(AS_OF - timedelta(days=draw(st.sampled_from([1, 5, 30]))))
            if status == Status.ACTIVE else None,
            priority=draw(st.sampled_from([0, 0, 1, 2])),
            needs=frozenset(draw(st.lists(st.sampled_from(NEEDS), max_size=1))),
            worker_gender_preference=draw(st.sampled_from([None, None, "female"])),
            excluded_workers=frozenset(draw(st.lists(st.sampled_from(ids), max_size=1))),
        ))
    policy = Policy(max_moves_share=draw(st.sampled_from([0.0, 0.2, 0.5])),
                    keep_on_leave=draw(st.booleans()),
                    high_need_ratio=draw(st.sampled_from([15.0, 3.0])),
                    low_need_ratio=draw(st.sampled_from([50.0, 6.0])))
    return Agency(clients=clients, workers=ws, policy=policy, as_of=AS_OF)
