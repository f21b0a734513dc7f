"""A run commits all of its assignments in one transaction or nothing: SIGKILL at any moment leaves the
last good run and the clients' current workers intact.

Each test kills a real `caseload assign --db` (or `caseload import`) subprocess, paused inside its
transaction by the documented hook in `caseload.store.pause`, then checks the store and runs again.
"""

from __future__ import annotations

import random
import signal
import time
from datetime import date
from pathlib import Path

import pytest

from caseload.store.database import open_engine
from caseload.store.pause import PAUSE_POINTS
from caseload.store.runs import run_and_record
from caseload.store.state import import_folder
from tests.store.conftest import CLIENTS, snapshot, start_cli, wait_for_marker, write_agency
from tests.store.standin import standin_assign

APPROVAL_POINTS = ["approving", "approve"]
RUN_POINTS = [p for p in PAUSE_POINTS if p != "import" and p not in APPROVAL_POINTS]


def _in_process(store_url: str, action) -> None:  # noqa: ANN001
    """Set-up and recovery steps run in this process (only the killed run needs a process of its own)."""
    engine = open_engine(store_url)
    try:
        action(engine)
    finally:
        engine.dispose()


def _import(store_url: str, folder: Path) -> None:
    _in_process(store_url, lambda engine: import_folder(engine, folder, wait_s=60))


def _run(store_url: str, as_of: date) -> None:
    _in_process(store_url, lambda engine: run_and_record(engine, standin_assign, as_of=as_of, wait_s=60))


def _store_with_one_good_run(store_url: str, agency_dir: Path) -> dict:
    _import(store_url, agency_dir)
    _run(store_url, date(2026, 11, 23))
    return snapshot(store_url)


def _kill(process) -> None:  # noqa: ANN001
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=60)
    assert process.returncode == -signal.SIGKILL


@pytest.mark.parametrize("point", RUN_POINTS)
def test_sigkill_during_a_run_leaves_the_last_good_run(point: str, store_url: str, agency_dir: Path,
                                                       tmp_path: Path) -> None:
    before = _store_with_one_good_run(store_url, agency_dir)
    # Tomorrow's input differs: one more worker, so the killed run would have placed and written something.
    write_agency(agency_dir, workers=(agency_dir / "workers.csv").read_text() + "w-more,1,es;ti,false,,,,,,true\n",
                 clients=CLIENTS)
    _in_process(store_url, lambda engine: import_folder(engine, agency_dir))
    before = snapshot(store_url)
    marker = tmp_path / "paused"
    process = start_cli("assign", "--db", store_url, "--as-of", "2026-11-24",
                        env={"CASELOAD_TEST_PAUSE_AT": point, "CASELOAD_TEST_PAUSE_MARKER": str(marker)})
    try:
        assert wait_for_marker(marker, process).startswith(point)
        _kill(process)
    finally:
        if process.poll() is None:
            process.kill()
    assert snapshot(store_url) == before
    # The store is usable at once: the lock went with the killed process.
    _run(store_url, date(2026, 11, 24))
    after = snapshot(store_url)
    assert len(after["runs"]) == 2 and after["runs"][0] == before["runs"][0]


def test_sigkill_during_an_import_leaves_the_previous_state(store_url: str, agency_dir: Path,
                                                            tmp_path: Path) -> None:
    before = _store_with_one_good_run(store_url, agency_dir)
    other = write_agency(tmp_path / "tomorrow", clients=CLIENTS.replace("c09,low,ti", "c09,high,ti"))
    marker = tmp_path / "paused"
    process = start_cli("import", str(other), "--db", store_url,
                        env={"CASELOAD_TEST_PAUSE_AT": "import", "CASELOAD_TEST_PAUSE_MARKER": str(marker)})
    try:
        wait_for_marker(marker, process)
        _kill(process)
    finally:
        if process.poll() is None:
            process.kill()
    assert snapshot(store_url) == before


def test_sigkill_at_random_moments_leaves_a_whole_run_or_none(store_url: str, agency_dir: Path) -> None:
    """No pause: kill a real run after a random delay, several times. Each time the store holds either the
    runs it had or one more whole run (its assignments all there, the clients moved accordingly)."""
    _store_with_one_good_run(store_url, agency_dir)
    rng = random.Random(20261124)
    for attempt in range(3):
        write_agency(agency_dir, clients=CLIENTS + f"n{attempt:02d},low,es,no,,,,,waiting,,2026-11-01,,0,,,\n",
                     workers=(agency_dir / "workers.csv").read_text() + f"w-x{attempt},1,es,false,,,,,,true\n")
        _import(store_url, agency_dir)
        before = snapshot(store_url)
        process = start_cli("assign", "--db", store_url, "--as-of", "2026-11-24", "--wait", "60")
        time.sleep(rng.uniform(0.5, 3.5))  # the CLI takes ~2 s to start up  # a random moment, not a timing assertion
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
        process.communicate(timeout=120)
        after = snapshot(store_url)
        if after["runs"] == before["runs"]:
            assert after == before
            continue
        assert len(after["runs"]) == len(before["runs"]) + 1
        new_run = after["runs"][-1]
        rows = [a for a in after["assignments"] if a[0] == new_run[0]]
        assert len(rows) == new_run[6], "every assignment of the run is there"
        workers = {c[0]: c[2] for c in after["clients"]}
        assert all(workers[client] == worker for _, client, worker, decision in rows if decision == "new")


@pytest.mark.parametrize("point", APPROVAL_POINTS)
def test_sigkill_during_an_approval_leaves_the_last_approved_plan(point: str, store_url: str, agency_dir: Path,
                                                                  tmp_path: Path) -> None:
    """A proposal is approved by `caseload approve`; killed inside its transaction, the clients keep the
    workers of the last applied run, the proposal stays a proposal, and approving it again then works."""
    _store_with_one_good_run(store_url, agency_dir)
    write_agency(agency_dir, workers=(agency_dir / "workers.csv").read_text() + "w-more,1,es;ti,false,,,,,,true\n",
                 clients=CLIENTS)
    _import(store_url, agency_dir)
    proposal = {}
    _in_process(store_url, lambda engine: proposal.setdefault("run", run_and_record(
        engine, standin_assign, as_of=date(2026, 11, 24), propose=True, user="alice")))
    run_id = proposal["run"].record.run_id
    assert proposal["run"].record.placed > 0, "the proposal would change someone"
    before = snapshot(store_url)
    marker = tmp_path / "paused"
    process = start_cli("approve", str(run_id), "--db", store_url, "--user", "bob",
                        env={"CASELOAD_TEST_PAUSE_AT": point, "CASELOAD_TEST_PAUSE_MARKER": str(marker)})
    try:
        assert wait_for_marker(marker, process).startswith(point)
        _kill(process)
    finally:
        if process.poll() is None:
            process.kill()
    assert snapshot(store_url) == before

    from caseload.store.runs import approve_run, get_run

    _in_process(store_url, lambda engine: approve_run(engine, run_id, user="bob"))
    after = snapshot(store_url)
    assert after != before
    placed = {a.client_id: a.worker_id for a in proposal["run"].assignments if a.decision.value == "new"}
    workers = {c[0]: c[2] for c in after["clients"]}
    assert all(workers[c] == w for c, w in placed.items())
    record = {}
    _in_process(store_url, lambda engine: record.setdefault("r", get_run(engine, run_id).record))
    assert (record["r"].status, record["r"].approved_by) == ("approved", "bob")
