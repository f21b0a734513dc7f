"""Two writers at once against one store: the second refuses with a clear message, or waits its turn;
never a mixed result."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from caseload.store.convert import input_digest
from caseload.store.database import open_engine
from caseload.store.lock import StoreBusy, write_session
from caseload.store.state import import_folder, store_agency
from tests.store.conftest import CLI, REPO, snapshot, start_cli, wait_for_marker

BUSY = "another caseload run or import is writing to this store"


def test_a_second_writer_is_refused_while_the_first_holds_the_lock(engine, store_url: str) -> None:
    other = open_engine(store_url)
    try:
        with write_session(engine):
            with pytest.raises(StoreBusy, match=BUSY), write_session(other, wait_s=0):
                pass
            with pytest.raises(StoreBusy, match="after waiting 0.3 s"), write_session(other, wait_s=0.3):
                pass
        with write_session(other) as session:  # released by the first writer's end
            session.commit()
    finally:
        other.dispose()


def test_concurrent_runs_refuse_or_wait_and_never_mix(store_url: str, agency_dir: Path, tmp_path: Path) -> None:
    engine = open_engine(store_url)
    try:
        import_folder(engine, agency_dir)
        initial = input_digest(store_agency(engine))
    finally:
        engine.dispose()
    marker = tmp_path / "paused"
    first = start_cli("assign", "--db", store_url, "--as-of", "2026-11-24",
                      env={"CASELOAD_TEST_PAUSE_AT": "solved", "CASELOAD_TEST_PAUSE_MARKER": str(marker)})
    waiter: subprocess.Popen | None = None
    try:
        wait_for_marker(marker, first)
        # While the first run holds the store: a second run and an import are refused with exit status 2,
        # and a run told to wait says so and waits. (Started together: the CLI takes seconds to start.)
        refused = start_cli("assign", "--db", store_url, "--as-of", "2026-11-24")
        refused_import = start_cli("import", str(agency_dir), "--db", store_url)
        waiter_err = tmp_path / "waiter.err"
        with waiter_err.open("w") as err_file:
            waiter = subprocess.Popen([*CLI, "assign", "--db", store_url, "--as-of", "2026-11-24", "--wait", "120"],
                                      stdout=subprocess.PIPE, stderr=err_file, text=True, cwd=REPO)
        for process in (refused, refused_import):
            out, err = process.communicate(timeout=120)
            assert process.returncode == 2, out + err
            assert BUSY in " ".join(err.split())
        deadline = time.monotonic() + 120
        while "waiting for it" not in waiter_err.read_text() and time.monotonic() < deadline:
            assert waiter.poll() is None, f"the waiting run ended early: {waiter_err.read_text()}"
            time.sleep(0.05)
        assert "waiting for it" in waiter_err.read_text()
        assert waiter.poll() is None, "the waiting run cannot finish while the first one holds the store"
        marker.unlink()  # let the first run go on
        out, err = first.communicate(timeout=120)
        assert first.returncode == 0, out + err
        out, _ = waiter.communicate(timeout=120)
        assert waiter.returncode == 0, out + waiter_err.read_text()
    finally:
        for process in (first, waiter):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()
    state = snapshot(store_url)
    assert [run[0] for run in state["runs"]] == sorted(run[0] for run in state["runs"])
    first_run, second_run = state["runs"]
    assert first_run[1] == initial, "the first run solved on the imported state"
    engine = open_engine(store_url)
    try:
        assert second_run[1] == input_digest(store_agency(engine)), "the second run solved on the first's result"
    finally:
        engine.dispose()
    assert second_run[2] == 0 and second_run[3] == 0, "nothing left to place or move on the first run's result"


def test_two_coordinators_approve_at_once_one_wins_the_other_is_told(store_url: str, agency_dir: Path,
                                                                      tmp_path: Path) -> None:
    """The first approval holds the store (paused before COMMIT); the second, told to wait, gets its turn
    after the first commits, finds the run approved by the first, and exits 2 saying so. The clients carry
    the plan once."""
    from caseload.store.runs import get_run, run_and_record
    from tests.store.standin import standin_assign

    engine = open_engine(store_url)
    try:
        import_folder(engine, agency_dir)
        run_id = run_and_record(engine, standin_assign, propose=True, user="alice").record.run_id
    finally:
        engine.dispose()
    marker = tmp_path / "paused"
    first = start_cli("approve", str(run_id), "--db", store_url, "--user", "alice",
                      env={"CASELOAD_TEST_PAUSE_AT": "approve", "CASELOAD_TEST_PAUSE_MARKER": str(marker)})
    second: subprocess.Popen | None = None
    try:
        wait_for_marker(marker, first)
        second_err = tmp_path / "second.err"
        with second_err.open("w") as err_file:
            second = subprocess.Popen([*CLI, "approve", str(run_id), "--db", store_url, "--user", "bob",
                                       "--wait", "120"], stdout=subprocess.PIPE, stderr=err_file, text=True, cwd=REPO)
        deadline = time.monotonic() + 120
        while "waiting for it" not in second_err.read_text() and time.monotonic() < deadline:
            assert second.poll() is None, f"the second approval ended early: {second_err.read_text()}"
            time.sleep(0.05)
        marker.unlink()
        out, err = first.communicate(timeout=120)
        assert first.returncode == 0, out + err
        out, _ = second.communicate(timeout=120)
        assert second.returncode == 2, out
        told = " ".join(second_err.read_text().split())
        assert f"run {run_id} was already approved by alice" in told and "Traceback" not in told
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()
    engine = open_engine(store_url)
    try:
        record = get_run(engine, run_id).record
        assert (record.status, record.approved_by) == ("approved", "alice")
    finally:
        engine.dispose()
