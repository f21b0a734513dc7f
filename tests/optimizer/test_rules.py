"""One focused test per hard rule: a tiny agency where the rule forbids a placement, and one where it allows it.

Each test also checks the plan with the independent checker (`solve` fixture) and reads the waiting
reason, which must name the rule.
"""

from __future__ import annotations

from datetime import timedelta

from caseload.domain import Decision, NeedLevel
from tests.optimizer.agencies import AS_OF, active, agency, caseload, client, worker
from tests.optimizer.conftest import by_id


def decision(plan, client_id: str):
    return by_id(plan)[client_id]


def test_rule_language_shared(solve):
    plan = solve(agency([client("C1", languages=("ti",))], [worker("W1", languages=("en", "ar"))]))
    assert decision(plan, "C1").decision == Decision.WAITING
    assert decision(plan, "C1").reason == "no worker speaks ti"
    plan = solve(agency([client("C1", languages=("ti", "ar"))], [worker("W1", languages=("en", "ar"))]))
    a = decision(plan, "C1")
    assert (a.decision, a.worker_id, a.language) == (Decision.NEW, "W1", "ar")


def test_rule_language_shared_prefers_first_language_and_primary_subtag(solve):
    plan = solve(agency([client("C1", languages=("fa-AF", "en"))],
                        [worker("W1", languages=("en",)), worker("W2", languages=("fa", "en"))]))
    a = decision(plan, "C1")
    assert (a.worker_id, a.language) == ("W2", "fa")


def test_rule_french_service(solve):
    french_client = client("C1", languages=("fr", "en"), french_service=True)
    plan = solve(agency([french_client], [worker("W1", languages=("fr", "en"), french=False)]))
    assert decision(plan, "C1").decision == Decision.WAITING
    assert decision(plan, "C1").reason == "no French-capable worker"
    plan = solve(agency([french_client], [worker("W1", languages=("en",), french=True)]))
    a = decision(plan, "C1")
    assert (a.decision, a.language) == (Decision.NEW, "fr")


def test_rule_worker_areas(solve):
    plan = solve(agency([client("C1", area="M1B")], [worker("W1", areas=frozenset({"M2N"}))]))
    assert decision(plan, "C1").reason == "no worker covers area M1B"
    plan = solve(agency([client("C1", area="m1b")], [worker("W1", areas=frozenset({"M1B", "M2N"}))]))
    assert decision(plan, "C1").decision == Decision.NEW
    # a client with no area cannot be checked: allowed
    plan = solve(agency([client("C1", area=None)], [worker("W1", areas=frozenset({"M2N"}))]))
    assert decision(plan, "C1").decision == Decision.NEW


def test_rule_max_travel_km(solve):
    home = {"latitude": 45.42, "longitude": -75.69}
    far_office = {"latitude": 45.42, "longitude": -75.00}   # about 54 km east
    near_office = {"latitude": 45.43, "longitude": -75.70}  # about 1.4 km
    plan = solve(agency([client("C1", **home)], [worker("W1", max_travel_km=40, **far_office)]))
    assert decision(plan, "C1").reason == "no worker within travel range of the client's home"
    plan = solve(agency([client("C1", **home)], [worker("W1", max_travel_km=40, **near_office)]))
    a = decision(plan, "C1")
    assert a.decision == Decision.NEW and 1.0 < a.travel_km < 2.0
    # no coordinates on one side: the limit cannot be checked, the pair passes
    plan = solve(agency([client("C1")], [worker("W1", max_travel_km=1, **far_office)]))
    assert decision(plan, "C1").decision == Decision.NEW


def test_rule_excluded_workers(solve):
    plan = solve(agency([client("C1", excluded_workers=frozenset({"W1"}))], [worker("W1")]))
    assert decision(plan, "C1").reason == "the only worker is excluded by the client"
    plan = solve(agency([client("C1", excluded_workers=frozenset({"W1"}))], [worker("W1"), worker("W2")]))
    assert decision(plan, "C1").worker_id == "W2"


def test_rule_unavailable_takes_no_one_new(solve):
    plan = solve(agency([client("C1")], [worker("W1", available=False)]))
    assert decision(plan, "C1").reason == "the only worker is on leave"
    plan = solve(agency([client("C1")], [worker("W1", available=False), worker("W2")]))
    assert decision(plan, "C1").worker_id == "W2"


def test_rule_unavailable_keeps_clients_on_leave_by_policy(solve):
    clients = [active("A1", "W1")]
    workers = [worker("W1", available=False), worker("W2")]
    plan = solve(agency(clients, workers, keep_on_leave=True))
    assert (decision(plan, "A1").decision, decision(plan, "A1").worker_id) == (Decision.KEPT, "W1")
    plan = solve(agency(clients, workers, keep_on_leave=False))
    a = decision(plan, "A1")
    assert (a.decision, a.worker_id) == (Decision.MOVED, "W2")
    assert a.reason == "worker W1 on leave: moved from W1 to W2"
    assert plan.summary["forced_moves"] == 1 and plan.summary["replaced"] == 1


def test_forced_mover_waits_with_a_reason_when_no_one_can_take_them(solve):
    plan = solve(agency([active("A1", "W1", languages=("ti",))],
                        [worker("W1", available=False, languages=("ti",)), worker("W2")], keep_on_leave=False))
    a = decision(plan, "A1")
    assert a.decision == Decision.WAITING
    assert a.reason.startswith("worker W1 on leave; ")


def test_rule_worker_gender_preference(solve):
    plan = solve(agency([client("C1", worker_gender_preference="female")], [worker("W1", gender="male")]))
    assert decision(plan, "C1").reason == "no female worker"
    plan = solve(agency([client("C1", worker_gender_preference="female")],
                        [worker("W1", gender="male"), worker("W2", gender="female")]))
    assert decision(plan, "C1").worker_id == "W2"


def test_rule_family_one_worker_placed_whole(solve):
    # room for two low-need clients only: a family of three waits whole, a single client is placed
    family = [client(f"F{n}", family_id="fam") for n in range(3)]
    workers = [worker("W1", fte=1.0)]
    existing = caseload("W1", n_low=48)
    plan = solve(agency(existing + family + [client("S1")], workers))
    assert {decision(plan, f"F{n}").decision for n in range(3)} == {Decision.WAITING}
    assert "family" in decision(plan, "F0").reason
    assert decision(plan, "S1").decision == Decision.NEW
    # with room, the family goes to one worker
    plan = solve(agency(family, [worker("W1"), worker("W2")]))
    assert len({decision(plan, f"F{n}").worker_id for n in range(3)}) == 1


def test_rule_family_one_worker_joins_the_family_worker(solve):
    clients = [active("A1", "W2", family_id="fam"), client("C1", family_id="fam")]
    plan = solve(agency(clients, [worker("W1"), worker("W2")]))
    assert decision(plan, "C1").worker_id == "W2"
    # the family's worker does not speak the new member's language: the member waits, with that reason
    clients = [active("A1", "W2", family_id="fam"), client("C1", family_id="fam", languages=("ti",))]
    plan = solve(agency(clients, [worker("W1", languages=("ti",)), worker("W2")]))
    a = decision(plan, "C1")
    assert a.decision == Decision.WAITING and a.reason == "family served by W2, who does not speak ti"


def test_rule_capacity(solve):
    # 15 high-need clients fill one FTE (1/15 each): a 16th waits
    existing = caseload("W1", n_high=14)
    newcomers = [client("H1", need_level=NeedLevel.HIGH), client("H2", need_level=NeedLevel.HIGH)]
    plan = solve(agency(existing + newcomers, [worker("W1")]))
    decisions = sorted(decision(plan, c).decision for c in ("H1", "H2"))
    assert decisions == [Decision.NEW, Decision.WAITING]
    waiting = next(a for a in plan.assignments if a.client_id in ("H1", "H2") and a.worker_id is None)
    assert waiting.reason == "the only eligible worker, W1, is at target (no room for a high-need client)"
    # the worker's own ratio overrides the policy: 16 per FTE leaves room for both
    plan = solve(agency(existing + newcomers, [worker("W1", high_need_ratio=16)]))
    assert {decision(plan, c).decision for c in ("H1", "H2")} == {Decision.NEW}
    # a mixed caseload is weighted: 14/15 high + 3/50 low = 0.993 FTE leaves no room for a 4th low-need client
    lows = [client(f"L{n}") for n in range(4)]
    plan = solve(agency(existing + lows, [worker("W1")]))
    assert sorted(decision(plan, c.client_id).decision for c in lows).count(Decision.NEW) == 3


def test_rule_capacity_over_target_worker_takes_no_one(solve):
    existing = caseload("W1", n_high=16)  # over target from kept clients
    plan = solve(agency(existing + [client("C1")], [worker("W1")]))
    assert decision(plan, "C1").decision == Decision.WAITING
    assert decision(plan, "C1").reason == "the only eligible worker, W1, is at target (no room for a low-need client)"
    assert all(decision(plan, c.client_id).decision == Decision.KEPT for c in existing)


def test_rule_max_new_per_week(solve):
    recent = [active("A1", "W1", intake_date=AS_OF - timedelta(days=2))]
    newcomers = [client("C1"), client("C2")]
    plan = solve(agency(recent + newcomers, [worker("W1", max_new_per_week=2)]))
    assert sorted(decision(plan, c).decision for c in ("C1", "C2")) == [Decision.NEW, Decision.WAITING]
    waiting = next(a for a in plan.assignments if a.client_id in ("C1", "C2") and a.worker_id is None)
    assert waiting.reason == "the only eligible worker, W1, has reached max_new_per_week"
    # an intake eight days ago is outside the week
    old = [active("A1", "W1", intake_date=AS_OF - timedelta(days=8))]
    plan = solve(agency(old + newcomers, [worker("W1", max_new_per_week=2)]))
    assert {decision(plan, c).decision for c in ("C1", "C2")} == {Decision.NEW}


def _tigrinya_case(share: float):
    """W1 (the only Tigrinya speaker) is full; one of its English-speaking clients could go to W2."""
    existing = caseload("W1", n_low=50)
    waiting = [client("T1", languages=("ti",))]
    workers = [worker("W1", languages=("ti", "en")), worker("W2", languages=("en",))]
    return agency(existing + waiting, workers, max_moves_share=share)


def test_rule_max_moves_share(solve):
    plan = solve(_tigrinya_case(0.0))
    assert decision(plan, "T1").decision == Decision.WAITING
    assert plan.summary["moved"] == 0
    plan = solve(_tigrinya_case(0.02))  # floor(0.02 * 50) = 1 move allowed
    assert decision(plan, "T1").worker_id == "W1"
    moved = [a for a in plan.assignments if a.decision == Decision.MOVED]
    assert len(moved) == 1 and moved[0].worker_id == "W2"
    assert moved[0].reason == "moved from W1 to W2 to make room for a waiting client"



def _family_move_case(share: float):
    """W1 (the only Tigrinya speaker) is full of one English-speaking family of two high-need clients
    and low-need clients who speak only Tigrinya: the family alone can make room, moved whole to W2."""
    family = [active(f"F{n}", "W1", need_level=NeedLevel.HIGH, family_id="FAM") for n in range(2)]
    others = [active(f"A{n}", "W1", languages=("ti",)) for n in range(43)]  # 43/50 + 2/15: room for no one
    waiting = [client("T1", languages=("ti",)), client("T2", languages=("ti",))]
    workers = [worker("W1", languages=("ti", "en")), worker("W2", languages=("en",))]
    return agency(family + others + waiting, workers, max_moves_share=share)


def test_rule_max_moves_share_counts_a_family_moved_whole(solve):
    # 45 active clients: floor(0.03 * 45) = 1 move allowed, too few for the family of two
    plan = solve(_family_move_case(0.03))
    assert {decision(plan, c).decision for c in ("T1", "T2")} == {Decision.WAITING}
    assert plan.summary["moved"] == 0
    # floor(0.05 * 45) = 2: the family moves whole, and both waiting clients are placed with W1
    plan = solve(_family_move_case(0.05))
    assert {decision(plan, c).worker_id for c in ("T1", "T2")} == {"W1"}
    assert {decision(plan, c).worker_id for c in ("F0", "F1")} == {"W2"}
    assert {decision(plan, c).decision for c in ("F0", "F1")} == {Decision.MOVED}
    assert plan.summary["moved"] == 2
