"""Who is due a conversation: quarterly reassessments, waitlist check-ins and planned graduations, per worker.

A coordinator's week starts from these lists. The dates follow the policy (`reassessment_every_months`,
`waitlist_review_weeks`, `expected_duration_months`) and count from the client's `last_review_date`, or,
when it is empty, from the intake date (active clients) or the referral date (waiting clients). A client
with neither date is due now: nobody knows when they were last seen, which is itself a reason to call.
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

from caseload.domain import Agency, Client, Policy, Status

REASSESSMENT, CHECK_IN, GRADUATION = "reassessment", "check-in", "graduation"
COLUMNS = ["worker_id", "kind", "client_id", "due", "days_overdue", "need_level", "status", "last_review_date",
           "area"]


def add_months(day: date, months: int | float) -> date:
    """`day` plus whole (or fractional) months, clamped to the month's last day (Jan 31 + 1 month = Feb 28)."""
    whole = int(months)
    month0 = day.month - 1 + whole
    year, month = day.year + month0 // 12, month0 % 12 + 1
    last = (date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)).day
    out = date(year, month, min(day.day, last))
    rest = months - whole
    return out + timedelta(days=round(rest * 365.2425 / 12)) if rest else out


def next_review(client: Client, policy: Policy, as_of: date) -> date | None:
    """When the client is next due: a check-in (waiting) or a reassessment (active); None for others."""
    if client.status == Status.WAITING:
        base = client.last_review_date or client.referral_date
        return as_of if base is None else base + timedelta(weeks=policy.waitlist_review_weeks)
    if client.status == Status.ACTIVE:
        base = client.last_review_date or client.intake_date
        return as_of if base is None else add_months(base, policy.reassessment_every_months)
    return None


def planned_graduation(client: Client, policy: Policy) -> date | None:
    """Intake date plus the policy's expected duration for the need level (None without an intake date)."""
    if client.status != Status.ACTIVE or client.intake_date is None:
        return None
    return add_months(client.intake_date, policy.expected_duration_months(client.need_level.value))


def reviews(agency: Agency, *, due_within_days: int = 14, graduation_within_days: int = 90) -> pd.DataFrame:
    """Every review due by `as_of + due_within_days` (overdue ones included) and every planned graduation
    in the next `graduation_within_days`, one row each, grouped by worker.

    Columns: worker_id (empty for waiting clients: the coordinator calls them), kind (`reassessment`,
    `check-in`, `graduation`), client_id, due (date), days_overdue (negative: days until due), need_level,
    status, last_review_date, area. Sorted by worker, kind, then the most overdue first.
    """
    as_of, policy = agency.as_of, agency.policy
    review_by = as_of + timedelta(days=due_within_days)
    graduate_by = as_of + timedelta(days=graduation_within_days)
    rows = []
    for c in agency.clients:
        if c.status not in (Status.WAITING, Status.ACTIVE):
            continue
        worker = (c.worker_id or "") if c.status == Status.ACTIVE else ""
        base = {"worker_id": worker, "client_id": c.client_id, "need_level": c.need_level.value,
                "status": c.status.value, "last_review_date": c.last_review_date, "area": c.area or ""}
        due = next_review(c, policy, as_of)
        if due is not None and due <= review_by:
            kind = CHECK_IN if c.status == Status.WAITING else REASSESSMENT
            rows.append({**base, "kind": kind, "due": due, "days_overdue": (as_of - due).days})
        graduation = planned_graduation(c, policy)
        if graduation is not None and graduation <= graduate_by:
            rows.append({**base, "kind": GRADUATION, "due": graduation, "days_overdue": (as_of - graduation).days})
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame["due"] = pd.to_datetime(frame["due"])
    frame["last_review_date"] = pd.to_datetime(frame["last_review_date"])
    frame["days_overdue"] = frame["days_overdue"].astype("int64")
    order = {CHECK_IN: 0, REASSESSMENT: 1, GRADUATION: 2}
    frame["_kind"] = frame["kind"].map(order)
    frame = frame.sort_values(["worker_id", "_kind", "days_overdue", "client_id"], ascending=[True, True, False, True],
                              kind="stable")
    return frame.drop(columns="_kind").reset_index(drop=True)


def reviews_per_worker(table: pd.DataFrame) -> pd.DataFrame:
    """Counts per worker and kind (the CLI's summary); `overdue`: reassessments and check-ins past due."""
    if table.empty:
        return pd.DataFrame(columns=["worker_id", REASSESSMENT, CHECK_IN, "overdue", GRADUATION])
    counts = table.pivot_table(index="worker_id", columns="kind", values="client_id", aggfunc="count", fill_value=0)
    for kind in (REASSESSMENT, CHECK_IN, GRADUATION):
        if kind not in counts.columns:
            counts[kind] = 0
    overdue = table[(table["kind"] != GRADUATION) & (table["days_overdue"] > 0)].groupby("worker_id").size()
    counts["overdue"] = overdue.reindex(counts.index, fill_value=0)
    return counts[[REASSESSMENT, CHECK_IN, "overdue", GRADUATION]].reset_index()
