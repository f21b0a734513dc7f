"""planning.reviews: reassessments and check-ins due, planned graduations, per worker (hand-built dates)."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from caseload.domain import Agency, Client, NeedLevel, Policy, Status, Worker
from planning.reviews import CHECK_IN, GRADUATION, REASSESSMENT, add_months, next_review, reviews, reviews_per_worker

AS_OF = date(2027, 3, 15)


def client(cid: str, **kw) -> Client:
    kw.setdefault("need_level", NeedLevel.LOW)
    return Client(cid, languages=("en",), **kw)


def agency(*clients: Client, policy: Policy | None = None) -> Agency:
    return Agency(list(clients), [Worker("w1", 1.0, ("en",)), Worker("w2", 1.0, ("en",))], policy or Policy(),
                  as_of=AS_OF)


def rows(table: pd.DataFrame, kind: str) -> pd.DataFrame:
    return table[table["kind"] == kind].set_index("client_id")


def test_reassessment_counts_from_the_last_review_then_the_intake() -> None:
    t = reviews(agency(
        client("reviewed", status=Status.ACTIVE, worker_id="w1", intake_date=date(2026, 1, 10),
               last_review_date=date(2026, 11, 20)),                      # due 2027-02-20: overdue
        client("recent", status=Status.ACTIVE, worker_id="w1", intake_date=date(2026, 6, 1),
               last_review_date=date(2027, 2, 1)),                        # due 2027-05-01: not yet
        client("new", status=Status.ACTIVE, worker_id="w2", intake_date=date(2026, 12, 20)),  # due 2027-03-20
        client("unknown", status=Status.ACTIVE, worker_id="w2"),          # no date at all: due now
    ))
    due = rows(t, REASSESSMENT)
    assert set(due.index) == {"reviewed", "new", "unknown"}
    assert due.loc["reviewed", "due"] == pd.Timestamp(2027, 2, 20) and due.loc["reviewed", "days_overdue"] == 23
    assert due.loc["new", "due"] == pd.Timestamp(2027, 3, 20) and due.loc["new", "days_overdue"] == -5
    assert due.loc["unknown", "due"] == pd.Timestamp(AS_OF)
    assert due.loc["reviewed", "worker_id"] == "w1" and due.loc["new", "worker_id"] == "w2"


def test_waiting_check_ins_follow_the_policy_weeks() -> None:
    policy = Policy(waitlist_review_weeks=2)
    t = reviews(agency(
        client("called", referral_date=date(2026, 12, 1), last_review_date=date(2027, 3, 5)),  # due 03-19
        client("forgotten", referral_date=date(2027, 2, 1)),                                   # due 02-15
        client("fresh", referral_date=date(2027, 3, 14)),                                      # due 03-28
        policy=policy), due_within_days=7)
    due = rows(t, CHECK_IN)
    assert set(due.index) == {"called", "forgotten"}  # due within the next 7 days, or overdue
    assert due.loc["forgotten", "days_overdue"] == 28 and due.loc["called", "days_overdue"] == -4
    assert (due["worker_id"] == "").all()
    wider = reviews(agency(client("fresh", referral_date=date(2027, 3, 14)), policy=policy), due_within_days=14)
    assert wider["client_id"].tolist() == ["fresh"]


def test_planned_graduations_in_the_next_90_days_per_need_level() -> None:
    t = reviews(agency(
        client("high", need_level=NeedLevel.HIGH, status=Status.ACTIVE, worker_id="w1",
               intake_date=date(2025, 12, 1), last_review_date=date(2027, 3, 1)),  # 16 months: 2027-04-01
        client("low", status=Status.ACTIVE, worker_id="w1", intake_date=date(2026, 1, 1),
               last_review_date=date(2027, 3, 1)),                                  # 12 months: overdue
        client("later", status=Status.ACTIVE, worker_id="w2", intake_date=date(2026, 12, 1),
               last_review_date=date(2027, 3, 1)),
        client("done", status=Status.GRADUATED, intake_date=date(2025, 1, 1)),
    ))
    grads = rows(t, GRADUATION)
    assert set(grads.index) == {"high", "low"}
    assert grads.loc["high", "due"] == pd.Timestamp(2027, 4, 1) and grads.loc["low", "due"] == pd.Timestamp(2027, 1, 1)
    assert "done" not in set(t["client_id"])


def test_per_worker_counts() -> None:
    t = reviews(agency(
        client("a", status=Status.ACTIVE, worker_id="w1", intake_date=date(2026, 11, 1)),
        client("b", status=Status.ACTIVE, worker_id="w1", intake_date=date(2026, 12, 20)),
        client("c", referral_date=date(2027, 1, 1)),
    ))
    per = reviews_per_worker(t).set_index("worker_id")
    assert per.loc["w1", REASSESSMENT] == 2 and per.loc["w1", "overdue"] == 1
    assert per.loc["", CHECK_IN] == 1


def test_an_empty_agency_has_no_reviews() -> None:
    t = reviews(agency())
    assert t.empty and "kind" in t.columns and reviews_per_worker(t).empty


@given(st.dates(date(2000, 1, 1), date(2090, 12, 31)), st.integers(1, 24))
def test_add_months_lands_in_the_right_month_never_past_its_end(day: date, months: int) -> None:
    out = add_months(day, months)
    assert (out.year * 12 + out.month) - (day.year * 12 + day.month) == months
    assert out.day == day.day or (out.day < day.day and (out + timedelta(days=1)).day == 1)


@pytest.mark.parametrize("status", [Status.GRADUATED, Status.EXITED])
def test_closed_files_have_no_next_review(status) -> None:
    assert next_review(client("x", status=status, intake_date=AS_OF), Policy(), AS_OF) is None
