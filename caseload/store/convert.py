"""Between the domain types the optimizer reads and the store's rows: one place, both directions.

Lists are kept `;`-joined as in the data contract (languages in order, since the first is preferred;
sets sorted, so the same client always makes the same row and the same digest).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable

from caseload.contract_io import clients_frame, workers_frame
from caseload.domain import Agency, Client, NeedLevel, Policy, Status, Worker
from caseload.policy import policy_to_yaml
from caseload.store.models import ClientRow, PolicyRow, WorkerRow


def _join(items: Iterable[str], *, ordered: bool = False) -> str:
    return ";".join(items if ordered else sorted(items))


def _split(text: str | None) -> list[str]:
    return [p for p in (text or "").split(";") if p]


def client_row(client: Client) -> ClientRow:
    return ClientRow(
        client_id=client.client_id, need_level=client.need_level.value,
        languages=_join(client.languages, ordered=True), french_service=client.french_service,
        latitude=client.latitude, longitude=client.longitude, area=client.area, family_id=client.family_id,
        status=client.status.value, worker_id=client.worker_id, referral_date=client.referral_date,
        intake_date=client.intake_date, priority=client.priority, needs=_join(client.needs),
        worker_gender_preference=client.worker_gender_preference,
        excluded_workers=_join(client.excluded_workers), last_review_date=client.last_review_date,
    )


def client_from_row(row: ClientRow) -> Client:
    return Client(
        client_id=row.client_id, need_level=NeedLevel(row.need_level), languages=tuple(_split(row.languages)),
        french_service=bool(row.french_service), latitude=row.latitude, longitude=row.longitude,
        area=row.area, family_id=row.family_id, status=Status(row.status), worker_id=row.worker_id,
        referral_date=row.referral_date, intake_date=row.intake_date, priority=row.priority or 0,
        needs=frozenset(_split(row.needs)), worker_gender_preference=row.worker_gender_preference,
        excluded_workers=frozenset(_split(row.excluded_workers)), last_review_date=row.last_review_date,
    )


def worker_row(worker: Worker) -> WorkerRow:
    return WorkerRow(
        worker_id=worker.worker_id, fte=worker.fte, languages=_join(worker.languages, ordered=True),
        french=worker.french, latitude=worker.latitude, longitude=worker.longitude, areas=_join(worker.areas),
        max_travel_km=worker.max_travel_km, specializations=_join(worker.specializations), gender=worker.gender,
        available=worker.available, high_need_ratio=worker.high_need_ratio, low_need_ratio=worker.low_need_ratio,
        max_new_per_week=worker.max_new_per_week,
    )


def worker_from_row(row: WorkerRow) -> Worker:
    return Worker(
        worker_id=row.worker_id, fte=row.fte, languages=tuple(_split(row.languages)), french=bool(row.french),
        latitude=row.latitude, longitude=row.longitude, areas=frozenset(_split(row.areas)),
        max_travel_km=row.max_travel_km, specializations=frozenset(_split(row.specializations)),
        gender=row.gender, available=bool(row.available), high_need_ratio=row.high_need_ratio,
        low_need_ratio=row.low_need_ratio, max_new_per_week=row.max_new_per_week,
    )


def policy_row(policy: Policy) -> PolicyRow:
    return PolicyRow(
        id=1, high_need_ratio=policy.high_need_ratio, low_need_ratio=policy.low_need_ratio,
        max_moves_share=policy.max_moves_share, keep_on_leave=policy.keep_on_leave, travel=policy.travel,
        time_limit_s=policy.time_limit_s, stage_gap=policy.stage_gap, moves_window_days=policy.moves_window_days,
        waitlist_review_weeks=policy.waitlist_review_weeks, reassessment_every_months=policy.reassessment_every_months,
        expected_duration_high_months=policy.expected_duration_high_months,
        expected_duration_low_months=policy.expected_duration_low_months, cost_per_fte=policy.cost_per_fte,
    )


# Policy keys added by revision 0002: a store written before it has them empty, so the defaults apply.
_LATER_POLICY_KEYS = ("stage_gap", "moves_window_days", "waitlist_review_weeks", "reassessment_every_months",
                      "expected_duration_high_months", "expected_duration_low_months", "cost_per_fte")


def policy_from_row(row: PolicyRow | None) -> Policy:
    if row is None:
        return Policy()
    return Policy(
        high_need_ratio=row.high_need_ratio, low_need_ratio=row.low_need_ratio,
        max_moves_share=row.max_moves_share, keep_on_leave=bool(row.keep_on_leave), travel=row.travel,
        time_limit_s=row.time_limit_s,
        **{key: getattr(row, key) for key in _LATER_POLICY_KEYS if getattr(row, key) is not None},
    )


def contract_rows(agency: Agency) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """The agency as clients.csv and workers.csv rows (text cells), sorted by id."""
    clients = sorted(clients_frame(agency.clients).to_dict("records"), key=lambda r: r["client_id"])
    workers = sorted(workers_frame(agency.workers).to_dict("records"), key=lambda r: r["worker_id"])
    return clients, workers


def input_digest(agency: Agency) -> str:
    """SHA-256 of the run's input as data-contract text: the same state gives the same digest, whether it
    came from files or from the store, so two runs on unchanged input are recognisable in the history."""
    clients, workers = contract_rows(agency)
    canonical = json.dumps(
        {"clients": clients, "workers": workers, "policy": policy_to_yaml(agency.policy)},
        sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
