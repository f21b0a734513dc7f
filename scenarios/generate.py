"""A realistic, real-shaped settlement agency: the shipped sample, the tests' fixtures and the benchmarks.

Real agencies are not uniform random matrices. Their waitlists exist because referrals outrun funded staff,
and the hard part of placing a waiting client is a handful of bottlenecks: a Tigrinya speaker who speaks no
English, a family of five that must stay with one worker, a French-service client in a city with few
French-capable workers, a survivor of gender-based violence who asked for a female worker. This generator
reproduces those shapes so that the optimizer is tested (and benchmarked) on the problems it will meet:

* cities with neighbourhoods named by real FSA codes (Ottawa and Gatineau, the French-speaking side, for the
  sample; more cities for larger agencies), offices per city, homes scattered around neighbourhoods;
* communities (Syrian/Iraqi Arabic, Afghan Dari, Ukrainian, Eritrean Tigrinya, Latin American Spanish,
  Central African French, Somali) with their own languages and share of English, and workers recruited
  from them unevenly (few Tigrinya and Dari speakers, no Somali speaker);
* families of 2-5 clients at one address, needs tags, gender preferences, priorities, rare exclusions;
* an active caseload that obeys the hard rules and fills most workers to near their IRCC target
  (high 15, low 50 per FTE, weighted), and a waitlist of recent referrals that cannot all be placed.

The active caseload's high-need share is stepped down when the requested numbers of clients and workers
could not otherwise fit within the targets (a large caseload per worker is only possible with mostly
low-need clients, as reassessments step clients down); `agency_notes` reports it.

Usage: ``python -m scenarios.generate --out scenarios/sample --clients 480 --workers 18 --seed 7``.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from caseload.contract_io import write_agency
from caseload.domain import Agency, Client, NeedLevel, Policy, Status, Worker
from caseload.languages import primary

SAMPLE_AS_OF = date(2026, 11, 24)
POOL_FACTOR = 1.8  # referrals drawn per client kept: the active caseload is chosen from them (see _fill_caseloads)
NEEDS_TAGS = ("gbv", "youth", "senior", "disability", "mental_health", "2slgbtqi", "family_violence")


@dataclass(frozen=True)
class City:
    name: str
    latitude: float
    longitude: float
    french: bool  # a French-speaking city: more Francophone clients, most workers French-capable
    fsas: tuple[str, ...]
    weight: float  # relative size of its newcomer population
    radius_km: float = 9.0
    side: int = 0  # +1: neighbourhoods only north of the centre, -1: only south (a river between two cities)


# Ottawa and Gatineau first (the sample); larger agencies add cities in this order.
CITIES: tuple[City, ...] = (
    City("Ottawa", 45.4215, -75.6972, False,
         ("K1N", "K1P", "K1R", "K1S", "K1Y", "K1Z", "K2P", "K1G", "K1H", "K1K", "K1T", "K1V", "K2A", "K2B",
          "K2C", "K2E", "K2G", "K2H", "K2J", "K4A"), 1.0, 10.0, -1),
    City("Gatineau", 45.4420, -75.7250, True,
         ("J8X", "J8P", "J8R", "J8T", "J8V", "J8Y", "J8Z", "J9A", "J9H", "J9J"), 0.5, 9.0, +1),
    City("Toronto", 43.6532, -79.3832, False,
         ("M1B", "M1E", "M1H", "M1K", "M1P", "M2J", "M2N", "M3C", "M3N", "M4C", "M4X", "M5A", "M5V", "M6E",
          "M6K", "M9V"), 2.0, 12.0),
    City("Montréal", 45.5019, -73.5674, True,
         ("H1G", "H1M", "H1Z", "H2E", "H2R", "H3N", "H3S", "H3W", "H4N", "H8N"), 1.6, 10.0),
    City("Mississauga", 43.5890, -79.6441, False, ("L4T", "L4W", "L4Z", "L5A", "L5B", "L5M", "L5N"), 0.8),
    City("Calgary", 51.0447, -114.0719, False, ("T2A", "T2B", "T2E", "T2K", "T2Z", "T3J", "T3K"), 0.8),
    City("Edmonton", 53.5461, -113.4938, False, ("T5A", "T5B", "T5C", "T5H", "T5K", "T6A", "T6K", "T6L"), 0.8),
    City("Vancouver", 49.2827, -123.1207, False, ("V5K", "V5L", "V5N", "V5P", "V5R", "V6A", "V6K"), 0.9),
    City("Winnipeg", 49.8951, -97.1384, False,
         ("R2C", "R2K", "R2M", "R2W", "R2X", "R3A", "R3B", "R3E", "R3G", "R3T"), 0.6),
    City("Hamilton", 43.2557, -79.8711, False, ("L8H", "L8K", "L8L", "L8M", "L8N", "L8P", "L9A", "L9C"), 0.5),
    City("Brampton", 43.7315, -79.7624, False, ("L6P", "L6R", "L6S", "L6T", "L6V", "L6X", "L6Y", "L6Z"), 0.6),
    City("Surrey", 49.1913, -122.8490, False, ("V3R", "V3S", "V3T", "V3W", "V4N"), 0.6),
    City("London", 42.9849, -81.2453, False, ("N5V", "N5W", "N5Y", "N5Z", "N6A", "N6C", "N6E", "N6H"), 0.4),
    City("Kitchener", 43.4516, -80.4925, False, ("N2A", "N2B", "N2C", "N2E", "N2G", "N2H", "N2M"), 0.4),
    City("Halifax", 44.6488, -63.5752, False, ("B3H", "B3J", "B3K", "B3L", "B3N", "B3R"), 0.35),
    City("Québec", 46.8139, -71.2080, True, ("G1K", "G1L", "G1M", "G1N", "G1R"), 0.35),
    City("Windsor", 42.3149, -83.0364, False, ("N8T", "N8W", "N8X", "N8Y", "N9A", "N9B"), 0.3),
    City("Saskatoon", 52.1332, -106.6700, False, ("S7H", "S7J", "S7K", "S7L", "S7M"), 0.3),
    City("Regina", 50.4452, -104.6189, False, ("S4N", "S4P", "S4R", "S4S", "S4T"), 0.25),
    City("Moncton", 46.0878, -64.7782, True, ("E1A", "E1C", "E1E"), 0.2),
)


@dataclass(frozen=True)
class Community:
    """A newcomer community: its languages, how many speak English or French, and how well staffed it is."""

    name: str
    mother_tongue: str
    extra: tuple[tuple[str, float], ...]  # other languages and the share who speak them
    english: float  # share who can be served in English
    french: float  # share who speak French (outside a French-speaking city)
    share: float  # share of referrals
    staffing: float  # workers recruited from it, relative to its share of referrals (0: none)


COMMUNITIES: tuple[Community, ...] = (
    Community("Syrian/Iraqi", "ar", (), 0.45, 0.08, 0.26, 1.15),
    Community("Afghan", "fa-AF", (("ps", 0.25),), 0.30, 0.02, 0.20, 0.70),
    Community("Ukrainian", "uk", (("ru", 0.5),), 0.55, 0.03, 0.18, 1.0),
    Community("Eritrean", "ti", (("ar", 0.15), ("am", 0.2)), 0.30, 0.02, 0.10, 0.55),
    Community("Latin American", "es", (), 0.40, 0.05, 0.10, 1.05),
    Community("Central African", "fr", (("sw", 0.4), ("ln", 0.2)), 0.35, 1.0, 0.10, 1.0),
    Community("Somali", "so", (("ar", 0.3),), 0.60, 0.02, 0.06, 0.0),
)
# Languages a worker from a community speaks besides the mother tongue, and how often.
WORKER_EXTRA = {"fa-AF": (("ps", 0.5),), "uk": (("ru", 0.8),), "ti": (("am", 0.4), ("ar", 0.25)),
                "fr": (("sw", 0.3), ("ln", 0.15)), "ar": (), "es": (), "so": ()}
# A large urban agency's case-management referrals as they look since 2021: refugees from over 80 countries
# (IRCC: 47,500 resettled refugees from over 80 countries in 2022; the top resettlement sources 2015-2023 were
# Syria, Afghanistan, Eritrea, Iraq and the DR Congo, with over 40,000 Afghans committed from 2021), refugee
# claimants (Nigeria, Colombia, Mexico, Haiti, Turkey, Iran and others) and Ukrainians under CUAET. The shares
# are rounded from those sources' order of magnitude, not a dataset: a long tail of small language groups next to
# a few large ones, which is what a program manager actually sees. Staffing follows the labour market: many
# Arabic, Spanish, Ukrainian and French speakers; few Tigrinya, Kurdish, Kirundi or Somali speakers; no Rohingya.
WIDE_COMMUNITIES: tuple[Community, ...] = (
    Community("Afghan", "fa-AF", (("ps", 0.3), ("ur", 0.05)), 0.25, 0.02, 0.16, 0.7),
    Community("Syrian", "ar", (("ku", 0.08),), 0.40, 0.05, 0.12, 1.2),
    Community("Ukrainian", "uk", (("ru", 0.6),), 0.50, 0.03, 0.10, 1.0),
    Community("Latin American", "es", (), 0.35, 0.03, 0.08, 1.0),
    Community("Eritrean", "ti", (("am", 0.25), ("ar", 0.15)), 0.30, 0.02, 0.07, 0.6),
    Community("Congolese", "fr", (("sw", 0.4), ("ln", 0.3)), 0.30, 1.0, 0.06, 1.0),
    Community("Nigerian", "yo", (("ig", 0.1),), 0.95, 0.02, 0.05, 0.3),
    Community("Somali", "so", (("ar", 0.3),), 0.55, 0.02, 0.04, 0.3),
    Community("Haitian", "ht", (("fr", 0.85),), 0.25, 0.85, 0.04, 0.6),
    Community("Iraqi Kurdish", "ckb", (("ar", 0.5),), 0.35, 0.02, 0.03, 0.4),
    Community("Sudanese", "ar", (), 0.35, 0.03, 0.03, 0.8),
    Community("Ethiopian", "am", (("om", 0.3),), 0.35, 0.02, 0.03, 0.5),
    Community("Turkish", "tr", (("kmr", 0.3),), 0.40, 0.03, 0.03, 0.3),
    Community("Iranian", "fa", (), 0.50, 0.05, 0.03, 0.8),
    Community("Pakistani", "ur", (("pa", 0.2), ("ps", 0.1)), 0.60, 0.02, 0.02, 0.5),
    Community("Burundian", "rn", (("fr", 0.7), ("sw", 0.5)), 0.20, 0.7, 0.02, 0.3),
    Community("Rohingya", "rhg", (("my", 0.2),), 0.05, 0.0, 0.01, 0.0),
    Community("Tamil", "ta", (), 0.50, 0.02, 0.01, 0.5),
    Community("Chinese", "zh", (), 0.30, 0.02, 0.01, 0.5),
)
WIDE_WORKER_EXTRA = {"fa-AF": (("ps", 0.5), ("ur", 0.1)), "ar": (("ku", 0.1),), "uk": (("ru", 0.8),), "es": (),
                     "ti": (("am", 0.4), ("ar", 0.25)), "fr": (("sw", 0.3), ("ln", 0.15), ("rn", 0.1)),
                     "yo": (("ig", 0.2),), "so": (("ar", 0.3),), "ht": (("fr", 0.95),), "ckb": (("ar", 0.6),),
                     "am": (("om", 0.3), ("ti", 0.1)), "tr": (("kmr", 0.4),), "fa": (), "ur": (("pa", 0.4),),
                     "rn": (("fr", 0.9), ("sw", 0.6)), "rhg": (("my", 0.5),), "ta": (), "zh": ()}
# The positions an agency would post for that mix: a community's language with the ones its workers most often
# also speak (a job ad asks for "Tigrinya and Amharic"), always with English.
WIDE_POSTINGS: tuple[tuple[str, ...], ...] = (
    ("fa", "ps", "en"), ("ar", "en"), ("uk", "ru", "en"), ("es", "en"), ("ti", "am", "en"), ("fr", "sw", "en"),
    ("yo", "en"), ("so", "ar", "en"), ("ht", "fr", "en"), ("ckb", "ar", "en"), ("am", "om", "en"),
    ("tr", "kmr", "en"), ("ur", "pa", "en"), ("rn", "fr", "sw", "en"), ("rhg", "my", "en"), ("ta", "en"),
    ("zh", "en"), ("en",),
)


@dataclass(frozen=True)
class Mix:
    """Who an agency's referrals are (communities) and who it can recruit (worker languages, postings)."""

    name: str
    communities: tuple[Community, ...]
    worker_extra: dict[str, tuple[tuple[str, float], ...]]
    postings: tuple[tuple[str, ...], ...] = ()  # () : each community's language with English

    def posting_languages(self) -> list[tuple[str, ...]]:
        """The language profiles of the positions an agency would post (English generalists included)."""
        if self.postings:
            return list(self.postings)
        langs = sorted({primary(c.mother_tongue) for c in self.communities} | {"en"})
        return [(lang,) if lang == "en" else (lang, "en") for lang in langs]


STANDARD_MIX = Mix("standard", COMMUNITIES, WORKER_EXTRA)
WIDE_MIX = Mix("wide", WIDE_COMMUNITIES, WIDE_WORKER_EXTRA, WIDE_POSTINGS)
MIXES = {mix.name: mix for mix in (STANDARD_MIX, WIDE_MIX)}

SPECIALIZATION_WEIGHTS = {"gbv": 0.22, "youth": 0.18, "senior": 0.12, "disability": 0.12, "mental_health": 0.2,
                          "2slgbtqi": 0.06, "family_violence": 0.1}


@dataclass
class _Unit:
    """A family (or a single client) placed as one: same address, same worker, same status."""

    city: int
    fsa: int
    lat: float
    lon: float
    community: int
    french_service: bool
    members: list[dict] = field(default_factory=list)


def n_cities_for(n_workers: int) -> int:
    """Two cities up to ~140 workers, then one more city per ~70 workers (a regional or national agency)."""
    return max(2, min(len(CITIES), math.ceil(n_workers / 70)))


def _offset(lat: float, lon: float, dx_km: float, dy_km: float) -> tuple[float, float]:
    return lat + dy_km / 111.0, lon + dx_km / (111.0 * math.cos(math.radians(lat)))


def _largest_remainder(total: int, weights: np.ndarray, minimum: int = 0) -> np.ndarray:
    weights = weights / weights.sum()
    base = np.full(len(weights), minimum)
    rest = total - base.sum()
    if rest < 0:
        raise ValueError(f"{total} is too few for {len(weights)} cities")
    raw = weights * rest
    counts = np.floor(raw).astype(int)
    order = np.argsort(-(raw - counts), kind="stable")
    counts[order[: rest - counts.sum()]] += 1
    return base + counts


def _haversine_vec(lat: float, lon: float, lats: np.ndarray, lons: np.ndarray) -> np.ndarray:
    p1, p2 = np.radians(lat), np.radians(lats)
    dp, dl = p2 - p1, np.radians(lons - lon)
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * 6371.0088 * np.arcsin(np.minimum(1.0, np.sqrt(a)))


def generate_agency(n_clients: int, n_workers: int, waiting_share: float = 0.15, seed: int = 0,
                    as_of: date = SAMPLE_AS_OF, *, high_need_share: float = 0.35,
                    n_cities: int | None = None, mix: Mix = STANDARD_MIX) -> Agency:
    """A real-shaped agency of `n_clients` clients (`waiting_share` of them on the waitlist) and `n_workers`.

    Deterministic for a seed. The active caseload obeys the hard rules (scenarios.rules) and is filled to
    about 90-100% of most workers' targets, so the waitlist competes for little free capacity.
    """
    if n_clients < 1 or n_workers < 1:
        raise ValueError("an agency needs at least one client and one worker")
    if not 0 <= waiting_share <= 1:
        raise ValueError("waiting_share must be in [0, 1]")
    rng = np.random.default_rng(seed)
    cities = CITIES[: n_cities or n_cities_for(n_workers)]
    policy = Policy()

    # Neighbourhoods: each FSA a point scattered around its city's centre.
    fsa_names: list[str] = []
    fsa_city: list[int] = []
    fsa_lat: list[float] = []
    fsa_lon: list[float] = []
    for ci, city in enumerate(cities):
        for k, fsa in enumerate(city.fsas):
            r = 0.0 if k == 0 else city.radius_km * math.sqrt(rng.uniform(0.05, 1.0))
            angle = rng.uniform(0, 2 * math.pi)
            if city.side and math.sin(angle) * city.side < 0.15:
                angle = math.asin(0.15 + 0.85 * rng.random()) if rng.random() < 0.5 else \
                    math.pi - math.asin(0.15 + 0.85 * rng.random())
                angle *= city.side
            lat, lon = _offset(city.latitude, city.longitude, r * math.cos(angle), r * math.sin(angle))
            fsa_names.append(fsa)
            fsa_city.append(ci)
            fsa_lat.append(lat)
            fsa_lon.append(lon)
    city_fsas = [[i for i, c in enumerate(fsa_city) if c == ci] for ci in range(len(cities))]

    # Each city's mix of communities: French-speaking cities draw more Francophone newcomers.
    communities = mix.communities
    base_share = np.array([c.share for c in communities])
    city_mix = []
    for city in cities:
        share = base_share.copy()
        if city.french:
            share[[i for i, c in enumerate(communities) if c.french >= 0.5]] *= 3.0  # Francophone communities
        share *= rng.uniform(0.8, 1.25, size=len(share))
        city_mix.append(share / share.sum())

    city_weight = np.array([c.weight for c in cities])
    workers = _make_workers(rng, n_workers, cities, city_weight, city_mix, city_fsas, fsa_names, fsa_lat, fsa_lon,
                            mix)
    pool = _make_units(rng, round(n_clients * POOL_FACTOR) + 10, cities, city_weight, city_mix, city_fsas,
                       fsa_lat, fsa_lon, workers, high_need_share, mix.communities)
    units, statuses, worker_of = _fill_caseloads(rng, pool, n_clients, waiting_share, workers, cities,
                                                 fsa_names, policy)
    clients = _make_clients(rng, units, statuses, worker_of, workers, fsa_names, as_of)
    return Agency(clients=clients, workers=workers, policy=policy, as_of=as_of)


def _make_workers(rng: np.random.Generator, n_workers: int, cities: Sequence[City], city_weight: np.ndarray,
                  city_mix: list[np.ndarray], city_fsas: list[list[int]], fsa_names: list[str],
                  fsa_lat: list[float], fsa_lon: list[float], mix: Mix) -> list[Worker]:
    """Workers per city in proportion to its newcomers (with some imbalance), at one to four offices."""
    noisy = city_weight * rng.uniform(0.85, 1.15, size=len(cities))
    per_city = _largest_remainder(n_workers, noisy, minimum=min(2, n_workers // len(cities)))
    staffing = np.array([c.staffing for c in mix.communities])
    one_unrestricted = 0.3 if len(cities) <= 2 else 0.1  # virtual service across cities is rare
    workers: list[Worker] = []
    on_leave_left = 1 if n_workers < 10 else max(1, round(0.04 * n_workers))
    number = 0
    for ci, city in enumerate(cities):
        n_here = int(per_city[ci])
        if n_here == 0:
            continue
        offices = city_fsas[ci][: max(1, min(4, n_here // 9 + 1))]
        weights = city_mix[ci] * staffing
        for k in range(n_here):
            number += 1
            office = offices[k % len(offices)]
            if rng.random() < 0.06:
                langs: list[str] = ["en", "fr"] if city.french else ["en"]  # a generalist
            else:
                community = mix.communities[rng.choice(len(mix.communities), p=weights / weights.sum())]
                langs = [community.mother_tongue]
                for code, p in mix.worker_extra[community.mother_tongue]:
                    if rng.random() < p:
                        langs.append(code)
            if "en" not in langs and rng.random() < (0.72 if city.french else 0.95):
                langs.append("en")
            if "fr" not in langs and rng.random() < (0.85 if city.french else 0.12):
                langs.append("fr")
            if not langs:
                langs = ["fr"] if city.french else ["en"]
            fte = float(rng.choice([1.0, 0.8, 0.5], p=[0.76, 0.13, 0.11]))
            n_spec = int(rng.choice([0, 1, 2], p=[0.45, 0.4, 0.15]))
            tags = list(SPECIALIZATION_WEIGHTS)
            p_tags = np.array(list(SPECIALIZATION_WEIGHTS.values()))
            specs = frozenset(rng.choice(tags, size=n_spec, replace=False, p=p_tags / p_tags.sum()).tolist())
            gender = str(rng.choice(["female", "male", "nonbinary"], p=[0.72, 0.26, 0.02]))
            areas: frozenset[str] = frozenset()
            max_travel = None
            roll = rng.random()
            if roll > one_unrestricted:
                if rng.random() < 0.62:
                    # the office's part of the city: its nearest 50-100% of the city's FSAs
                    here = city_fsas[ci]
                    dist = [math.hypot(fsa_lat[f] - fsa_lat[office], fsa_lon[f] - fsa_lon[office]) for f in here]
                    keep = max(2, math.ceil(len(here) * rng.uniform(0.5, 1.0)))
                    areas = frozenset(fsa_names[here[j]] for j in np.argsort(dist)[:keep])
                else:
                    max_travel = float(rng.choice([12.0, 15.0, 20.0, 25.0]))
            high_ratio = low_ratio = None
            r = rng.random()
            if r < 0.03:
                high_ratio = 12.0  # an intensive (e.g. GBV) caseload
            elif r < 0.05:
                low_ratio = 40.0
            max_new = int(rng.integers(2, 5)) if rng.random() < 0.1 else None
            lat, lon = _offset(fsa_lat[office], fsa_lon[office], rng.normal(0, 0.3), rng.normal(0, 0.3))
            workers.append(Worker(
                worker_id=f"W{number:04d}", fte=fte, languages=tuple(langs), french="fr" in langs,
                latitude=round(lat, 5), longitude=round(lon, 5), areas=areas, max_travel_km=max_travel,
                specializations=specs, gender=gender, available=True,
                high_need_ratio=high_ratio, low_need_ratio=low_ratio, max_new_per_week=max_new,
            ))
    # One or two on leave (about 4% in larger agencies), spread over the list.
    for idx in rng.choice(len(workers), size=min(on_leave_left, len(workers)), replace=False):
        workers[int(idx)] = replace(workers[int(idx)], available=False)
    return workers


def _make_units(rng: np.random.Generator, n_clients: int, cities: Sequence[City], city_weight: np.ndarray,
                city_mix: list[np.ndarray], city_fsas: list[list[int]], fsa_lat: list[float],
                fsa_lon: list[float], workers: list[Worker], high_need_share: float,
                communities: Sequence[Community]) -> list[_Unit]:
    """Families and single clients, with languages by community and needs by person."""
    per_city = _largest_remainder(n_clients, city_weight)
    units: list[_Unit] = []
    for ci, city in enumerate(cities):
        city_workers = [w.worker_id for w in workers if w.latitude is not None
                        and abs(w.latitude - city.latitude) < 0.5 and abs(w.longitude - city.longitude) < 0.7]
        left = int(per_city[ci])
        while left > 0:
            size = int(rng.choice([1, 2, 3, 4, 5], p=[0.56, 0.14, 0.13, 0.10, 0.07]))
            size = min(size, left)
            left -= size
            com_i = int(rng.choice(len(communities), p=city_mix[ci]))
            com = communities[com_i]
            fsa = int(rng.choice(city_fsas[ci]))
            lat, lon = _offset(fsa_lat[fsa], fsa_lon[fsa], rng.normal(0, 1.2), rng.normal(0, 1.2))
            base = [com.mother_tongue] + [code for code, p in com.extra if rng.random() < p]
            english = com.english * (0.7 if city.french else 1.0)
            french = com.french if com.mother_tongue == "fr" else (
                com.french * 4 if city.french else com.french)
            speaks_fr = "fr" in base or rng.random() < french
            if speaks_fr and "fr" not in base:
                base.append("fr")
            if speaks_fr:
                p_fs = (0.5 if com.mother_tongue == "fr" else 0.2) if city.french else (
                    0.25 if com.mother_tongue == "fr" else 0.05)
                french_service = bool(rng.random() < p_fs)
            else:
                french_service = False
            unit = _Unit(ci, fsa, lat, lon, com_i, french_service)
            family_english = rng.random() < english
            for m in range(size):
                langs = list(base)
                # children pick up English at school; adults follow the family
                if family_english or (m >= 2 and rng.random() < 0.4):
                    langs.append("en")
                high = bool(rng.random() < high_need_share * 0.95)  # GBV below tops it up
                needs: set[str] = set()
                adult = m < 2
                if adult and rng.random() < 0.06:
                    needs.add("gbv")
                if not adult and rng.random() < 0.45:
                    needs.add("youth")
                if adult and size == 1 and rng.random() < 0.12:
                    needs.add("senior")
                for tag, p in (("disability", 0.05), ("mental_health", 0.12), ("2slgbtqi", 0.02),
                               ("family_violence", 0.025)):
                    if rng.random() < p:
                        needs.add(tag)
                if "gbv" in needs or "family_violence" in needs:
                    high = high or rng.random() < 0.7
                pref = None
                if "gbv" in needs and rng.random() < 0.8:
                    pref = "female"
                elif rng.random() < 0.03:
                    pref = "female" if rng.random() < 0.8 else "male"
                priority = 0
                if "gbv" in needs or "family_violence" in needs:
                    priority = int(rng.choice([1, 2, 3], p=[0.3, 0.4, 0.3]))
                elif rng.random() < 0.04:
                    priority = int(rng.choice([1, 2], p=[0.75, 0.25]))
                excluded = frozenset()
                if city_workers and rng.random() < 0.004:
                    excluded = frozenset({str(rng.choice(city_workers))})
                unit.members.append({"languages": tuple(langs), "high": high, "needs": frozenset(needs),
                                     "pref": pref, "priority": priority, "excluded": excluded})
            units.append(unit)
    order = rng.permutation(len(units))
    return [units[i] for i in order]


class _WorkerArrays:
    """The workers as numpy columns, so a family's eligible workers are found in one vectorised step."""

    def __init__(self, workers: list[Worker], fsa_names: list[str], cities: Sequence[City], policy: Policy):
        self.n = len(workers)
        self.langs = sorted({primary(code) for w in workers for code in w.languages})
        self.lang_index = {code: i for i, code in enumerate(self.langs)}
        self.speaks = np.zeros((self.n, len(self.langs)), dtype=bool)
        self.area_ok = np.ones((self.n, len(fsa_names)), dtype=bool)
        for i, w in enumerate(workers):
            for code in w.languages:
                self.speaks[i, self.lang_index[primary(code)]] = True
            if w.areas:
                self.area_ok[i] = [name in w.areas for name in fsa_names]
        self.french = np.array([w.french for w in workers])
        self.lat = np.array([w.latitude for w in workers], dtype=float)
        self.lon = np.array([w.longitude for w in workers], dtype=float)
        self.max_travel = np.array([np.inf if w.max_travel_km is None else w.max_travel_km for w in workers])
        self.gender = np.array([w.gender or "" for w in workers])
        self.ids = [w.worker_id for w in workers]
        ratios = [policy.ratios_for(w) for w in workers]
        self.w_high = np.array([1.0 / h for h, _ in ratios])
        self.w_low = np.array([1.0 / low for _, low in ratios])
        self.fte = np.array([w.fte for w in workers])
        self.city = np.array([
            int(np.argmin([(w.latitude - c.latitude) ** 2 + (w.longitude - c.longitude) ** 2 for c in cities]))
            for w in workers
        ])
        self.load = np.zeros(self.n)

    def eligible(self, unit: _Unit) -> np.ndarray:
        """Workers who may serve every member of the family (all hard rules but capacity and availability)."""
        ok = self.area_ok[:, unit.fsa].copy()
        if unit.french_service:
            ok &= self.french
        ok &= _haversine_vec(unit.lat, unit.lon, self.lat, self.lon) <= self.max_travel + 1e-9
        for m in unit.members:
            idx = [self.lang_index[primary(c)] for c in m["languages"] if primary(c) in self.lang_index]
            ok &= self.speaks[:, idx].any(axis=1) if idx else False
            if m["pref"]:
                ok &= self.gender == m["pref"]
            for wid in m["excluded"]:
                ok[self.ids.index(wid)] = False
        return ok

    def family_load(self, unit: _Unit) -> np.ndarray:
        n_high = sum(m["high"] for m in unit.members)
        return n_high * self.w_high + (len(unit.members) - n_high) * self.w_low


def _fill_caseloads(rng: np.random.Generator, pool: list[_Unit], n_clients: int, waiting_share: float,
                    workers: list[Worker], cities: Sequence[City], fsa_names: list[str],
                    policy: Policy) -> tuple[list[_Unit], list[Status], list[int | None]]:
    """Choose the waitlist and the active caseload (and who serves whom) from a pool of referrals.

    The waitlist is the first referrals of the pool, as they come: it carries the community's full mix of
    languages, families and needs. The active caseload is built the way it grew in reality: a referral
    became active only if a worker able to serve it had room, so it is shaped by the staff and fills most
    workers to 88-100% of their target (new hires less). Referrals that found no room are dropped from the
    pool (they went elsewhere), so the counts are exact.
    """
    arrays = _WorkerArrays(workers, fsa_names, cities, policy)
    fill = rng.uniform(0.88, 1.0, size=arrays.n)
    new_hire = rng.random(arrays.n) < 0.1
    fill[new_hire] = rng.uniform(0.4, 0.7, size=int(new_hire.sum()))
    target_active = round(n_clients * (1 - waiting_share))
    target_waiting = n_clients - target_active

    chosen: list[_Unit] = []
    statuses: list[Status] = []
    worker_of: list[int | None] = []
    rest: list[_Unit] = []
    waiting = 0
    for unit in pool:
        size = len(unit.members)
        if waiting < target_waiting and size <= target_waiting - waiting:
            chosen.append(unit)
            statuses.append(Status.WAITING)
            worker_of.append(None)
            waiting += size
        else:
            rest.append(unit)

    # Step high-need clients of the would-be caseload down to low need when the staff could not otherwise
    # carry the requested number of active clients at the targets (as reassessments do over time).
    room = float((fill * arrays.fte).sum()) * 0.97
    high_w, low_w = 1 / policy.high_need_ratio, 1 / policy.low_need_ratio
    members = [m for unit in rest for m in unit.members]
    share_high = sum(m["high"] for m in members) / max(1, len(members))
    load = target_active * (share_high * high_w + (1 - share_high) * low_w)
    if load > room and share_high > 0:
        wanted = max(0.0, (room / target_active - low_w) / (high_w - low_w))
        keep = wanted / share_high
        for m in members:
            if m["high"] and rng.random() >= keep:
                m["high"] = False

    active = 0
    pending = rest
    for limit in (fill, np.ones(arrays.n), np.full(arrays.n, 1.05)):
        still: list[_Unit] = []
        for unit in pending:
            size = len(unit.members)
            if active >= target_active:
                break
            if size > target_active - active:
                still.append(unit)
                continue
            extra = arrays.family_load(unit)
            ok = arrays.eligible(unit) & (arrays.load + extra <= limit * arrays.fte + 1e-9)
            if not ok.any():
                still.append(unit)
                continue
            same_city = ok & (arrays.city == unit.city)
            choice = same_city if same_city.any() else ok
            room_left = np.where(choice, limit * arrays.fte - arrays.load + 1e-6, 0.0)
            w = int(rng.choice(arrays.n, p=room_left / room_left.sum()))
            arrays.load[w] += extra[w]
            chosen.append(unit)
            statuses.append(Status.ACTIVE)
            worker_of.append(w)
            active += size
        pending = still
    order = rng.permutation(len(chosen))  # interleave waiting and active clients in the file
    return [chosen[i] for i in order], [statuses[i] for i in order], [worker_of[i] for i in order]


def _make_clients(rng: np.random.Generator, units: list[_Unit], statuses: list[Status], worker_of: list[int | None],
                  workers: list[Worker], fsa_names: list[str], as_of: date) -> list[Client]:
    clients: list[Client] = []
    number = 0
    family_number = 0
    for ui, unit in enumerate(units):
        status = statuses[ui]
        family_id = None
        if len(unit.members) > 1:
            family_number += 1
            family_id = f"F{family_number:05d}"
        if status == Status.ACTIVE:
            intake = as_of - timedelta(days=int(rng.integers(10, 600)))
            referral = intake - timedelta(days=int(rng.integers(5, 100)))
            worker_id = workers[worker_of[ui]].worker_id  # type: ignore[index]
        else:
            intake = None
            referral = as_of - timedelta(days=int(min(365, 1 + rng.exponential(75))))
            worker_id = None
        for m in unit.members:
            number += 1
            clients.append(Client(
                client_id=f"C{number:06d}",
                need_level=NeedLevel.HIGH if m["high"] else NeedLevel.LOW,
                languages=m["languages"],
                french_service=unit.french_service,
                latitude=round(unit.lat, 5),
                longitude=round(unit.lon, 5),
                area=fsa_names[unit.fsa],
                family_id=family_id,
                status=status,
                worker_id=worker_id,
                referral_date=referral,
                intake_date=intake,
                priority=m["priority"],
                needs=m["needs"],
                worker_gender_preference=m["pref"],
                excluded_workers=m["excluded"],
            ))
    return clients


def agency_notes(agency: Agency) -> dict[str, float | int]:
    """Figures that say how real-shaped (and how tight) a generated agency is."""
    active, waiting = agency.active, agency.waiting
    policy = agency.policy
    by_worker = {w.worker_id: w for w in agency.workers}
    load: dict[str, float] = {}
    for c in active:
        w = by_worker[c.worker_id]  # type: ignore[index]
        high, low = policy.ratios_for(w)
        load[w.worker_id] = load.get(w.worker_id, 0.0) + (1 / high if c.need_level == NeedLevel.HIGH else 1 / low)
    utilisation = [load.get(w.worker_id, 0.0) / w.fte for w in agency.workers]
    n = max(1, len(agency.clients))
    return {
        "clients": len(agency.clients),
        "active": len(active),
        "waiting": len(waiting),
        "workers": len(agency.workers),
        "fte": round(sum(w.fte for w in agency.workers), 2),
        "high_need_share_active": round(sum(c.need_level == NeedLevel.HIGH for c in active) / max(1, len(active)), 3),
        "high_need_share_waiting": round(
            sum(c.need_level == NeedLevel.HIGH for c in waiting) / max(1, len(waiting)), 3),
        "french_service_share": round(sum(c.french_service for c in agency.clients) / n, 3),
        "workers_at_90pct_or_more": sum(u >= 0.9 for u in utilisation),
        "workers_over_target": sum(u > 1.0 + 1e-9 for u in utilisation),
        "mean_utilisation": round(float(np.mean(utilisation)) if utilisation else 0.0, 3),
    }


def write_contract(agency: Agency, folder: Path | str) -> Path:
    """Write clients.csv, workers.csv and policy.yaml with the project's one contract writer."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    write_agency(agency, folder)
    return folder


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Generate a real-shaped settlement agency in the data contract.")
    parser.add_argument("--out", type=Path, required=True, help="folder for clients.csv, workers.csv, policy.yaml")
    parser.add_argument("--clients", type=int, default=480)
    parser.add_argument("--workers", type=int, default=18)
    parser.add_argument("--waiting-share", type=float, default=0.15)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--as-of", type=date.fromisoformat, default=SAMPLE_AS_OF)
    parser.add_argument("--mix", choices=sorted(MIXES), default="standard",
                        help="standard: seven large communities (the sample); wide: a long tail of 19")
    args = parser.parse_args(argv)
    agency = generate_agency(args.clients, args.workers, args.waiting_share, args.seed, args.as_of,
                             mix=MIXES[args.mix])
    write_contract(agency, args.out)
    notes = agency_notes(agency)
    print(f"wrote {args.out}: " + ", ".join(f"{k}={v}" for k, v in notes.items()))


if __name__ == "__main__":
    main()
