"""The staffing planner's promises on generated agencies: the promise to `caseload assign`, and hypothesis
properties (cost within budget, never fewer placements than with no hire, a frontier that never falls)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from caseload.contract_io import write_agency
from caseload.domain import Agency, Candidate, Policy
from caseload.reader import load_agency, load_start
from optimizer import assign
from optimizer.check import violations
from planning.report import WORKERS_WITH_HIRES_CSV, write_staffing
from planning.staffing import derive_candidates, plan_hires
from tests.optimizer.generate import random_agency
from tests.optimizer.strategies import AREAS, LANGUAGES, agencies

PROPERTY = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FTE_COST = 78_000.0


@pytest.mark.parametrize(("seed", "moves_share"), [(1, 0.02), (2, 0.02), (3, 0.02), (4, 0.1), (5, 0.1)])
def test_assign_on_workers_with_hires_places_at_least_what_the_plan_promises(tmp_path, seed, moves_share):
    today = random_agency(160, 8, seed=seed, fill=0.95, waiting_share=0.4,
                          policy=Policy(max_moves_share=moves_share))  # the planner uses the nightly moves too
    plan = plan_hires(today, derive_candidates(today), 2.5 * FTE_COST, seed=seed, time_limit_s=20)
    assert plan.hires, "the generated waitlist should call for a hire"
    assert plan.placed_with > plan.placed_without

    write_staffing(plan, tmp_path / "staff")
    folder = tmp_path / "with_hires"
    write_agency(today, folder)
    (folder / "workers.csv").write_text((tmp_path / "staff" / WORKERS_WITH_HIRES_CSV).read_text(encoding="utf-8"),
                                        encoding="utf-8")
    with_hires = load_agency(folder, as_of=today.as_of)
    assert {w.worker_id for w in with_hires.workers} == {w.worker_id for w in plan.workers}
    nightly = assign(with_hires, time_limit_s=20, seed=seed)
    assert violations(with_hires, nightly) == []
    assert nightly.summary["objective"]["placements"] >= plan.placed_with
    on_hires = sum(1 for a in nightly.assignments if a.worker_id and a.worker_id.startswith("HIRE-"))
    assert on_hires >= 1
    # begun from the plan (`caseload assign --start STAFF_OUT`), the promise holds by construction: the plan is
    # kept whole, nothing dropped, whatever the run's time
    begun = assign(with_hires, time_limit_s=1, seed=seed + 1, start_from=load_start(tmp_path / "staff", with_hires))
    assert violations(with_hires, begun) == []
    assert begun.summary["start"]["dropped"] == 0 and begun.summary["start"]["placed"] == plan.placed_with
    assert begun.summary["objective"]["placements"] >= plan.placed_with


@st.composite
def candidate_pools(draw) -> list[Candidate]:
    n = draw(st.integers(1, 4))
    return [Candidate(
        candidate_id=f"c{k}", fte=draw(st.sampled_from([0.5, 1.0])),
        languages=(draw(st.sampled_from(LANGUAGES)),), french=draw(st.booleans()),
        areas=frozenset(draw(st.sets(st.sampled_from(AREAS), max_size=1))),
        annual_cost=draw(st.sampled_from([None, 30_000.0, 60_000.0, 100_000.0])),
        max_hires=draw(st.sampled_from([None, 1, 2])),
    ) for k in range(n)]


@PROPERTY
@given(agency=agencies(max_clients=12, max_workers=3), pool=candidate_pools(),
       budget=st.sampled_from([0.0, 25_000.0, 60_000.0, 150_000.0]))
def test_a_plan_stays_within_budget_and_never_places_fewer_than_no_hire(agency: Agency, pool, budget):
    plan = plan_hires(agency, pool, budget, time_limit_s=10)
    assert plan.cost <= budget + 1e-6
    assert plan.placed_with >= plan.placed_without
    by_id = {c.candidate_id: c for c in pool}
    for cid, n in plan.hires.items():
        assert n >= 1
        assert by_id[cid].max_hires is None or n <= by_id[cid].max_hires
        # a hire that takes nobody is never bought: it takes a waiting client, or an active one moved to make room
        # (hypothesis: a forced mover re-placed where the client moved to the hire was)
        assert plan.clients_placed[cid] + plan.summary["moved_to_hires"][cid] >= 1
    assert sum(plan.clients_placed.values()) <= plan.placed_with
    assert plan.bound is None or plan.bound >= plan.placed_with


@PROPERTY
@given(agency=agencies(max_clients=12, max_workers=3), pool=candidate_pools(), steps=st.integers(1, 4))
def test_the_frontier_never_decreases_as_the_budget_grows(agency: Agency, pool, steps):
    plan = plan_hires(agency, pool, 150_000.0, time_limit_s=10, frontier_steps=steps)
    placed = [row["placed"] for row in plan.frontier]
    budgets = [row["budget"] for row in plan.frontier]
    assert len(placed) == steps + 1 and budgets == sorted(budgets)
    assert all(a <= b for a, b in zip(placed, placed[1:], strict=False))
    assert placed[0] == plan.placed_without and placed[-1] == plan.placed_with
    assert all(row["cost"] <= row["budget"] + 1e-6 for row in plan.frontier)
