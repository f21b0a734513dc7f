"""Reasons a coordinator reads: the rule that leaves a client no worker, capacity, families, moves."""

from __future__ import annotations

from datetime import timedelta

from caseload.domain import Decision
from tests.optimizer.agencies import AS_OF, active, agency, caseload, client, worker
from tests.optimizer.conftest import by_id


def reason(plan, client_id: str) -> str:
    a = by_id(plan)[client_id]
    assert a.decision == Decision.WAITING
    return a.reason


def test_reason_names_the_rule_where_the_last_candidates_drop_out(solve):
    workers = [worker("W1", languages=("ar",), gender="female"), worker("W2", languages=("ar",), gender="female"),
               worker("W3", languages=("ar",), gender="male"), worker("W4", languages=("en",), gender="female")]
    c = client("C1", languages=("ar",), worker_gender_preference="female", excluded_workers=frozenset({"W1", "W2"}))
    plan = solve(agency([c], workers))
    assert reason(plan, "C1") == "all 2 female workers speaking ar are excluded by the client"


def test_reason_french_and_area(solve):
    workers = [worker("W1", french=True, areas=frozenset({"K1N"})), worker("W2", areas=frozenset({"J8X"}))]
    c = client("C1", languages=("fr",), french_service=True, area="J8X")
    assert reason(solve(agency([c], workers)), "C1") == "no French-capable worker covers area J8X"


def test_reason_on_leave(solve):
    workers = [worker("W1", languages=("ti",), available=False), worker("W2", languages=("ti",), available=False),
               worker("W3")]
    assert reason(solve(agency([client("C1", languages=("ti",))], workers)), "C1") == \
        "all 2 workers speaking ti are on leave"


def test_reason_capacity_mixed_with_pacing(solve):
    full = caseload("W1", n_low=50)
    paced = [active("R1", "W2", intake_date=AS_OF - timedelta(days=1))]
    workers = [worker("W1"), worker("W2", max_new_per_week=1)]
    plan = solve(agency(full + paced + [client("C1")], workers, max_moves_share=0))
    assert reason(plan, "C1") == "all 2 eligible workers are at target (1) or have reached max_new_per_week (1)"


def test_reason_family_split_across_workers(solve):
    clients = [active("A1", "W1", family_id="fam"), active("A2", "W2", family_id="fam"),
               client("C1", family_id="fam")]
    plan = solve(agency(clients, [worker("W1"), worker("W2")]))
    assert reason(plan, "C1") == "family already served by more than one worker (W1, W2)"


def test_reason_family_member_without_worker(solve):
    clients = [client("C1", family_id="fam"), client("C2", family_id="fam", languages=("ti",))]
    plan = solve(agency(clients, [worker("W1")]))
    assert reason(plan, "C2") == "no worker speaks ti"
    assert reason(plan, "C1") == "a family is placed whole: member C2 has no eligible worker (no worker speaks ti)"


def test_reason_no_common_worker_for_family(solve):
    clients = [client("C1", family_id="fam", languages=("ar",)), client("C2", family_id="fam", languages=("ti",))]
    plan = solve(agency(clients, [worker("W1", languages=("ar",)), worker("W2", languages=("ti",))]))
    assert reason(plan, "C1") == "no worker is eligible for every member of the family"


def test_forced_move_reasons(solve):
    clients = [active("A1", "W1", excluded_workers=frozenset({"W1"}))]
    plan = solve(agency(clients, [worker("W1"), worker("W2")]))
    a = by_id(plan)["A1"]
    assert (a.decision, a.worker_id) == (Decision.MOVED, "W2")
    assert a.reason == "worker W1 is excluded by the client: moved from W1 to W2"


def test_kept_and_new_have_travel_and_language(solve):
    home = {"latitude": 45.42, "longitude": -75.69}
    clients = [active("A1", "W1", **home), client("C1", languages=("ar", "en"), **home)]
    plan = solve(agency(clients, [worker("W1", languages=("en", "ar"), latitude=45.42, longitude=-75.70)]))
    kept, new = by_id(plan)["A1"], by_id(plan)["C1"]
    assert (kept.decision, kept.language, new.decision, new.language) == (Decision.KEPT, "en", Decision.NEW, "ar")
    assert 0.7 < new.travel_km < 0.9
