"""A quick random agency for optimizer tests and timing: a city of service areas, languages, a waitlist.

Not the project's sample generator (that is scenarios/): just enough structure for the model to be
realistic (scarce languages, areas, travel limits, families, workers near target, some on leave).
Everything comes from the seed.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from caseload.domain import Agency, Client, NeedLevel, Policy, Status, Worker

CLIENT_LANGUAGES = [("ar", 20), ("en", 12), ("fa", 9), ("es", 8), ("fr", 6), ("uk", 8), ("zh", 7), ("ti", 4),
                    ("so", 4), ("ur", 5), ("ps", 3), ("ta", 3), ("am", 2), ("ku", 2), ("sw", 2), ("tl", 3),
                    ("ne", 1), ("my", 1)]
NEEDS = ["gbv", "youth", "senior", "disability", "mental_health", "2slgbtqi", "family_violence"]


def _pick(rng: random.Random, weighted: list[tuple[str, int]]) -> str:
    return rng.choices([v for v, _ in weighted], weights=[w for _, w in weighted])[0]


def random_agency(n_clients: int, n_workers: int, seed: int = 0, *, as_of: date = date(2027, 1, 15),
                  fill: float = 0.9, waiting_share: float = 0.3, policy: Policy | None = None) -> Agency:
    """An agency with about ``(1 - waiting_share)`` of clients active (workers filled to ``fill``)."""
    rng = random.Random(seed)
    n_areas = max(3, n_workers // 4)
    centre = (43.70, -79.40)
    areas = {f"A{a:03d}": (centre[0] + rng.uniform(-0.25, 0.25), centre[1] + rng.uniform(-0.35, 0.35))
             for a in range(n_areas)}
    area_names = sorted(areas)

    def near(area: str, spread: float = 0.02) -> tuple[float, float]:
        lat, lon = areas[area]
        return round(lat + rng.gauss(0, spread), 5), round(lon + rng.gauss(0, spread), 5)

    workers = []
    for j in range(n_workers):
        home = rng.choice(area_names)
        langs = ["en"] + rng.sample([v for v, _ in CLIENT_LANGUAGES if v != "en"], rng.choice([1, 1, 2]))
        french = "fr" in langs or rng.random() < 0.08
        lat, lon = near(home, 0.005)
        by_distance = sorted(area_names, key=lambda a: (areas[a][0] - lat) ** 2 + (areas[a][1] - lon) ** 2)
        covered = frozenset(by_distance[: rng.randint(3, 8)]) if rng.random() < 0.6 else frozenset()
        workers.append(Worker(
            worker_id=f"W{j:04d}",
            fte=rng.choice([1.0, 1.0, 1.0, 0.8, 0.6, 0.5]),
            languages=tuple(langs),
            french=french,
            latitude=lat, longitude=lon,
            areas=covered,
            max_travel_km=rng.choice([None, None, 15.0, 25.0, 40.0]),
            specializations=frozenset(rng.sample(NEEDS, rng.choice([0, 1, 1, 2]))),
            gender=rng.choice(["female", "female", "male"]),
            available=rng.random() > 0.04,
            max_new_per_week=rng.choice([None, None, None, 3, 5, 8]),
        ))

    clients: list[Client] = []
    family_left = 0
    family: dict = {}
    for i in range(n_clients):
        if family_left > 0:
            family_left -= 1
            base = family
        else:
            base = {}
            if rng.random() < 0.12:
                family_left = rng.randint(1, 3)
                base = {"family_id": f"F{i:06d}", "area": rng.choice(area_names)}
                family = base
        area = base.get("area") or rng.choice(area_names)
        lang = _pick(rng, CLIENT_LANGUAGES)
        langs = (lang,) if lang == "en" or rng.random() < 0.5 else (lang, "en")
        lat, lon = near(area)
        clients.append(Client(
            client_id=f"C{i:06d}",
            need_level=NeedLevel.HIGH if rng.random() < 0.35 else NeedLevel.LOW,
            languages=langs,
            french_service=lang == "fr" and rng.random() < 0.7,
            latitude=lat if rng.random() > 0.05 else None,
            longitude=lon,
            area=area if rng.random() > 0.05 else None,
            family_id=base.get("family_id"),
            referral_date=as_of - timedelta(days=rng.randint(0, 400)),
            priority=rng.choices([0, 1, 2], weights=[85, 12, 3])[0],
            needs=frozenset(rng.sample(NEEDS, 1)) if rng.random() < 0.25 else frozenset(),
            worker_gender_preference="female" if rng.random() < 0.06 else None,
            excluded_workers=frozenset({rng.choice(workers).worker_id}) if rng.random() < 0.02 else frozenset(),
        ))
        if clients[-1].latitude is None:
            clients[-1] = _replace(clients[-1], longitude=None)
    _make_caseloads(clients, workers, rng, as_of, fill, waiting_share)
    return Agency(clients=clients, workers=workers, policy=policy or Policy(), as_of=as_of)


def _replace(client: Client, **changes) -> Client:
    fields = {name: getattr(client, name) for name in client.__slots__}
    fields.update(changes)
    return Client(**fields)


def _make_caseloads(clients: list[Client], workers: list[Worker], rng: random.Random, as_of: date,
                    fill: float, waiting_share: float) -> None:
    """Turn most clients active with an eligible worker, up to ``fill`` of each worker's target."""
    from optimizer.eligibility import compute_eligibility, integer_weights

    agency = Agency(clients=clients, workers=workers, as_of=as_of)
    el = compute_eligibility(agency)
    room = []
    for w in workers:
        _, cap, hw, lw = integer_weights(w.fte * rng.uniform(fill - 0.1, min(1.0, fill + 0.1)), 15, 50)
        room.append([cap, hw, lw])
    order = list(range(len(clients)))
    rng.shuffle(order)
    target_active = int(len(clients) * (1 - waiting_share))
    families: dict[str, int] = {}
    n_active = 0
    for i in order:
        if n_active >= target_active:
            break
        c = clients[i]
        choices = [int(j) for j in el.eligible(i)]
        if c.family_id in families:
            choices = [j for j in choices if j == families[c.family_id]]
        rng.shuffle(choices)
        for j in choices:
            if not workers[j].available and rng.random() < 0.7:
                continue
            units = room[j][1] if c.need_level == NeedLevel.HIGH else room[j][2]
            if units <= room[j][0]:
                room[j][0] -= units
                if c.family_id:
                    families[c.family_id] = j
                days = rng.randint(0, 500)
                clients[i] = _replace(c, status=Status.ACTIVE, worker_id=workers[j].worker_id,
                                      intake_date=as_of - timedelta(days=days),
                                      referral_date=as_of - timedelta(days=days + rng.randint(0, 200)))
                n_active += 1
                break
    for i, c in enumerate(clients):
        if c.status == Status.WAITING and rng.random() < 0.03:
            clients[i] = _replace(c, status=Status.GRADUATED)
