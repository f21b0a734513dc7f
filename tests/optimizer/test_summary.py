"""The summary the CLI prints and writes: every key the contract promises, JSON-ready, consistent."""

from __future__ import annotations

import json

from caseload.domain import Decision, NeedLevel
from optimizer import greedy_assign
from tests.optimizer.agencies import agency, caseload, client, worker

KEYS = {"status", "placed", "waiting", "waiting_by_reason", "kept", "moved", "new", "placement_bound",
        "placement_gap", "objective", "workers", "policy_deviations", "wall_time_s", "seed", "time_limit_s"}
OBJECTIVE = {"placements", "weighted_placements", "moves", "preferred_language_matches",
             "specialised_needs_matched", "travel_km", "load_spread"}


def _agency():
    clients = caseload("W1", n_low=40) + [client("C1", need_level=NeedLevel.HIGH), client("C2"),
                                          client("C3", languages=("ti",))]
    return agency(clients, [worker("W1"), worker("W2", fte=0.5)], high_need_ratio=12)


def test_summary_keys_and_consistency(solve):
    plan = solve(_agency(), seed=7, time_limit_s=5)
    s = plan.summary
    assert KEYS <= set(s) and OBJECTIVE <= set(s["objective"])
    json.dumps(s)
    decisions = [a.decision for a in plan.assignments]
    assert s["placed"] == s["new"] == decisions.count(Decision.NEW) == 2
    assert s["waiting"] == decisions.count(Decision.WAITING) == sum(s["waiting_by_reason"].values()) == 1
    assert s["kept"] == 40 and s["moved"] == 0
    assert s["status"] == "OPTIMAL" and s["placement_bound"] == 2 and s["placement_gap"] == 0
    assert s["seed"] == 7 and s["time_limit_s"] == 5
    assert s["policy_deviations"] == ["high_need_ratio 12 differs from the framework's default 15"]
    w1 = next(w for w in s["workers"] if w["worker_id"] == "W1")
    assert w1["target"] == 1.0 and w1["low"] >= 40 and w1["utilisation"] == round(w1["load"] / w1["fte"], 4)
    assert not any(w["over_target"] for w in s["workers"])


def test_time_limit_defaults_to_the_policy(solve):
    a = _agency()
    plan = solve(a, time_limit_s=None)
    assert plan.summary["time_limit_s"] == a.policy.time_limit_s


def test_greedy_summary_has_the_same_keys():
    plan = greedy_assign(_agency())
    assert KEYS <= set(plan.summary)
    assert plan.summary["status"] == "GREEDY" and plan.summary["placement_bound"] is None
    json.dumps(plan.summary)


def test_greedy_takes_referral_order_and_first_worker_with_room():
    from datetime import timedelta

    from tests.optimizer.agencies import AS_OF
    clients = caseload("W1", n_low=49) + [client("LATE", referral_date=AS_OF - timedelta(days=1)),
                                          client("EARLY", referral_date=AS_OF - timedelta(days=90))]
    plan = greedy_assign(agency(clients, [worker("W1"), worker("W2")]))
    placed = {a.client_id: a.worker_id for a in plan.assignments}
    assert placed["EARLY"] == "W1" and placed["LATE"] == "W2"


def test_waiting_by_reason_counts_by_rule_without_counts_or_ids():
    from optimizer.explain import reason_group

    alike = ["all 3 eligible workers are at target (no room for a high-need client)",
             "all 5 eligible workers are at target (no room for a high-need client)"]
    assert {reason_group(r) for r in alike} == {"all eligible workers are at target (no room for a high-need client)"}
    assert reason_group("the only eligible worker, W07, is at target (no room for a low-need client)") == (
        "the only eligible worker is at target (no room for a low-need client)")
    assert reason_group("no worker speaks ti") == "no worker speaks ti"  # the rule itself is kept
