"""One focused test per coordinator override (data contract, overrides): forbids / allows, on a tiny agency.

Each plan is checked by the independent checker (`solve` fixture, which knows the overrides too), and the
plan's reason names the override in the coordinator's words.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from caseload.domain import Decision, NeedLevel, Override, OverrideAction, Status
from optimizer.eligibility import RULE_NAMES, compute_eligibility
from tests.optimizer.agencies import AS_OF, active, agency, caseload, client, worker
from tests.optimizer.conftest import by_id, solve_checked
from tests.optimizer.strategies import agencies

PIN, FORBID, HOLD, KEEP = OverrideAction.PIN, OverrideAction.FORBID, OverrideAction.HOLD, OverrideAction.KEEP


def with_overrides(a, *overrides: Override):
    a.overrides = list(overrides)
    return a


def test_the_override_rules_come_after_the_files_rules():
    assert RULE_NAMES[-3:] == ("forbidden_by_coordinator", "pinned_by_coordinator", "held_by_coordinator")


def test_rule_forbidden_by_coordinator(solve):
    a = with_overrides(agency([client("C1")], [worker("W1")]),
                       Override("C1", FORBID, "conflict the files do not show", worker_id="W1"))
    plan = solve(a)
    assert by_id(plan)["C1"].decision == Decision.WAITING
    assert by_id(plan)["C1"].reason == "the only worker is forbidden by coordinator: conflict the files do not show"
    a = with_overrides(agency([client("C1")], [worker("W1"), worker("W2")]),
                       Override("C1", FORBID, "conflict", worker_id="W1"))
    assert by_id(solve(a))["C1"].worker_id == "W2"  # allows: another worker


def test_forbidding_an_active_clients_worker_moves_them_without_using_the_move_budget(solve):
    a = with_overrides(agency([active("A1", "W1")], [worker("W1"), worker("W2")], max_moves_share=0.0),
                       Override("A1", FORBID, "conflict", worker_id="W1"))
    moved = by_id(solve(a))["A1"]
    assert (moved.decision, moved.worker_id) == (Decision.MOVED, "W2")
    assert moved.reason == "worker W1 forbidden by coordinator: conflict: moved from W1 to W2"


def test_rule_pinned_by_coordinator(solve):
    # W1 is nearer (travel decides), the pin sends the client to W2
    home = {"latitude": 45.42, "longitude": -75.69}
    workers = [worker("W1", latitude=45.421, longitude=-75.691), worker("W2", latitude=45.6, longitude=-75.2)]
    assert by_id(solve(agency([client("C1", **home)], workers)))["C1"].worker_id == "W1"
    a = with_overrides(agency([client("C1", **home)], workers), Override("C1", PIN, "knows the family", "W2"))
    assert by_id(solve(a))["C1"].worker_id == "W2"
    # forbids: the pinned worker is full (and no move may make room), so the client waits rather than go to W1
    a = with_overrides(agency([client("C1", **home), *caseload("W2", n_low=50)], workers, max_moves_share=0.0),
                       Override("C1", PIN, "knows the family", "W2"))
    waiting = by_id(solve(a))["C1"]
    assert waiting.decision == Decision.WAITING
    assert waiting.reason.startswith("pinned by coordinator to W2: knows the family; ")
    assert "at target" in waiting.reason


def test_a_pinned_active_client_moves_to_the_pinned_worker_outside_the_move_budget(solve):
    a = with_overrides(agency([active("A1", "W1")], [worker("W1"), worker("W2")], max_moves_share=0.0),
                       Override("A1", PIN, "same worker as her sister", "W2"))
    plan = solve(a)
    moved = by_id(plan)["A1"]
    assert (moved.decision, moved.worker_id) == (Decision.MOVED, "W2")
    assert moved.reason == "pinned by coordinator to W2: same worker as her sister: moved from W1 to W2"
    assert plan.summary["optional_moves"] == 0
    # an active client pinned to their own worker stays
    a = with_overrides(agency([active("A1", "W1")], [worker("W1"), worker("W2")]), Override("A1", PIN, "x", "W1"))
    assert by_id(solve(a))["A1"].decision == Decision.KEPT


def test_rule_held_by_coordinator(solve):
    a = with_overrides(agency([client("C1"), client("C2")], [worker("W1")]), Override("C1", HOLD, "awaiting consent"))
    plan = solve(a)
    assert by_id(plan)["C1"].decision == Decision.WAITING
    assert by_id(plan)["C1"].reason == "held by coordinator: awaiting consent"
    assert by_id(plan)["C2"].decision == Decision.NEW  # allows: the others are placed


def test_a_lapsed_override_stops_applying(solve):
    held = Override("C1", HOLD, "awaiting consent", until=AS_OF - timedelta(days=1))
    plan = solve(with_overrides(agency([client("C1")], [worker("W1")]), held))
    assert by_id(plan)["C1"].decision == Decision.NEW
    plan = solve(with_overrides(agency([client("C1")], [worker("W1")]), replace(held, until=AS_OF)))
    assert by_id(plan)["C1"].decision == Decision.WAITING  # `until` is the last day it applies


def keep_agency():
    """W1 is full of low-need clients and the only worker speaking the waiting client's ti, so W1 can take
    them only if some of its clients move to W2."""
    clients = [client("C1", need_level=NeedLevel.HIGH, languages=("ti",)), *caseload("W1", n_low=50)]
    return agency(clients, [worker("W1", languages=("ti", "en")), worker("W2")], max_moves_share=0.5)


def test_keep_stops_the_make_room_moves(solve):
    plan = solve(keep_agency())
    moved = [a.client_id for a in plan.assignments if a.decision == Decision.MOVED]
    assert by_id(plan)["C1"].worker_id == "W1" and len(moved) >= 1  # the move happens without keep
    a = keep_agency()
    a.overrides = [Override(c.client_id, KEEP, "stays with W1") for c in a.clients if c.worker_id == "W1"]
    plan = solve(a)
    assert [x for x in plan.assignments if x.decision == Decision.MOVED] == []  # forbids: nobody kept is moved
    assert by_id(plan)["C1"].decision == Decision.WAITING
    a = keep_agency()
    a.overrides = [Override(c.client_id, KEEP, "stays") for c in a.clients if c.client_id not in moved]
    plan = solve(a)  # allows: the clients not kept may still move
    assert by_id(plan)["C1"].worker_id == "W1"


def test_keep_marks_the_client_and_leaves_eligibility_alone():
    a = with_overrides(agency([active("A1", "W1")], [worker("W1"), worker("W2")]), Override("A1", KEEP, "stays"))
    el = compute_eligibility(a)
    assert el.is_kept(0) and len(el.eligible(0)) == 2 and not el.forced[0]


def test_check_overrides_names_the_rule_or_capacity_a_pin_or_keep_breaks():
    from optimizer.overrides import check_overrides

    a = agency([client("C1", languages=("ti",)), client("C2"), active("A1", "W2"), *caseload("W3", n_low=50)],
               [worker("W1"), worker("W2", available=False), worker("W3")], keep_on_leave=False)
    a.overrides = [Override("C1", PIN, "x", "W1"), Override("C2", PIN, "x", "W3"), Override("A1", KEEP, "x")]
    errors = check_overrides(a)
    assert [(e.row, e.column, e.value) for e in errors] == [(2, "worker_id", "W1"), (3, "worker_id", "W3"),
                                                            (4, "action", "keep")]
    assert "rule language_shared" in errors[0].rule
    assert "over target" in errors[1].rule
    assert "rule unavailable_takes_no_one_new" in errors[2].rule
    # allows: a worker with room, a client already served by the pinned worker (no load added), a keep that holds
    a.overrides = [Override("C2", PIN, "x", "W1"), Override("AW3L0", PIN, "x", "W3"), Override("AW3L1", KEEP, "x")]
    assert check_overrides(a) == []


@st.composite
def agencies_with_overrides(draw):
    """A generated agency with random overrides that pass the structural checks (the reader's job)."""
    from caseload.overrides import override_errors

    a = draw(agencies(max_clients=8, max_workers=3))
    decided = [c for c in a.clients if c.status in (Status.WAITING, Status.ACTIVE)]
    if not decided:
        return a
    drawn = []
    for _ in range(draw(st.integers(0, 4))):
        c = draw(st.sampled_from(decided))
        action = draw(st.sampled_from(list(OverrideAction)))
        worker_id = draw(st.sampled_from([w.worker_id for w in a.workers])) if action in (PIN, FORBID) else None
        until = draw(st.sampled_from([None, AS_OF, AS_OF - timedelta(days=1)]))
        candidate = Override(c.client_id, action, "r", worker_id=worker_id, until=until)
        if not override_errors(a, [*drawn, candidate]):
            drawn.append(candidate)
    a.overrides = drawn
    return a


@settings(max_examples=60, deadline=None)
@given(agencies_with_overrides())
def test_eligibility_with_overrides_matches_the_checker(a):
    from optimizer.check import broken_pair_rules

    el = compute_eligibility(a)
    for i, c in enumerate(el.clients):
        eligible = set(el.eligible(i).tolist())
        for j, w in enumerate(el.workers):
            staying = c.status == Status.ACTIVE and c.worker_id == w.worker_id
            broken = broken_pair_rules(a, c, w, staying=staying)
            assert (j in eligible) == (not broken), (c.client_id, w.worker_id, broken, a.live_overrides)
            assert el.excluding_rule(i, j) == (broken[0] if broken else None)


@settings(max_examples=25, deadline=None)
@given(agencies_with_overrides())
def test_every_plan_keeps_the_overrides_in_force(a):
    from optimizer.overrides import check_overrides

    assume(check_overrides(a) == [])  # overrides that cannot hold are refused before a run
    plan = solve_checked(a, time_limit_s=5)  # the checker: forbid, pin, hold, keep and the window's budget
    served = by_id(plan)
    for o in a.live_overrides:
        if o.action == HOLD:
            assert served[o.client_id].worker_id is None
        if o.action == PIN:
            assert served[o.client_id].worker_id in (o.worker_id, None)
        if o.action == KEEP:
            assert served[o.client_id].decision != Decision.MOVED
