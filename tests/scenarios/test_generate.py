"""The generator is the ground the benchmarks and the sample stand on: it must be deterministic, write files
the reader accepts unchanged, and build an active caseload that a real agency could have (every hard rule
kept, families together, most workers near their target)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from pathlib import Path

import pytest

from caseload.domain import Agency, NeedLevel, Status
from caseload.reader import load_agency
from scenarios.generate import agency_notes, generate_agency, main, write_contract
from scenarios.rules import can_serve, load_of

AS_OF = date(2026, 11, 24)


@pytest.fixture(scope="module")
def agency() -> Agency:
    return generate_agency(480, 18, seed=7)


def test_same_seed_same_agency_other_seed_other_agency() -> None:
    a, b = generate_agency(300, 12, seed=3), generate_agency(300, 12, seed=3)
    assert a.clients == b.clients and a.workers == b.workers
    c = generate_agency(300, 12, seed=4)
    assert c.clients != a.clients


def test_counts_and_waitlist_share_are_exact(agency: Agency) -> None:
    assert len(agency.clients) == 480 and len(agency.workers) == 18
    assert len(agency.waiting) == 72 and len(agency.active) == 408
    assert len({c.client_id for c in agency.clients}) == 480
    assert len({w.worker_id for w in agency.workers}) == 18


def test_round_trip_through_the_reader(agency: Agency, tmp_path: Path) -> None:
    write_contract(agency, tmp_path / "agency")
    loaded = load_agency(tmp_path / "agency", as_of=AS_OF)
    assert loaded.clients == agency.clients
    assert loaded.workers == agency.workers
    assert loaded.policy == agency.policy


def test_shipped_sample_is_the_documented_command() -> None:
    """scenarios/sample is exactly what the README's command writes (nobody edited it by hand)."""
    sample = Path(__file__).resolve().parents[2] / "scenarios" / "sample"
    loaded = load_agency(sample, as_of=AS_OF)
    fresh = generate_agency(480, 18, seed=7)
    assert loaded.clients == fresh.clients and loaded.workers == fresh.workers


def test_cli_writes_the_contract(tmp_path: Path) -> None:
    main(["--out", str(tmp_path / "s"), "--clients", "60", "--workers", "4", "--seed", "1"])
    assert len(load_agency(tmp_path / "s").clients) == 60


@pytest.mark.parametrize("seed", [0, 7, 11])
def test_active_caseload_keeps_the_hard_rules(seed: int) -> None:
    agency = generate_agency(480, 18, seed=seed)
    workers = {w.worker_id: w for w in agency.workers}
    load: dict[str, float] = defaultdict(float)
    for client in agency.active:
        worker = workers[client.worker_id]
        assert can_serve(client, worker), client
        assert client.intake_date is not None and client.referral_date <= client.intake_date <= agency.as_of
        load[worker.worker_id] += load_of(client, worker, agency.policy)
    for client in agency.waiting:
        assert client.worker_id is None and client.intake_date is None
        assert client.referral_date is not None and client.referral_date <= agency.as_of
    over = [w for w in agency.workers if load[w.worker_id] > w.fte * 1.05 + 1e-9]
    assert not over  # mostly within target; never more than 5% over
    slightly_over = [w for w in agency.workers if load[w.worker_id] > w.fte + 1e-9]
    assert len(slightly_over) <= 2


def test_families_share_status_worker_and_address(agency: Agency) -> None:
    families = defaultdict(list)
    for c in agency.clients:
        if c.family_id:
            families[c.family_id].append(c)
    assert families, "the sample has families"
    assert all(2 <= len(members) <= 5 for members in families.values())
    for members in families.values():
        assert len({(c.status, c.worker_id, c.area, c.latitude, c.longitude, c.french_service)
                    for c in members}) == 1


def test_real_shape(agency: Agency) -> None:
    """The features the planner must cope with are all present (not all of them in every tiny agency)."""
    clients, workers = agency.clients, agency.workers
    high = sum(c.need_level == NeedLevel.HIGH for c in clients) / len(clients)
    assert 0.25 <= high <= 0.45
    assert any(c.french_service for c in clients)
    assert {c.area[0] for c in clients} == {"K", "J"}  # Ottawa and Gatineau
    assert any(c.worker_gender_preference == "female" for c in clients)
    assert any(c.priority > 0 for c in clients)
    assert any(len(c.languages) == 1 and c.languages[0] != "en" for c in clients)  # mother tongue only
    assert any("gbv" in c.needs for c in clients)
    assert 1 <= sum(not w.available for w in workers) <= 2
    assert any(w.areas for w in workers) and any(w.max_travel_km for w in workers)
    assert any(w.fte < 1 for w in workers) and any(w.french for w in workers)
    assert {code for w in workers for code in w.languages} >= {"ar", "fa-AF", "uk", "en", "fr"}
    notes = agency_notes(agency)
    assert notes["workers_at_90pct_or_more"] >= len(workers) // 3
    assert all(c.status in (Status.ACTIVE, Status.WAITING) for c in clients)


def test_waiting_clients_outrun_free_capacity(agency: Agency) -> None:
    """The waitlist needs more room than the available workers have free: a real waitlist."""
    workers = {w.worker_id: w for w in agency.workers}
    used: dict[str, float] = defaultdict(float)
    for c in agency.active:
        used[c.worker_id] += load_of(c, workers[c.worker_id], agency.policy)
    free = sum(max(0.0, w.fte - used[w.worker_id]) for w in agency.workers if w.available)
    demand = sum(1 / 15 if c.need_level == NeedLevel.HIGH else 1 / 50 for c in agency.waiting)
    assert demand > free


def test_large_agency_adds_cities_and_keeps_the_rules() -> None:
    agency = generate_agency(4000, 150, seed=2)
    assert {c.area[0] for c in agency.clients} >= {"K", "J", "M"}  # Toronto joins Ottawa-Gatineau
    workers = {w.worker_id: w for w in agency.workers}
    for client in agency.active:
        assert can_serve(client, workers[client.worker_id])


def test_wide_mix_has_a_long_tail_and_keeps_the_rules() -> None:
    """The wide mix (19 communities) gives a waitlist of many small language groups next to a few large ones, some
    with no worker who speaks them, and its active caseload still keeps every hard rule."""
    from collections import Counter

    from caseload.languages import primary
    from scenarios.generate import STANDARD_MIX, WIDE_MIX

    wide = generate_agency(3000, 80, seed=3, mix=WIDE_MIX)
    standard = generate_agency(3000, 80, seed=3, mix=STANDARD_MIX)
    groups = Counter(primary(c.languages[0]) for c in wide.waiting)
    assert len(groups) >= 14 > len(Counter(primary(c.languages[0]) for c in standard.waiting))
    largest = groups.most_common(3)
    assert sum(n for _, n in largest) < 0.6 * len(wide.waiting)  # no three groups hold the waitlist
    spoken = {primary(code) for w in wide.workers for code in w.languages}
    assert "rhg" in groups and "rhg" not in spoken  # nobody on staff speaks Rohingya
    workers = {w.worker_id: w for w in wide.workers}
    for client in wide.active:
        assert can_serve(client, workers[client.worker_id])
    assert len(wide.waiting) == 450 and len(wide.clients) == 3000


def test_wide_mix_postings_are_unique_and_every_one_speaks_english() -> None:
    from scenarios.generate import STANDARD_MIX, WIDE_MIX

    for mix in (STANDARD_MIX, WIDE_MIX):
        postings = mix.posting_languages()
        assert len({p[0] for p in postings}) == len(postings)  # a candidate's id starts with its first language
        assert all("en" in p for p in postings)
    assert STANDARD_MIX.posting_languages()[0] == ("ar", "en")
