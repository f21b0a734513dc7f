"""The reference MIP is what the benchmark's "placed / optimum" ratio is measured against, so it is tested on
its own: tiny agencies whose optimum is known by hand, and small random ones where it must agree with the
CP-SAT optimizer whenever both prove optimality on the same rules."""

from __future__ import annotations

import dataclasses
import math
from datetime import date

import highspy
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import benchmarks.assign as bench
from benchmarks.reference_mip import _relaxation_by_pricing, knapsack_hull, plan_violations, solve_reference
from caseload.domain import Agency, Client, NeedLevel, Policy, Status, Worker
from scenarios.generate import generate_agency
from scenarios.rules import can_serve

AS_OF = date(2026, 11, 24)
NO_MOVES = Policy(max_moves_share=0.0)


def worker(worker_id: str, fte: float = 1.0, languages: tuple[str, ...] = ("en",), **kw) -> Worker:
    return Worker(worker_id=worker_id, fte=fte, languages=languages, **kw)


def client(client_id: str, need: str = "low", languages: tuple[str, ...] = ("en",), worker_id: str | None = None,
           **kw) -> Client:
    status = Status.ACTIVE if worker_id else Status.WAITING
    return Client(client_id=client_id, need_level=NeedLevel(need), languages=languages, status=status,
                  worker_id=worker_id, referral_date=date(2026, 6, 1), **kw)


def solve(agency: Agency) -> int:
    result = solve_reference(agency, time_limit_s=60)
    assert result.optimal
    assert result.bound == result.placed
    assert plan_violations(agency, result.assignments) == []
    return result.placed  # type: ignore[return-value]


def test_capacity_prefers_many_low_need_clients() -> None:
    """12 low-need active (36 of 150 units) leave 114 units: 38 low-need clients, not the 11 high-need."""
    active = [client(f"a{k}", worker_id="w") for k in range(12)]
    waiting = [client(f"h{k}", "high") for k in range(12)] + [client(f"l{k}") for k in range(40)]
    agency = Agency(active + waiting, [worker("w")], NO_MOVES, AS_OF)
    assert solve(agency) == 38


def test_a_family_is_placed_whole_or_not_at_all() -> None:
    """Room for two low-need clients: the two singles beat a family of three that would not fit."""
    active = [client(f"a{k}", worker_id="w") for k in range(48)]
    family = [client(f"f{k}", family_id="F1") for k in range(3)]
    agency = Agency(active + family + [client("s1"), client("s2")], [worker("w")], NO_MOVES, AS_OF)
    assert solve(agency) == 2
    family_of_two = [client(f"f{k}", family_id="F1") for k in range(2)]
    assert solve(Agency(active + family_of_two, [worker("w")], NO_MOVES, AS_OF)) == 2


def test_hard_rules_block_placement() -> None:
    workers = [worker("w1", languages=("en", "ar"), gender="male"), worker("w2", languages=("uk",), gender="female")]
    waiting = [
        client("fr", languages=("fr",), french_service=True),       # no French-capable worker
        client("ti", languages=("ti",)),                            # no shared language
        client("pref", languages=("ar",), worker_gender_preference="female"),  # the Arabic speaker is male
        client("excl", languages=("ar",), excluded_workers=frozenset({"w1"})),
        client("ok", languages=("ar",)),
        client("ok2", languages=("uk", "ru")),
    ]
    assert solve(Agency(waiting, workers, NO_MOVES, AS_OF)) == 2


def test_areas_travel_and_leave() -> None:
    workers = [
        worker("area", areas=frozenset({"K1N"})),
        worker("near", latitude=45.42, longitude=-75.69, max_travel_km=5),
        worker("leave", available=False),
    ]
    waiting = [
        client("in_area", area="K1N", latitude=45.0, longitude=-70.0),     # only 'area' (travel too far)
        client("close", area="J8X", latitude=45.43, longitude=-75.70),      # only 'near'
        client("far", area="J9J", latitude=46.0, longitude=-76.5),          # nobody available
    ]
    assert solve(Agency(waiting, workers, NO_MOVES, AS_OF)) == 2


def test_weekly_intake_limit_and_over_target_worker() -> None:
    paced = worker("paced", max_new_per_week=3)
    recent = client("r1", worker_id="paced", intake_date=date(2026, 11, 20))  # counts against this week
    over = worker("over", fte=0.5)
    overloaded = [client(f"o{k}", "high", worker_id="over") for k in range(8)]  # 80 > 75 units
    waiting = [client(f"l{k}") for k in range(6)]
    agency = Agency([recent, *overloaded, *waiting], [paced, over], NO_MOVES, AS_OF)
    assert solve(agency) == 2


def test_an_optional_move_makes_room_and_respects_the_budget() -> None:
    """A is full with English speakers; the Arabic-only client fits only with A once one of them moves to B."""
    a = worker("A", fte=0.06, languages=("ar", "en"))  # 9 units: three low-need clients
    b = worker("B", fte=0.02)                          # 3 units: one low-need client
    active = [client(f"a{k}", worker_id="A") for k in range(3)]
    waiting = [client("arabic", languages=("ar",))]
    assert solve(Agency(active + waiting, [a, b], Policy(max_moves_share=0.34), AS_OF)) == 1
    assert solve(Agency(active + waiting, [a, b], Policy(max_moves_share=0.33), AS_OF)) == 0  # floor(0.99) = 0


def test_the_start_plan_is_checked_not_trusted() -> None:
    agency = Agency([client("c1", languages=("ar",)), client("c2")], [worker("w")], NO_MOVES, AS_OF)
    bad = solve_reference(agency, start_plan={"c1": "w", "c2": None}, time_limit_s=10)
    assert bad.start_accepted is False and bad.placed == 1
    good = solve_reference(agency, start_plan={"c1": None, "c2": "w"}, time_limit_s=10)
    assert good.start_accepted is True and good.placed == 1


def test_an_unsolved_lp_relaxation_skips_the_full_model() -> None:
    """When the LP relaxation is not solved in phase 1's share, the full model's root cannot finish either
    (on 50,000 clients it ran 17 minutes past its limit): the reference keeps the offered start and
    bounds by the clients waiting, and says it hit its limit."""
    agency = Agency([client("c1"), client("c2"), client("c3", languages=("ar",))], [worker("w", fte=0.04)],
                    NO_MOVES, AS_OF)
    result = solve_reference(agency, time_limit_s=10, start_plan={"c1": "w", "c2": None, "c3": None},
                             highs_options={"presolve": "off", "simplex_iteration_limit": 0})
    assert result.status == "time_limit" and result.lp_bound is None
    assert result.placed == 1 and result.bound == 3
    assert plan_violations(agency, result.assignments) == []


def sleep_in_child(*_args) -> None:
    """A reference stuck inside HiGHS: it never answers."""
    import time
    time.sleep(60)


def test_the_benchmark_stops_a_reference_past_its_hard_wall(monkeypatch) -> None:
    """HiGHS' own limit does not hold inside every step, so the benchmark runs the reference in a child
    process and stops it at a wall; the row then says it did not finish, with no plan."""
    monkeypatch.setattr(bench, "REFERENCE_WALL_FACTOR", 0.0)
    monkeypatch.setattr(bench, "REFERENCE_WALL_EXTRA_S", 5.0)
    agency = Agency([client("c1"), client("c2")], [worker("w")], NO_MOVES, AS_OF)
    result = bench.reference_within(agency, 1.0, 1, {}, bench.Progress(0.0), target=sleep_in_child)
    assert result.status == "did not finish" and result.placed is None and result.bound == 2


def test_the_benchmark_returns_the_reference_it_ran_in_a_child() -> None:
    """Spawned after HiGHS has run here (the earlier tests), the child's HiGHS still solves: a forked one
    did not."""
    agency = Agency([client("c1"), client("c2")], [worker("w", fte=0.02)], NO_MOVES, AS_OF)
    result = bench.reference_within(agency, 10.0, 1, {"c1": "w", "c2": None}, bench.Progress(0.0))
    assert result.optimal and result.placed == 1 and result.start_accepted is True


@pytest.mark.parametrize(("high", "low", "cap"), [(10, 3, 75), (10, 3, 150), (50, 15, 600), (12, 5, 37), (7, 7, 0)])
def test_knapsack_hull_has_exactly_the_integer_points(high: int, low: int, cap: int) -> None:
    facets = knapsack_hull(high, low, cap)
    for h in range(cap // high + 3):
        for lo in range(cap // low + 3):
            feasible = h * high + lo * low <= cap
            assert feasible == all(a * h + b * lo <= c for a, b, c in facets), (h, lo)


def _random_lp(seed: int) -> tuple[highspy.HighsLp, float]:
    """A random maximising LP of the reference's shape (``<=`` rows, bounded non-negative columns) and its
    optimum by HiGHS over every column at once."""
    rng = np.random.default_rng(seed)
    n_rows, n = 5, 30
    dense = rng.integers(0, 4, size=(n_rows, n)) * (rng.random((n_rows, n)) < 0.5)
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n, n_rows
    lp.col_cost_ = rng.integers(0, 4, size=n).astype(float)
    lp.col_lower_ = np.zeros(n)
    lp.col_upper_ = rng.integers(1, 4, size=n).astype(float)
    lp.row_lower_ = np.full(n_rows, -highspy.kHighsInf)
    lp.row_upper_ = rng.integers(2, 12, size=n_rows).astype(float)
    rows, cols = np.nonzero(dense.T)  # column-wise: (column, row) pairs in column order
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = np.searchsorted(rows, np.arange(n + 1)).astype(np.int32)
    lp.a_matrix_.index_ = cols.astype(np.int32)
    lp.a_matrix_.value_ = dense.T[rows, cols].astype(float)
    lp.sense_ = highspy.ObjSense.kMaximize
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.passModel(lp)
    h.run()
    return lp, h.getInfo().objective_function_value


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), share=st.floats(0.0, 0.6))
def test_column_generation_bounds_the_lp_and_converges_to_it(seed: int, share: float) -> None:
    """The reference's LP relaxation is solved over a growing subset of columns: the bound from any round's
    duals is never below the LP's optimum, and once no column prices out it is that optimum."""
    lp, optimum = _random_lp(seed)
    first = np.random.default_rng(seed + 1).random(lp.num_col_) < share
    one_round = _relaxation_by_pricing(lp, first, 30.0, 2, {}, max_rounds=1)
    assert one_round.bound >= optimum - 1e-6
    whole = _relaxation_by_pricing(lp, first, 30.0, 2, {})
    assert whole.converged
    assert whole.bound == pytest.approx(optimum, abs=1e-6)
    assert whole.values @ np.asarray(lp.col_cost_) == pytest.approx(optimum, abs=1e-6)


def _small_agency(seed: int, policy: Policy, n_clients: int = 140, n_workers: int = 6) -> Agency:
    agency = generate_agency(n_clients, n_workers, seed=seed)
    return dataclasses.replace(agency, policy=policy)


@pytest.mark.parametrize(("seed", "n_clients", "n_workers"), [(1, 140, 6), (2, 140, 6), (3, 140, 6), (4, 140, 6),
                                                              (7, 480, 18), (8, 480, 18)])
def test_agrees_with_the_optimizer_when_both_are_optimal(seed: int, n_clients: int, n_workers: int) -> None:
    """Without optional moves both solve the same problem: equal counts whenever both prove optimality."""
    from optimizer import assign

    agency = _small_agency(seed, NO_MOVES, n_clients, n_workers)
    plan = assign(agency, time_limit_s=10, seed=0)
    ref = solve_reference(agency, time_limit_s=30)
    plan_map = {a.client_id: a.worker_id for a in plan.assignments}
    assert plan_violations(agency, plan_map) == []
    assert plan.summary["placed"] <= ref.bound
    if ref.optimal and plan.summary["status"] == "OPTIMAL":
        assert plan.summary["placed"] == ref.placed


@pytest.mark.parametrize("seed", [5, 6])
def test_with_moves_the_optimizer_plan_is_a_feasible_reference_plan(seed: int) -> None:
    """With moves the optimizer searches fewer of them, so the reference can only match or beat it."""
    from optimizer import assign

    agency = _small_agency(seed, Policy())
    plan = assign(agency, time_limit_s=10, seed=0)
    plan_map = {a.client_id: a.worker_id for a in plan.assignments}
    ref = solve_reference(agency, time_limit_s=30, start_plan=plan_map)
    assert ref.start_accepted
    assert ref.placed is not None and ref.placed >= plan.summary["placed"]
    assert plan_violations(agency, ref.assignments) == []


def test_reference_plan_obeys_the_rules_on_a_generated_agency() -> None:
    agency = generate_agency(300, 10, seed=9)
    ref = solve_reference(agency, time_limit_s=30)
    assert ref.placed is not None and ref.placed > 0
    assert plan_violations(agency, ref.assignments) == []
    workers = {w.worker_id: w for w in agency.workers}
    for c in agency.clients:
        wid = ref.assignments[c.client_id]
        if wid is not None:
            assert can_serve(c, workers[wid])


def test_a_large_model_searches_each_types_best_priced_columns_first(monkeypatch) -> None:
    """Past PHASE1_MAX_PLACEMENT_COLUMNS, phase 1's MIP keeps only each type's best-priced placement columns
    (and the LP's, and the offered start's): its plan still obeys every rule, is never worse than the start,
    and the bound is still the whole model's LP."""
    import benchmarks.reference_mip as ref_mip
    agency = generate_agency(300, 10, seed=9)
    whole = solve_reference(agency, time_limit_s=30)
    from optimizer import greedy_assign
    greedy = greedy_assign(agency)
    start = {a.client_id: a.worker_id for a in greedy.assignments}
    monkeypatch.setattr(ref_mip, "PHASE1_MAX_PLACEMENT_COLUMNS", 0)
    monkeypatch.setattr(ref_mip, "FULL_MODEL_MAX_COLUMNS", 0)
    monkeypatch.setattr(ref_mip, "PHASE1_PER_TYPE", 1)
    narrow = solve_reference(agency, time_limit_s=30, start_plan=start)
    assert narrow.start_accepted
    assert plan_violations(agency, narrow.assignments) == []
    assert narrow.placed is not None and narrow.placed >= greedy.summary["placed"]
    assert narrow.lp_bound == pytest.approx(whole.lp_bound, abs=1e-6)
    assert narrow.bound == math.floor(whole.lp_bound + 1e-6) >= (whole.placed or 0)


def _row(**kw) -> bench.Row:
    fields = dict(clients=50_000, workers=1_000, waiting=7_500, generate_s=1.0, notes={}, assign_budget_s=120,
                  assign_wall_s=110.0, assign_status="FEASIBLE", placed=2_894, placement_bound=3_035, moved=500,
                  greedy_placed=2_028, greedy_wall_s=5.0, ref_status="time_limit", ref_placed=2_894, ref_bound=7_500,
                  ref_gap=0.6, ref_wall_s=200.0, ref_moves=500, ref_vars=2_000_000, ref_start_accepted=True,
                  violations_optimizer_check=0, violations_reference_check=0, violations_reference_plan=0,
                  examples=[], ref_lp_bound=None)
    fields.update(kw)
    return bench.Row(**fields)


def test_no_ratio_against_a_reference_that_only_kept_the_offered_start() -> None:
    info = {"nproc": "2", "cpu": "x", "platform": "y", "python": "3.11", "ortools version": "9",
            "highspy version": "1", "numpy version": "2", "commit": "abc"}
    unsolved = _row()
    assert unsolved.ratio is None
    text = bench.render([unsolved], info, "cmd", "now", None)
    assert "placed/reference NOT CHECKED" in text and "placed/reference 100.00%" not in text
    assert "| n/a | 2,028 | n/a | 42.70% |" in text  # no margin of the "optimum" over greedy either
    solved = _row(ref_lp_bound=3_040.5, ref_placed=2_900)
    assert solved.ratio == pytest.approx(2_894 / 2_900)
    assert "NOT CHECKED" not in bench.render([solved], info, "cmd", "now", None)


@pytest.mark.slow
@pytest.mark.parametrize(("seed", "n_clients", "n_workers"), [(5, 140, 6), (6, 140, 6), (7, 480, 18)])
def test_with_moves_a_bound_over_every_move_holds_for_the_reference(seed: int, n_clients: int,
                                                                    n_workers: int) -> None:
    """A small agency's model has every optional move (chains too), so its bound is tonight's: the
    reference, which may move anyone anywhere, never places more, and a plan called optimal places as
    many as a reference proven optimal. Seed 7's 480 clients need a chain of moves for their 64th
    placement: the one-step model called 63 optimal there (bound 63; the reference proves 64 in ~40 s)."""
    from optimizer import assign

    agency = _small_agency(seed, Policy(), n_clients, n_workers)
    plan = assign(agency, time_limit_s=5, seed=0)
    assert plan.summary["model"]["columns"] <= 3000 and "could place more" not in plan.summary["bound_source"]
    ref = solve_reference(agency, time_limit_s=90)
    assert ref.placed is not None and ref.placed <= plan.summary["placement_bound"]
    if ref.optimal and plan.summary["status"] == "OPTIMAL":
        assert plan.summary["placed"] == ref.placed
