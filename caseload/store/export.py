"""`caseload export RUN_ID`: a stored run written back as data-contract files.

The folder holds the run's input (clients.csv, workers.csv, policy.yaml: the state the run saw, so that
`caseload assign FOLDER` can replay it) and its output (assignments.csv, summary.json). The contract's
writers escape every formula-like text cell, so opening the export in Excel runs nothing.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from sqlalchemy import Engine

from caseload.contract_io import atomic_write_text, write_assignments, write_csv
from caseload.reader import CLIENT_COLUMNS, WORKER_COLUMNS
from caseload.store.database import StoreError
from caseload.store.runs import StoredRun, get_run, latest_run_id

EXPORTED_FILES = ("clients.csv", "workers.csv", "policy.yaml", "assignments.csv", "summary.json")


def resolve_run_id(engine: Engine, run_id: str) -> int:
    """A run id as typed: a number, or `latest`."""
    if run_id.strip().lower() == "latest":
        latest = latest_run_id(engine)
        if latest is None:
            raise StoreError("this store has no runs yet (`caseload assign --db ...` records one)")
        return latest
    try:
        return int(run_id)
    except ValueError:
        raise StoreError(f"run id {run_id!r}: must be a number from `caseload history`, or 'latest'") from None


def write_run(run: StoredRun, out: Path | str) -> list[Path]:
    """Write the run's five files into `out` (created if needed); returns their paths."""
    out = Path(out)
    write_csv(pd.DataFrame(run.client_rows, columns=list(CLIENT_COLUMNS)), out / "clients.csv")
    write_csv(pd.DataFrame(run.worker_rows, columns=list(WORKER_COLUMNS)), out / "workers.csv")
    atomic_write_text(out / "policy.yaml", run.policy_yaml)
    summary = dict(run.summary)
    summary.setdefault("run_id", run.record.run_id)
    write_assignments(run.assignments, summary, out)
    return [out / name for name in EXPORTED_FILES]


def export_run(engine: Engine, run_id: str | int, out: Path | str) -> list[Path]:
    """Fetch run `run_id` (or 'latest') and write it as data-contract files into `out`."""
    number = resolve_run_id(engine, str(run_id))
    return write_run(get_run(engine, number), out)
