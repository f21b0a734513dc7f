"""`caseload.reader.load_start`: the plan `caseload assign --start` begins from, read all or nothing."""

from __future__ import annotations

import pytest

from caseload.reader import START_FILE, load_start
from caseload.validation import ValidationFailed
from tests.optimizer.agencies import agency, caseload, client, worker


def _agency():
    return agency(caseload("W1", n_low=2) + [client("C1"), client("C2")], [worker("W1"), worker("W2")])


def test_a_start_is_read_from_an_assignments_file_and_from_the_folder_holding_it(tmp_path):
    text = ("client_id,worker_id,decision,reason,travel_km,language\nC1,W2,new,,1.0,en\nC2,,waiting,no room,,\n"
            "AW1L0,W2,moved,,2.0,en\n")
    (tmp_path / START_FILE).write_text(text, encoding="utf-8")
    expected = {"C1": "W2", "AW1L0": "W2"}  # a row without a worker (C2 waits) says nothing
    assert load_start(tmp_path / START_FILE, _agency()) == expected
    assert load_start(tmp_path, _agency()) == expected


def test_a_plan_that_places_nobody_is_an_empty_start(tmp_path):
    (tmp_path / START_FILE).write_text("client_id,worker_id,decision\n", encoding="utf-8")
    assert load_start(tmp_path, _agency()) == {}


def test_every_error_in_a_start_file_is_reported_at_once(tmp_path):
    path = tmp_path / "start.csv"
    path.write_text("client_id,worker_id\nC9,W1\nC1,W7\nC1,W2\n", encoding="utf-8")
    with pytest.raises(ValidationFailed) as failure:
        load_start(path, _agency())
    found = {(e.row, e.column, e.value) for e in failure.value.errors}
    assert found == {(2, "client_id", "C9"), (3, "worker_id", "W7"), (4, "client_id", "C1")}
    assert all(e.file == "start.csv" for e in failure.value.errors)


def test_a_missing_start_file_or_column_says_so(tmp_path):
    with pytest.raises(ValidationFailed, match="file does not exist"):
        load_start(tmp_path / "none.csv", _agency())
    (tmp_path / "s.csv").write_text("client_id,worker\nC1,W1\n", encoding="utf-8")
    with pytest.raises(ValidationFailed, match="worker_id: required column is missing"):
        load_start(tmp_path / "s.csv", _agency())
