"""Fixtures for the store's tests: a store URL per backend, a small agency, the stand-in optimizer.

Every store test runs on SQLite and on PostgreSQL. The PostgreSQL URL comes from $CASELOAD_PG_URL (set by
.ci/run from scripts/start_postgres.sh); each test gets a database of its own, dropped afterwards. Without
the variable the PostgreSQL half is skipped (locally), never faked.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text

from caseload.store.database import open_engine
from tests.conftest import write_folder
from tests.store.standin import standin_assign

PG_ENV = "CASELOAD_PG_URL"
REPO = Path(__file__).resolve().parents[2]
CLI = [sys.executable, str(REPO / "tests" / "store" / "cli_with_standin.py")]

WORKERS = """worker_id,fte,languages,french,latitude,longitude,areas,specializations,gender,available
w-ar,1,ar;en,false,45.42,-75.69,,gbv,female,true
w-fr,0.5,fr;en,true,45.43,-75.68,K1N,,male,true
w-es,0.2,es,false,45.44,-75.67,,,female,true
w-leave,1,en,false,45.45,-75.66,,,female,false
"""

CLIENTS = """client_id,need_level,languages,french_service,latitude,longitude,area,family_id,status,worker_id,\
referral_date,intake_date,priority,needs,worker_gender_preference,excluded_workers
c01,high,ar;en,no,45.401,-75.701,K1A,fam-1,waiting,,2026-09-01,,2,gbv,female,
c02,high,ar,no,45.402,-75.702,K1A,fam-1,waiting,,2026-09-01,,0,,,
c03,low,fr,yes,45.403,-75.703,K1N,,active,w-fr,2026-01-05,2026-01-20,0,,,
c04,low,fr;en,yes,45.404,-75.704,K1N,,waiting,,2026-10-01,,0,,,w-ar
c05,high,es,no,45.405,-75.705,K2P,,waiting,,2026-08-15,,1,,,
c06,high,es,no,45.406,-75.706,K2P,,waiting,,2026-08-16,,0,,,
c07,high,es,no,45.407,-75.707,K2P,,waiting,,2026-08-17,,0,,,
c08,low,en,no,45.408,-75.708,K1S,,active,w-ar,2026-02-01,2026-02-10,0,,,
c09,low,ti,no,45.409,-75.709,K1S,,waiting,,2026-07-01,,0,,,
c10,low,en,no,45.410,-75.710,K1S,,graduated,w-ar,2025-01-01,2025-01-10,0,,,
"""

POLICY = "max_moves_share: 0.02\nkeep_on_leave: true\n"


def write_agency(folder: Path, clients: str = CLIENTS, workers: str = WORKERS, policy: str | None = POLICY) -> Path:
    """The store tests' agency (with a policy file by default), written by the shared `write_folder`."""
    return write_folder(folder, clients, workers, policy)


@pytest.fixture
def agency_dir(tmp_path: Path) -> Path:
    return write_agency(tmp_path / "agency")


def _pg_database(base_url: str) -> Iterator[str]:
    url = make_url(base_url)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    name = f"caseload_t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield url.set(database=name).render_as_string(hide_password=False)
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str | None]:
    """The PostgreSQL server's URL: $CASELOAD_PG_URL; else, in CI (CI=true) or with CASELOAD_START_PG=1, a
    server this session starts with scripts/start_postgres.sh (and stops); else None (the half is skipped).
    So CI always runs the PostgreSQL half, whether or not .ci/run started a server."""
    base = os.environ.get(PG_ENV)
    if base:
        yield base
        return
    if os.environ.get("CI", "").lower() != "true" and os.environ.get("CASELOAD_START_PG") != "1":
        yield None
        return
    # Not under pytest's tmp folder: as root, the server runs as `postgres`, who cannot enter root's folders.
    folder = Path(tempfile.mkdtemp(prefix="caseload-pg."))
    script = str(REPO / "scripts" / "start_postgres.sh")
    started = subprocess.run(["bash", script], capture_output=True, text=True, timeout=900,
                             env={**os.environ, "CASELOAD_PG_DIR": str(folder)})
    if started.returncode != 0:
        pytest.fail(f"scripts/start_postgres.sh failed:\n{started.stderr}")
    try:
        yield started.stdout.strip().splitlines()[-1]
    finally:
        subprocess.run(["bash", script, "stop", str(folder)], capture_output=True, timeout=120)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty store: a SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'caseload.db'}"
        return
    base = request.getfixturevalue("pg_server")
    if not base:
        pytest.skip(f"{PG_ENV} is not set (.ci/run sets it from scripts/start_postgres.sh)")
    yield from _pg_database(base)


@pytest.fixture
def standin(monkeypatch: pytest.MonkeyPatch):  # noqa: ANN201
    """Put the stand-in optimizer where `caseload assign` imports it from."""
    import optimizer

    monkeypatch.setattr(optimizer, "assign", standin_assign, raising=False)
    return standin_assign


@pytest.fixture
def engine(store_url: str):  # noqa: ANN201
    engine = open_engine(store_url)
    yield engine
    engine.dispose()


def run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """The CLI (with the stand-in optimizer) in a subprocess, to completion."""
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=timeout, cwd=REPO,
                          env={**os.environ, **(env or {})})


def start_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    """The CLI (with the stand-in optimizer) in a subprocess, left running."""
    return subprocess.Popen([*CLI, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
                            env={**os.environ, **(env or {})})


def wait_for_marker(marker: Path, process: subprocess.Popen, timeout: float = 120) -> str:
    """Poll until the paused process writes its marker (generous timeout, no timing assumptions)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if marker.exists():
            return marker.read_text(encoding="utf-8")
        if process.poll() is not None:
            out, err = process.communicate()
            raise AssertionError(f"process ended (status {process.returncode}) before pausing:\n{out}\n{err}")
        time.sleep(0.05)
    process.kill()
    raise AssertionError("the process never reached its pause point")


def snapshot(url: str) -> dict[str, object]:
    """What the promises are about, read afresh: clients with their workers, the runs, their assignments."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            clients = connection.execute(text(
                "SELECT client_id, status, worker_id, intake_date FROM clients ORDER BY client_id")).all()
            runs = connection.execute(text(
                "SELECT run_id, input_digest, placed, moved, kept, waiting, clients FROM runs ORDER BY run_id")).all()
            assignments = connection.execute(text(
                "SELECT run_id, client_id, worker_id, decision FROM run_assignments ORDER BY run_id, client_id")).all()
            snapshots = connection.execute(text(
                "SELECT run_id, count(*) FROM run_clients GROUP BY run_id ORDER BY run_id")).all()
    finally:
        engine.dispose()
    return {"clients": [tuple(r) for r in clients], "runs": [tuple(r) for r in runs],
            "assignments": [tuple(r) for r in assignments], "run_inputs": [tuple(r) for r in snapshots]}
