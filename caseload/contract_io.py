"""Write data-contract files: agencies (clients/workers/policy) and a run's assignments and summary.

Exports go back into spreadsheets, so every text cell that Excel would run as a formula is escaped.
Writes go to a temporary file that replaces the target only when complete: a crash mid-write leaves the
last good file in place.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from caseload.domain import Agency, Assignment, Client, Worker
from caseload.policy import policy_to_yaml
from caseload.reader import CLIENT_COLUMNS, WORKER_COLUMNS
from caseload.validation import escape_formula

ASSIGNMENT_COLUMNS = ["client_id", "worker_id", "decision", "reason", "travel_km", "language"]


def _join(items: Iterable[str]) -> str:
    """Lists keep their order when it matters (languages: the first is preferred), else are sorted."""
    return ";".join(items) if isinstance(items, tuple | list) else ";".join(sorted(items))


def _num(value: float | int | None) -> str:
    if value is None:
        return ""
    return repr(value) if isinstance(value, float) else str(value)


def clients_frame(clients: Iterable[Client]) -> pd.DataFrame:
    rows = [
        {
            "client_id": c.client_id, "need_level": c.need_level.value, "languages": _join(c.languages),
            "french_service": str(c.french_service).lower(), "latitude": _num(c.latitude),
            "longitude": _num(c.longitude), "area": c.area or "", "family_id": c.family_id or "",
            "status": c.status.value, "worker_id": c.worker_id or "",
            "referral_date": c.referral_date.isoformat() if c.referral_date else "",
            "intake_date": c.intake_date.isoformat() if c.intake_date else "",
            "priority": str(c.priority), "needs": _join(c.needs),
            "worker_gender_preference": c.worker_gender_preference or "",
            "excluded_workers": _join(c.excluded_workers),
            "last_review_date": c.last_review_date.isoformat() if c.last_review_date else "",
        }
        for c in clients
    ]
    return pd.DataFrame(rows, columns=list(CLIENT_COLUMNS))


def workers_frame(workers: Iterable[Worker]) -> pd.DataFrame:
    rows = [
        {
            "worker_id": w.worker_id, "fte": _num(w.fte), "languages": _join(w.languages),
            "french": str(w.french).lower(), "latitude": _num(w.latitude), "longitude": _num(w.longitude),
            "areas": _join(w.areas), "max_travel_km": _num(w.max_travel_km),
            "specializations": _join(w.specializations), "gender": w.gender or "",
            "available": str(w.available).lower(), "high_need_ratio": _num(w.high_need_ratio),
            "low_need_ratio": _num(w.low_need_ratio), "max_new_per_week": _num(w.max_new_per_week),
        }
        for w in workers
    ]
    return pd.DataFrame(rows, columns=list(WORKER_COLUMNS))


def assignments_frame(assignments: Iterable[Assignment]) -> pd.DataFrame:
    rows = [
        {
            "client_id": a.client_id, "worker_id": a.worker_id or "", "decision": a.decision.value,
            "reason": a.reason, "travel_km": "" if a.travel_km is None else round(a.travel_km, 2),
            "language": a.language or "",
        }
        for a in assignments
    ]
    return pd.DataFrame(rows, columns=ASSIGNMENT_COLUMNS)


def escape_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Escape formula-like text cells so that opening the export in Excel runs nothing."""
    out = frame.copy()
    for column in out.columns:
        if not pd.api.types.is_numeric_dtype(out[column]):
            out[column] = out[column].map(lambda v: escape_formula(v) if isinstance(v, str) else v)
    return out


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write to a temporary sibling and rename over the target, so readers never see half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    """`atomic_write_bytes` for UTF-8 text (newlines as given)."""
    atomic_write_bytes(path, text.encode("utf-8"))


def save_png(figure: Any, path: Path | str) -> Path:
    """A matplotlib figure as a PNG, written whole or not at all."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    atomic_write_bytes(Path(path), buffer.getvalue())
    return Path(path)


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    atomic_write_text(path, escape_frame(frame).to_csv(index=False, lineterminator="\n"))


def write_agency(agency: Agency, folder: Path | str) -> None:
    """Write clients.csv, workers.csv and policy.yaml in the data contract's format."""
    folder = Path(folder)
    write_csv(clients_frame(agency.clients), folder / "clients.csv")
    write_csv(workers_frame(agency.workers), folder / "workers.csv")
    atomic_write_text(folder / "policy.yaml", policy_to_yaml(agency.policy))


def write_assignments(assignments: Iterable[Assignment], summary: dict, out_dir: Path | str) -> None:
    """Write assignments.csv and summary.json; the summary goes last so its presence marks a whole run."""
    out_dir = Path(out_dir)
    write_csv(assignments_frame(assignments), out_dir / "assignments.csv")
    atomic_write_text(out_dir / "summary.json", json.dumps(summary, indent=2, default=str) + "\n")
