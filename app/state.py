"""Where the app's agency comes from (the sample, uploaded files, the store) and what outlives a rerun.

Every source goes through the one validator, `caseload.reader.load_agency`: uploads are written to a
temporary folder and read exactly as `caseload validate` would read them, so a file the app accepts is
accepted everywhere. A load is cached by a digest of its input, and its result (an agency or every
error found) is kept in the session so that switching pages never loses it.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

import streamlit as st

from app.jobs import JobStore
from caseload.contract_io import clients_frame, workers_frame
from caseload.domain import Agency, Status, Worker
from caseload.policy import policy_to_yaml
from caseload.reader import load_agency
from caseload.validation import InputError, ValidationFailed

REPO_ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DIR = REPO_ROOT / "scenarios" / "sample"
SCENARIO_DIR = REPO_ROOT / "scenarios"
UPLOAD_TYPES = ["csv", "xlsx", "yaml", "yml"]

# Session keys that are not widgets, so they survive a page switch.
LOADED = "loaded_agency"
UPLOADED = "uploaded_agency"
STORED = "stored_agency"
SOURCE = "agency_source"
STORE_URL = "store_url"  # the store the agency was read from: runs are recorded there
SOURCES = {"sample": "Sample agency", "upload": "Upload files", "store": "Read the store"}


@dataclass(frozen=True)
class Loaded:
    """The outcome of one load: an agency, or every error that stopped it (never half of each)."""

    label: str
    key: str
    agency: Agency | None = None
    errors: tuple[InputError, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return self.agency is not None


@st.cache_resource(show_spinner=False)
def job_store() -> JobStore:
    """One store of results per server process, shared by every session and page."""
    return JobStore()


def agency_digest(agency: Agency) -> str:
    """A digest of everything a run reads, so the same input finds the same cached result."""
    digest = hashlib.sha256()
    digest.update(clients_frame(agency.clients).to_csv(index=False).encode())
    digest.update(workers_frame(agency.workers).to_csv(index=False).encode())
    digest.update(policy_to_yaml(agency.policy).encode())
    digest.update(agency.as_of.isoformat().encode())
    return digest.hexdigest()[:32]


def _load(folder: Path, label: str) -> Loaded:
    try:
        agency = load_agency(folder)
    except ValidationFailed as failure:
        key = hashlib.sha256(repr(failure.errors).encode()).hexdigest()[:32]
        return Loaded(label=label, key=key, errors=tuple(failure.errors))
    return Loaded(label=label, key=agency_digest(agency), agency=agency)


def _folder_stamp(folder: Path) -> tuple:
    """Names, sizes and modification times: a changed file reloads, an unchanged one hits the cache."""
    if not folder.is_dir():
        return ()
    return tuple((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(folder.iterdir()) if p.is_file())


@st.cache_resource(max_entries=4, show_spinner="Reading the agency's files...")
def _load_folder(folder: str, stamp: tuple, today: date) -> Loaded:
    return _load(Path(folder), f"{Path(folder).name} ({folder})")


def load_folder(folder: Path | str = SAMPLE_DIR) -> Loaded:
    """A data-contract folder (by default the shipped sample), validated once per change of its files."""
    folder = Path(folder)
    label = "the sample agency" if folder.resolve() == SAMPLE_DIR.resolve() else str(folder)
    return replace(_load_folder(str(folder), _folder_stamp(folder), date.today()), label=label)


def _table_name(name: str) -> str | None:
    """The contract file an upload stands for: clients, workers or the policy, by its name."""
    lower = name.lower()
    suffix = Path(lower).suffix
    if suffix in (".yaml", ".yml"):
        return "policy.yaml"
    if suffix not in (".csv", ".xlsx"):
        return None
    stem = Path(lower).stem
    if "client" in stem:
        return f"clients{suffix}"
    if "worker" in stem:
        return f"workers{suffix}"
    return None


@st.cache_resource(max_entries=4, show_spinner="Checking the uploaded files...")
def _load_uploads(digest: str, _files: tuple[tuple[str, bytes], ...], today: date) -> Loaded:
    label = ", ".join(name for name, _ in _files)
    errors: list[InputError] = []
    with tempfile.TemporaryDirectory(prefix="caseload-upload-") as tmp:
        folder = Path(tmp)
        workbooks = [(n, d) for n, d in _files if n.lower().endswith(".xlsx") and _table_name(n) is None]
        for name, data in _files:
            target = _table_name(name)
            if target is None and (name, data) in workbooks and len(workbooks) == 1:
                # One workbook with a clients sheet and a workers sheet stands for both tables.
                (folder / "clients.xlsx").write_bytes(data)
                (folder / "workers.xlsx").write_bytes(data)
                continue
            if target is None:
                errors.append(InputError(name, None, None, None,
                                         "not a contract file: name it clients.csv/.xlsx, workers.csv/.xlsx "
                                         "or policy.yaml (or upload one workbook with both sheets)"))
                continue
            if (folder / target).exists():
                errors.append(InputError(name, None, None, None, f"a second file for {target}: upload one"))
                continue
            (folder / target).write_bytes(data)
        if errors:
            return Loaded(label=label, key=digest, errors=tuple(errors))
        loaded = _load(folder, label)
    # The temporary names mean nothing to the user: errors name the file as uploaded.
    names = {_table_name(n) or "": n for n, _ in _files}
    errors_shown = tuple(replace(e, file=names.get(e.file, e.file)) for e in loaded.errors)
    return replace(loaded, errors=errors_shown, label=label)


def load_uploads(files: Sequence[tuple[str, bytes]]) -> Loaded:
    """Uploaded contract files, validated as a folder; cached by their content."""
    ordered = tuple(sorted((name, bytes(data)) for name, data in files))
    digest = hashlib.sha256()
    for name, data in ordered:
        digest.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
    return _load_uploads(digest.hexdigest()[:32], ordered, date.today())


def store_available() -> bool:
    """The store is an optional part of the project: the app works without it."""
    try:
        import caseload.store.database  # noqa: F401
        import caseload.store.state  # noqa: F401
    except ImportError:
        return False
    return True


def default_store_url() -> str:
    try:
        from caseload.store.database import resolve_url, safe_url

        return safe_url(resolve_url(None))
    except Exception:  # noqa: BLE001 - no store package, or a broken $CASELOAD_DB: offer the default
        return "sqlite:///caseload.db"


def load_store(url: str) -> Loaded:
    """Today's agency as stored (it was validated by the reader when it was imported)."""
    from caseload.store.database import StoreError, open_engine, safe_url
    from caseload.store.state import store_agency

    try:
        engine = open_engine(url, create=False)
    except StoreError as exc:
        return Loaded(label=url, key="store-error", errors=(InputError(url, None, None, None, str(exc)),))
    try:
        agency = store_agency(engine)
    finally:
        engine.dispose()
    if not agency.clients and not agency.workers:
        rule = "the store is empty: import a data folder first (caseload import DATA_DIR)"
        return Loaded(label=url, key="store-empty", errors=(InputError(safe_url(url), None, None, None, rule),))
    return Loaded(label=f"the store {safe_url(url)}", key=agency_digest(agency), agency=agency)


def with_workers(agency: Agency, workers: list[Worker]) -> tuple[Agency, list[str]]:
    """The agency with another staff: active clients of a removed worker return to the waitlist.

    Returns the new agency and the ids of the clients put back on the waitlist.
    """
    kept = {w.worker_id for w in workers}
    clients, returned = [], []
    for client in agency.clients:
        if client.status == Status.ACTIVE and client.worker_id not in kept:
            clients.append(replace(client, status=Status.WAITING, worker_id=None))
            returned.append(client.client_id)
        else:
            clients.append(client)
    return Agency(clients=clients, workers=workers, policy=agency.policy, as_of=agency.as_of), returned

