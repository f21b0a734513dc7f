"""The Waitlist page's tables, built from `planning.waitlist` and `planning.reviews` with pandas only.

Nothing here touches Streamlit: the queue's filters and sort orders, and the review lists' filters, are
plain functions the tests call directly. The queue and the review lists come whole from planning/; the
app only slices them.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

SORTS = {
    "queue position": (["position"], [True]),
    "days waiting (longest first)": (["days_waiting", "position"], [False, True]),
    "expected placement (soonest first)": (["expected_placement", "position"], [True, True]),
}
# The dates a family asks about first, then why they wait (the widest column) and the rest.
QUEUE_ORDER = ["position", "client_id", "priority", "days_waiting", "expected_placement", "expected_placement_early",
               "expected_placement_late", "next_review", "reason", "eligible_workers", "language", "languages",
               "area", "need_level", "referral_date"]


def _tags(value: object) -> list[str]:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return []
    return [t.strip() for t in str(value).split(";") if t.strip()]


def language_column(queue: pd.DataFrame) -> str | None:
    return next((c for c in ("language", "languages") if c in queue.columns), None)


def options(queue: pd.DataFrame, column: str | None) -> list[str]:
    """The values a filter offers: every language (a client may speak several), area or reason present."""
    if column is None or column not in queue.columns:
        return []
    values: set[str] = set()
    for value in queue[column].dropna():
        values.update(_tags(value) if column in ("language", "languages") else [str(value)] if str(value) else [])
    return sorted(values)


def filter_queue(queue: pd.DataFrame, *, languages: Sequence[str] = (), areas: Sequence[str] = (),
                 reasons: Sequence[str] = (), sort: str = "queue position") -> pd.DataFrame:
    """The clients matching every filter given (an empty filter keeps everyone), in the chosen order.

    A language filter keeps a client who speaks any of the chosen languages.
    """
    keep = pd.Series(True, index=queue.index)
    column = language_column(queue)
    if languages and column is not None:
        chosen = set(languages)
        keep &= queue[column].map(lambda v: bool(chosen.intersection(_tags(v))))
    if areas and "area" in queue.columns:
        keep &= queue["area"].astype(str).isin(list(areas))
    if reasons and "reason" in queue.columns:
        keep &= queue["reason"].astype(str).isin(list(reasons))
    by, ascending = SORTS[sort]
    shown = queue[keep]
    by = [c for c in by if c in shown.columns]
    if by:
        shown = shown.sort_values(by, ascending=ascending[:len(by)], kind="stable", na_position="last")
    ordered = [c for c in QUEUE_ORDER if c in shown.columns] + [c for c in shown.columns if c not in QUEUE_ORDER]
    return shown[ordered].reset_index(drop=True)


def expected_range(queue: pd.DataFrame) -> pd.DataFrame:
    """The queue with the 80% range of the expected placement as one readable column."""
    out = queue.copy()
    if {"expected_placement_early", "expected_placement_late"} <= set(out.columns):
        def span(row: pd.Series) -> str:
            early, late = row["expected_placement_early"], row["expected_placement_late"]
            if pd.isna(early) or pd.isna(late):
                return "not expected" if pd.isna(row.get("expected_placement")) else ""
            early, late = pd.Timestamp(early), pd.Timestamp(late)
            return f"{early:%d %b}{'' if early.year == late.year else f' {early:%Y}'} to {late:%d %b %Y}"

        out.insert(out.columns.get_loc("expected_placement") + 1 if "expected_placement" in out.columns
                   else len(out.columns), "expected_range", out.apply(span, axis=1) if len(out) else "")
        out = out.drop(columns=["expected_placement_early", "expected_placement_late"])
    return out


def filter_reviews(reviews: pd.DataFrame, *, workers: Sequence[str] = (), kinds: Sequence[str] = ()) -> pd.DataFrame:
    """Review lists for the chosen workers and kinds (reassessment, check-in, graduation)."""
    keep = pd.Series(True, index=reviews.index)
    if workers and "worker_id" in reviews.columns:
        keep &= reviews["worker_id"].fillna("").astype(str).isin(list(workers))
    kind = review_kind_column(reviews)
    if kinds and kind is not None:
        keep &= reviews[kind].astype(str).isin(list(kinds))
    return reviews[keep].reset_index(drop=True)


def review_kind_column(reviews: pd.DataFrame) -> str | None:
    return next((c for c in ("kind", "review", "type", "what") if c in reviews.columns), None)


WAITING_CLIENTS = "(waiting clients)"


def reviews_per_worker(reviews: pd.DataFrame) -> pd.DataFrame:
    """How many reviews of each kind every worker has due: the week's list at a glance. Check-ins of waiting
    clients have no worker yet (the coordinator calls them) and are counted on a line of their own."""
    kind = review_kind_column(reviews)
    if reviews.empty or kind is None or "worker_id" not in reviews.columns:
        return pd.DataFrame()
    workers = reviews["worker_id"].fillna("").astype(str).replace("", WAITING_CLIENTS)
    table = pd.crosstab(workers.rename("worker_id"), reviews[kind].rename(kind))
    table["total"] = table.sum(axis=1)
    return table.reset_index().rename_axis(columns=None)
