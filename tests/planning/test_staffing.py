"""The staffing planner on tiny hand-built agencies: one focused test per promise of issue 16."""

from __future__ import annotations

from dataclasses import replace

import pytest

from caseload.domain import Candidate, Decision, NeedLevel
from optimizer import assign
from planning.staffing import bottlenecks, derive_candidates, frontier, plan_hires
from tests.optimizer.agencies import agency, caseload, client, worker

COST = 78_000.0


def _city() -> tuple:
    """Three Tigrinya-speaking clients waiting in Hamilton, one French-service client there too, and one English
    worker with no room (so without a hire nobody is placed)."""
    clients = [client(f"T{n}", languages=("ti",), area="HAM") for n in range(3)]
    clients.append(client("F1", languages=("fr",), french_service=True, area="HAM"))
    clients += caseload("W1", n_low=50)
    return clients, [worker("W1")]


def _candidates() -> list[Candidate]:
    return [
        Candidate("ti-hamilton", fte=1.0, languages=("ti",), areas=frozenset({"HAM"})),
        Candidate("ti-toronto", fte=1.0, languages=("ti",), areas=frozenset({"TOR"})),   # wrong city
        Candidate("ar-hamilton", fte=1.0, languages=("ar",), areas=frozenset({"HAM"})),  # nobody speaks it
        Candidate("fr-hamilton", fte=1.0, languages=("en",), french=True, areas=frozenset({"HAM"})),
    ]


def test_the_hire_that_fits_the_most_waiting_clients_is_chosen():
    plan = plan_hires(agency(*_city()), _candidates(), COST, time_limit_s=10)
    assert plan.hires == {"ti-hamilton": 1}
    assert (plan.placed_without, plan.placed_with, plan.bound) == (0, 3, 3)
    assert plan.clients_placed == {"ti-hamilton": 3}
    assert plan.cost == COST
    assert [w.worker_id for w in plan.hire_workers] == ["HIRE-ti-hamilton-1"]


def test_a_second_hire_goes_to_the_french_service_client():
    plan = plan_hires(agency(*_city()), _candidates(), 2 * COST, time_limit_s=10)
    assert plan.hires == {"ti-hamilton": 1, "fr-hamilton": 1}
    assert plan.placed_with == 4
    assert plan.clients_placed == {"ti-hamilton": 3, "fr-hamilton": 1}


def test_a_budget_of_zero_hires_nobody():
    plan = plan_hires(agency(*_city()), _candidates(), 0.0, time_limit_s=10)
    assert plan.hires == {} and plan.cost == 0
    assert plan.placed_with == plan.placed_without == 0
    assert [w.worker_id for w in plan.workers] == ["W1"]


def test_a_candidate_costing_more_than_the_budget_is_never_chosen():
    candidates = _candidates()
    candidates[0] = Candidate("ti-hamilton", fte=1.0, languages=("ti",), areas=frozenset({"HAM"}),
                              annual_cost=COST + 1)
    plan = plan_hires(agency(*_city()), candidates, COST, time_limit_s=10)
    assert "ti-hamilton" not in plan.hires
    assert plan.hires == {"fr-hamilton": 1}  # the best the budget buys: the French-service client
    assert plan.placed_with == 1


def test_max_hires_holds():
    clients = [client(f"T{n}", languages=("ti",), area="HAM", need_level=NeedLevel.HIGH) for n in range(40)]
    capped = Candidate("ti-hamilton", fte=1.0, languages=("ti",), areas=frozenset({"HAM"}), max_hires=1)
    plan = plan_hires(agency(clients, [worker("W1")]), [capped], 3 * COST, time_limit_s=10)
    assert plan.hires == {"ti-hamilton": 1}
    assert plan.placed_with == 15  # one FTE holds 15 high-need clients (policy default)
    uncapped = plan_hires(agency(clients, [worker("W1")]), [replace(capped, max_hires=None)], 3 * COST,
                          time_limit_s=10)
    assert uncapped.hires == {"ti-hamilton": 3} and uncapped.placed_with == 40


def test_cheaper_of_two_equal_plans_is_chosen():
    candidates = [Candidate("ti-a", fte=1.0, languages=("ti",), annual_cost=90_000),
                  Candidate("ti-b", fte=1.0, languages=("ti",), annual_cost=70_000)]
    plan = plan_hires(agency(*_city()), candidates, 100_000, time_limit_s=10)
    assert plan.hires == {"ti-b": 1} and plan.cost == 70_000


def test_a_family_is_placed_whole_with_one_hire():
    clients = [client(f"T{n}", languages=("ti",), family_id="FAM", need_level=NeedLevel.HIGH) for n in range(3)]
    half = Candidate("ti-half", fte=0.1, languages=("ti",), annual_cost=1_000)  # room for one high-need client
    plan = plan_hires(agency(clients, [worker("W1")]), [half], 10_000, time_limit_s=10)
    hired = {a.worker_id for a in plan.assignments if a.worker_id}
    assert plan.placed_with in (0, 3) and len(hired) <= 1


def test_a_budget_below_the_cheapest_candidate_says_so_and_hires_nobody():
    plan = plan_hires(agency(*_city()), _candidates(), 50_000, time_limit_s=10)
    assert plan.hires == {} and plan.placed_with == plan.placed_without
    assert plan.note is not None and "below the cheapest candidate" in plan.note and "78,000" in plan.note


def test_derived_candidates_cover_what_waiting_clients_need():
    found = {(c.languages, c.french, c.areas) for c in derive_candidates(agency(*_city()))}
    assert (("ti",), False, frozenset({"HAM"})) in found
    assert (("fr",), True, frozenset({"HAM"})) in found
    plan = plan_hires(agency(*_city()), derive_candidates(agency(*_city())), 2 * COST, time_limit_s=10)
    assert plan.placed_with == 4


def test_the_frontier_ends_at_the_plan_and_says_what_each_step_buys():
    rows = frontier(agency(*_city()), _candidates(), 2 * COST, steps=2, time_limit_s=10)
    assert [r["budget"] for r in rows] == [0, COST, 2 * COST]
    assert [r["placed"] for r in rows] == [0, 3, 4]
    assert rows[1]["placed_per_100000"] == pytest.approx(3 * 100_000 / COST, abs=1e-3)


def test_bottlenecks_say_who_waits_why_and_what_one_more_fte_places():
    table = bottlenecks(agency(*_city()), time_limit_s=10).set_index(["language", "french", "area"])
    ti = table.loc[("ti", False, "HAM")]
    assert ti["waiting"] == 3
    assert ti["reasons"] == "no worker speaks ti: 3"
    assert ti["one_more_fte_places"] == 3 and ti["proven"]
    assert table.loc[("fr", True, "HAM")]["one_more_fte_places"] == 1


def test_bottlenecks_beyond_max_groups_say_they_were_not_computed_and_name_no_client():
    clients, workers = _city()
    clients.append(client("G1", languages=("ti",), area="HAM", family_id="FAM"))
    clients.append(client("G2", languages=("ar",), area="HAM", family_id="FAM"))  # no worker for the whole family
    table = bottlenecks(agency(clients, workers), time_limit_s=10, max_groups=1)
    assert table.iloc[0]["method"].startswith("exact re-solve")
    assert all(m.startswith("not computed") for m in table.iloc[1:]["method"])
    assert table.iloc[1:]["one_more_fte_places"].isna().all()
    assert not any("G1" in r or "G2" in r for r in table["reasons"])


def test_bottleneck_reasons_drop_a_family_members_id():
    from planning.staffing import _without_ids

    reason = "a family is placed whole: member C004603 has no eligible worker (no worker speaking uk covering J9J)"
    assert _without_ids(reason) == ("a family is placed whole: a member has no eligible worker "
                                    "(no worker speaking uk covering J9J)")


def _full_arabic_speaker(with_room: bool) -> tuple:
    """W1 (Arabic, English) is at target; C1 waits and speaks only Arabic; W2 (English), when there, has room for
    one: moving one of W1's clients to W2 (the nightly optimizer's optional move) makes room for C1."""
    clients = caseload("W1", n_low=50) + [client("C1", languages=("ar",))]
    workers = [worker("W1", languages=("ar", "en"))]
    if with_room:
        clients += caseload("W2", n_low=49)
        workers.append(worker("W2"))
    return clients, workers


def test_placements_without_hires_are_the_nightly_optimizers_moves_included():
    today = agency(*_full_arabic_speaker(True), max_moves_share=0.1)
    nightly = assign(today, time_limit_s=10)
    assert nightly.summary["objective"]["placements"] == 1
    plan = plan_hires(today, [Candidate("ti", fte=1.0, languages=("ti",))], COST, time_limit_s=10)
    assert plan.placed_without == plan.placed_with == 1 and plan.hires == {}
    assert sum(a.decision == Decision.MOVED for a in plan.assignments) == 1
    assert plan.summary["placed_without"] == 1


def test_a_hire_that_takes_a_moved_client_to_make_room_is_valued():
    today = agency(*_full_arabic_speaker(False), max_moves_share=0.1)
    plan = plan_hires(today, [Candidate("en", fte=1.0, languages=("en",))], COST, time_limit_s=10)
    assert (plan.placed_without, plan.placed_with) == (0, 1) and plan.hires == {"en": 1}
    moved = [a for a in plan.assignments if a.decision == Decision.MOVED]
    assert [a.worker_id for a in moved] == ["HIRE-en-1"]
    assert plan.clients_placed == {"en": 0}  # C1 goes to W1; the hire takes the client moved to make room
    assert plan.summary["moved_to_hires"] == {"en": 1}
    without_moves = plan_hires(agency(*_full_arabic_speaker(False), max_moves_share=0.0),
                               [Candidate("en", fte=1.0, languages=("en",))], COST, time_limit_s=10)
    assert without_moves.placed_with == 0 and without_moves.hires == {}


@pytest.mark.parametrize(("budget", "opened", "placed"), [(COST, {0}, 3), (2 * COST, {0, 3}, 4)])
def test_a_large_models_start_already_has_the_hires_first_fit_places_most_per_dollar(monkeypatch, budget, opened,
                                                                                     placed):
    """Issue 16 at 6,000 clients: on a large model (tonight's moves fixed) HiGHS may not finish its root LP in the
    time and returns its start; that start was tonight's plan without any hire, so the planner hired nobody."""
    import planning.staffing as staffing
    from optimizer.opening import OpeningModel

    monkeypatch.setattr(staffing, "EXACT_COLUMNS", 0)  # the large-model path on a tiny agency
    starts = []
    solve = OpeningModel.solve

    def recording(self, budget, *, start=None, **kwargs):
        starts.append((self, budget, start))
        return solve(self, budget, start=start, **kwargs)

    monkeypatch.setattr(OpeningModel, "solve", recording)
    plan = plan_hires(agency(*_city()), _candidates(), budget, time_limit_s=10)
    model, last_budget, start = starts[-1]
    assert last_budget == budget
    assert {int(model.openings.kind[n]) for n in range(model.n_y) if start[model.n_x + n] > 0.5} == opened
    assert int(model.placement @ start[:model.n_x]) == placed
    assert model.feasible(start, budget)
    assert plan.placed_with == placed


def test_a_small_agencys_plan_counts_moves_in_a_chain():
    """W1 (Arabic, Farsi) is full of Farsi speakers, W2 (Farsi, English) full of English speakers, W3 has room
    for one: tonight C1 (Arabic) is placed only by a chain of two moves. A hire who speaks Arabic places C2 as
    well; without the chain the planner would count one placement fewer with and without hires."""
    from tests.optimizer.agencies import active

    farsi = [active(f"F{n}", "W1", languages=("fa",)) for n in range(50)]
    ag = agency(farsi + caseload("W2", n_low=50) + caseload("W3", n_low=49)
                + [client("C1", languages=("ar",)), client("C2", languages=("ar",))],
                [worker("W1", languages=("ar", "fa")), worker("W2", languages=("fa", "en")), worker("W3")],
                max_moves_share=0.1)
    hire = Candidate("ar-half", fte=0.5, languages=("ar",), annual_cost=39_000.0)
    plan = plan_hires(ag, [hire], 39_000.0, seed=0, time_limit_s=20)
    assert plan.placed_without == 1 and plan.placed_with == 2
    assert plan.summary["status"] == "OPTIMAL" and plan.summary["placement_bound"] == 2


def test_a_large_models_start_is_never_below_the_managers_own_rule(monkeypatch):
    """Per dollar, a cheap part-time Somali hire (3 clients for $10,000) comes first and leaves too little for
    the Tigrinya hire ten clients wait for; the manager's rule (the largest group first) buys the latter. The
    planner starts from whichever places more."""
    import planning.staffing as staffing
    from optimizer.opening import OpeningModel

    clients = [client(f"T{n}", languages=("ti",), area="HAM") for n in range(10)]
    clients += [client(f"S{n}", languages=("so",), area="HAM") for n in range(3)]
    clients += caseload("W1", n_low=50)
    candidates = [Candidate("ti-hamilton", fte=1.0, languages=("ti",), areas=frozenset({"HAM"})),
                  Candidate("so-part", fte=0.1, languages=("so",), areas=frozenset({"HAM"}), annual_cost=10_000.0)]
    monkeypatch.setattr(staffing, "EXACT_COLUMNS", 0)  # the large-model path on a tiny agency
    starts = []
    solve = OpeningModel.solve

    def recording(self, budget, *, start=None, **kwargs):
        starts.append((self, start))
        return solve(self, budget, start=start, **kwargs)

    monkeypatch.setattr(OpeningModel, "solve", recording)
    plan = plan_hires(agency(clients, [worker("W1")]), candidates, COST, time_limit_s=10)
    model, start = starts[-1]
    assert {int(model.openings.kind[n]) for n in range(model.n_y) if start[model.n_x + n] > 0.5} == {0}
    assert int(model.placement @ start[:model.n_x]) == 10
    assert plan.hires == {"ti-hamilton": 1} and plan.placed_with == 10
