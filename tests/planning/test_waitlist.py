"""planning.waitlist: the queue's order, its reasons and its expected placement dates.

Small hand-built agencies: workers filled to their target so that nobody is placed tonight and every
waiting client's date depends only on exits and the queue ahead. The dates are checked against the
SimPy simulation run from the same agency, and against the agency with one worker fewer.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from caseload.domain import Agency, Client, NeedLevel, Override, OverrideAction, Policy, Status, Worker
from optimizer import compute_eligibility, greedy_assign
from planning.waitlist import COLUMNS, NOT_IN_PLAN, waitlist
from simulation import run_scenario, start_state_from_agency
from simulation.schema import scenario_from_dict

AS_OF = date(2027, 3, 1)
DAYS_PER_MONTH = 365.2425 / 12


def full_agency(workers: int = 3, waiting: int = 12, languages=("en",), seed: int = 0) -> Agency:
    """Workers of 1 FTE each with 15 high-need clients (at target), intakes spread over the last 16 months,
    and `waiting` high-need clients referred a week apart (the first referred is first in line)."""
    rng = np.random.default_rng(seed)
    staff = [Worker(f"w{j}", 1.0, languages) for j in range(workers)]
    clients = []
    for j in range(workers):
        for k in range(15):
            clients.append(Client(
                f"a{j}-{k}", NeedLevel.HIGH, languages[:1], status=Status.ACTIVE, worker_id=f"w{j}",
                referral_date=AS_OF - timedelta(days=600),
                intake_date=AS_OF - timedelta(days=int(rng.integers(5, 480))),
            ))
    for i in range(waiting):
        clients.append(Client(f"q{i:02d}", NeedLevel.HIGH, languages[:1],
                              referral_date=AS_OF - timedelta(days=7 * (waiting - i))))
    return Agency(clients, staff, Policy(), as_of=AS_OF)


def months_after(day: pd.Timestamp, as_of: date) -> float:
    return (day - pd.Timestamp(as_of)).days / DAYS_PER_MONTH


def test_the_table_has_the_contracts_columns_and_the_plans_reasons() -> None:
    agency = full_agency(waiting=4)
    plan = greedy_assign(agency)
    table = waitlist(agency, plan, replications=40)
    assert list(table.columns) == COLUMNS
    assert sorted(table["client_id"]) == [c.client_id for c in agency.waiting]
    reasons = {a.client_id: a.reason for a in plan.assignments}
    assert all(table["reason"] == table["client_id"].map(reasons)) and all(table["reason"] != "")
    assert (table["eligible_workers"] == 3).all()
    assert (table["days_waiting"] == [(AS_OF - c.referral_date).days for c in agency.waiting]).all()
    early, median, late = (table[c] for c in ("expected_placement_early", "expected_placement",
                                              "expected_placement_late"))
    assert (early <= median).all() and (median <= late).all() and (early > pd.Timestamp(AS_OF)).all()


def test_without_a_plan_it_makes_tonights_plan() -> None:
    agency = full_agency(waiting=3)
    table = waitlist(agency, replications=20, time_limit_s=5)
    assert len(table) == 3 and table["reason"].str.contains("at target").all()


def test_the_first_referred_is_first_and_expected_first() -> None:
    table = waitlist(full_agency(), greedy_assign(full_agency()), replications=100)
    assert table["client_id"].tolist() == [f"q{i:02d}" for i in range(12)]
    assert table["position"].tolist() == list(range(1, 13))
    assert table["expected_placement"].is_monotonic_increasing


def test_the_same_seed_gives_the_same_table() -> None:
    agency = full_agency()
    plan = greedy_assign(agency)
    pd.testing.assert_frame_equal(waitlist(agency, plan, seed=3, replications=30),
                                  waitlist(agency, plan, seed=3, replications=30))


def test_clients_nobody_can_serve_are_not_expected_and_say_why() -> None:
    agency = full_agency(waiting=2)
    agency.clients.append(Client("t0", NeedLevel.LOW, ("ti",), referral_date=AS_OF - timedelta(days=3)))
    table = waitlist(agency, greedy_assign(agency), replications=20).set_index("client_id")
    assert table.loc["t0", "eligible_workers"] == 0 and pd.isna(table.loc["t0", "expected_placement"])
    assert "ti" in table.loc["t0", "reason"] and table.loc["t0", "position"] == 1
    assert table["expected_placement"].drop("t0").notna().all()


def test_a_client_left_out_of_the_plan_waits_with_a_reason_that_says_so() -> None:
    agency = full_agency(waiting=2)
    plan = greedy_assign(agency)
    agency.clients.append(Client("late", NeedLevel.HIGH, ("en",), referral_date=AS_OF))
    table = waitlist(agency, plan, replications=20).set_index("client_id")
    assert table.loc["late", "reason"] == NOT_IN_PLAN


def test_next_check_in_counts_from_the_last_review_or_the_referral() -> None:
    agency = full_agency(waiting=2)
    reviewed = AS_OF - timedelta(days=10)
    agency.clients[-1] = Client("q01", NeedLevel.HIGH, ("en",), referral_date=AS_OF - timedelta(days=7),
                                last_review_date=reviewed)
    table = waitlist(agency, greedy_assign(agency), replications=20).set_index("client_id")
    weeks = timedelta(weeks=agency.policy.waitlist_review_weeks)
    assert table.loc["q01", "next_review"] == pd.Timestamp(reviewed + weeks)
    assert table.loc["q00", "next_review"] == pd.Timestamp(agency.clients[-2].referral_date + weeks)


def test_placed_tonight_clients_are_not_on_the_waitlist() -> None:
    agency = full_agency(waiting=3)
    agency.workers.append(Worker("roomy", 0.2, ("en",)))  # room for 3 high-need clients tonight
    plan = greedy_assign(agency)
    placed = {a.client_id for a in plan.assignments if a.worker_id == "roomy"}
    assert len(placed) == 3
    assert waitlist(agency, plan, replications=20).empty


def test_dates_move_later_when_a_worker_is_removed() -> None:
    agency = full_agency(workers=4, waiting=16, seed=2)
    gone = agency.workers[-1].worker_id
    fewer = Agency([c for c in agency.clients if c.worker_id != gone], agency.workers[:-1], agency.policy,
                   as_of=AS_OF)
    before = waitlist(agency, greedy_assign(agency), replications=200).set_index("client_id")
    after = waitlist(fewer, greedy_assign(fewer), replications=200).set_index("client_id")
    shift = (after["expected_placement"] - before["expected_placement"]).dt.days
    assert (shift >= 0).all()
    assert (shift > 0).sum() >= len(shift) * 3 // 4
    assert (after["expected_placement_late"] >= before["expected_placement_late"]).all()


def test_the_median_lies_within_the_simulations_interval() -> None:
    """The simulation (no referrals, dropouts, reassessments or attrition: only graduations free room, as in
    the waitlist's model) serves the same queue in the same order; a client at place k is placed in the
    month the waitlist falls to n - k. The waitlist's median must lie inside that month's 90% interval."""
    agency = full_agency(workers=3, waiting=12, seed=1)
    table = waitlist(agency, greedy_assign(agency), replications=200)
    lognormal = {"distribution": "lognormal", "mean": 16, "sd": 4}
    scenario = scenario_from_dict({
        "name": "waitlist check", "start": AS_OF, "horizon_months": 24, "replications": 60, "seed": 4,
        "start_from": "in code", "referrals_per_month": 0, "high_need_share": 1.0,
        "duration_months": {"high": lognormal, "low": lognormal}, "reassessment_every_months": None,
        "step_down_share": 0, "step_up_share": 0, "dropout_per_month": 0, "waitlist_renege_months": None,
        "attrition_per_year": 0, "funding": [{"month": 0, "cost_per_fte": 78000}],
    })
    result = run_scenario(scenario, processes=1, start_state=start_state_from_agency(agency, AS_OF))
    queue = result.metric("waitlist")                                   # (replications, months + 1)
    n = len(agency.waiting)
    assert (queue[:, 0] == n).all()
    for k, row in enumerate(table.itertuples(), start=1):
        month = np.argmax(queue <= n - k, axis=1).astype(float)          # first month-end with k placed
        month[~(queue <= n - k).any(axis=1)] = np.inf
        low, high = np.quantile(month, [0.05, 0.95], method="nearest")
        ours = months_after(row.expected_placement, AS_OF)
        assert low - 1 <= ours <= high, (row.client_id, low, ours, high)


def agency_from(draw: list[tuple[int, int, int]], workers: int, langs: list[tuple[str, ...]]) -> Agency:
    """Waiting clients (priority, days since referral, language) against full workers of given languages."""
    staff = [Worker(f"w{j}", 0.4, langs[j]) for j in range(workers)]
    clients = [Client(f"a{j}", NeedLevel.HIGH, langs[j][:1], status=Status.ACTIVE, worker_id=f"w{j}",
                      intake_date=AS_OF - timedelta(days=30 * (j + 1) * (k + 1)))
               for j in range(workers) for k in range(6)]
    for i, (priority, days, lang) in enumerate(draw):
        clients.append(Client(f"q{i}", NeedLevel.HIGH, (("ar",), ("fa",), ("ar", "fa"))[lang], priority=priority,
                              referral_date=AS_OF - timedelta(days=days),
                              family_id="fam" if i in (0, 1) else None))
    return Agency(clients, staff, Policy(), as_of=AS_OF)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 400), st.integers(0, 2)), min_size=2, max_size=14))
def test_higher_priority_with_the_same_workers_is_never_behind(draw) -> None:
    agency = agency_from(draw, 3, [("ar",), ("fa",), ("ar", "fa")])
    table = waitlist(agency, greedy_assign(agency), replications=20).set_index("client_id")
    el = compute_eligibility(agency)
    workers = {c.client_id: tuple(el.eligible(i)) for i, c in enumerate(el.clients)}
    family = {"q0", "q1"}
    for a in table.index:
        for b in table.index:
            if a in family or b in family or workers[a] != workers[b]:
                continue
            pa, pb = (agency.clients[[c.client_id for c in agency.clients].index(x)].priority for x in (a, b))
            if pa > pb:
                assert table.loc[a, "position"] < table.loc[b, "position"]
                assert table.loc[a, "expected_placement"] <= table.loc[b, "expected_placement"] or \
                    pd.isna(table.loc[b, "expected_placement"])
    assert table.loc[list(family & set(table.index)), "position"].nunique() <= 1  # a family is one place in line


@pytest.mark.parametrize("need", [NeedLevel.HIGH, NeedLevel.LOW])
def test_an_overdue_caseload_frees_room_within_weeks(need) -> None:
    """Every active client past the expected duration leaves within about a month: the first in line is
    expected within five weeks."""
    staff = [Worker("w0", 1.0, ("en",))]
    clients = [Client(f"a{k}", need, ("en",), status=Status.ACTIVE, worker_id="w0",
                      intake_date=AS_OF - timedelta(days=700)) for k in range(15 if need == "high" else 50)]
    clients.append(Client("q0", need, ("en",), referral_date=AS_OF - timedelta(days=3)))
    agency = Agency(clients, staff, Policy(), as_of=AS_OF)
    table = waitlist(agency, greedy_assign(agency), replications=50)
    assert months_after(table["expected_placement_late"].iloc[0], AS_OF) <= 35 / DAYS_PER_MONTH


def test_a_held_client_waits_for_the_hold_to_end_behind_the_others() -> None:
    agency = full_agency(waiting=4)
    free = waitlist(agency, greedy_assign(agency), replications=60).set_index("client_id")
    until = AS_OF + timedelta(days=120)
    agency.overrides = [Override("q00", OverrideAction.HOLD, "awaiting consent", until=until),
                        Override("q01", OverrideAction.HOLD, "moving cities")]
    table = waitlist(agency, greedy_assign(agency), replications=60).set_index("client_id")
    assert table.loc["q00", "reason"].startswith("held by coordinator")
    assert table.loc["q00", "expected_placement_early"] > pd.Timestamp(until)
    assert pd.isna(table.loc["q01", "expected_placement"])          # no end date: no date
    assert (table.loc[["q00", "q01"], "eligible_workers"] == 3).all()  # who could serve them once released
    assert table.loc["q02", "position"] == 1 and table.loc["q00", "position"] > table.loc["q03", "position"]
    assert table.loc["q02", "expected_placement"] <= free.loc["q02", "expected_placement"]


def test_intake_pacing_spreads_placements_over_weeks() -> None:
    """A worker with room for everyone but max_new_per_week 2: two clients a week, in queue order."""
    clients = [Client(f"q{i}", NeedLevel.LOW, ("en",), referral_date=AS_OF - timedelta(days=30 - i))
               for i in range(7)]
    paced = Agency(clients, [Worker("w0", 1.0, ("en",), max_new_per_week=2)], Policy(), as_of=AS_OF)
    plan = greedy_assign(paced)
    assert sum(a.worker_id == "w0" for a in plan.assignments) == 2  # tonight's intake
    table = waitlist(paced, plan, replications=20)
    weeks = ((table["expected_placement"] - pd.Timestamp(AS_OF)).dt.days // 7).tolist()
    assert table["client_id"].tolist() == ["q2", "q3", "q4", "q5", "q6"] and weeks == [1, 1, 2, 2, 3]
    unpaced = Agency(clients, [Worker("w0", 1.0, ("en",))], Policy(), as_of=AS_OF)
    assert waitlist(unpaced, plan, replications=20)["expected_placement"].nunique() == 1
