"""The validator: one test per kind of error, each checking file, row, column and rule are named."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from openpyxl import Workbook

from caseload.domain import NeedLevel, Status
from caseload.reader import load_agency
from caseload.validation import HIDDEN, ValidationFailed
from tests.conftest import CLIENTS_CSV, WORKERS_CSV, write_folder

HEADER = "client_id,need_level,languages,status,worker_id,referral_date,french_service,latitude,longitude\n"


def errors_of(folder: Path) -> list:
    with pytest.raises(ValidationFailed) as info:
        load_agency(folder)
    return info.value.errors


def only_error(folder: Path):
    errors = errors_of(folder)
    assert len(errors) == 1, [str(e) for e in errors]
    return errors[0]


def test_good_folder_loads_normalised(good_folder: Path) -> None:
    agency = load_agency(good_folder, as_of=date(2026, 11, 24))
    c1, c2 = agency.clients
    assert c1.languages == ("ar", "en") and c1.need_level is NeedLevel.HIGH and c1.status is Status.WAITING
    assert c2.french_service and c2.worker_id == "w2" and c2.status is Status.ACTIVE
    assert agency.workers[1].areas == frozenset({"K1N"}) and agency.workers[1].french
    assert agency.as_of == date(2026, 11, 24)


def test_headers_are_case_insensitive_and_trimmed(tmp_path: Path) -> None:
    clients = " CLIENT_ID ,Need_Level, Languages \nc1,LOW,ti\n"
    agency = load_agency(write_folder(tmp_path, clients=clients))
    assert agency.clients[0].languages == ("ti",)


def test_extra_columns_are_kept_and_ignored(tmp_path: Path) -> None:
    clients = "client_id,need_level,languages,case_notes\nc1,low,es,anything\n"
    assert load_agency(write_folder(tmp_path, clients=clients)).clients[0].client_id == "c1"


@pytest.mark.parametrize("word,expected", [("oui", True), ("Y", True), ("1", True), ("non", False), ("No", False)])
def test_booleans_in_every_spelling(tmp_path: Path, word: str, expected: bool) -> None:
    clients = f"client_id,need_level,languages,french_service\nc1,low,fr,{word}\n"
    assert load_agency(write_folder(tmp_path, clients=clients)).clients[0].french_service is expected


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    folder = write_folder(tmp_path)
    (folder / "clients.csv").write_bytes(b"\xef\xbb\xbf" + CLIENTS_CSV.encode())
    assert len(load_agency(folder).clients) == 2


def test_windows_1252_is_rejected_with_how_to_resave(tmp_path: Path) -> None:
    folder = write_folder(tmp_path)
    text = CLIENTS_CSV.replace("Arabic;English", "Fran\u00e7ais")
    (folder / "clients.csv").write_bytes(text.encode("cp1252"))
    error = only_error(folder)
    assert error.file == "clients.csv" and error.row == 2 and "not UTF-8" in error.rule and "CSV UTF-8" in error.rule


def test_xlsx_is_read_like_csv(tmp_path: Path) -> None:
    folder = write_folder(tmp_path)
    (folder / "clients.csv").unlink()
    book = Workbook()
    sheet = book.active
    sheet.title = "clients"
    sheet.append(["Client_ID", "need_level", "languages", "referral_date", "priority"])
    sheet.append(["c1", "high", "Ukrainian", date(2026, 5, 1), 2.0])
    book.save(folder / "clients.xlsx")
    client = load_agency(folder).clients[0]
    assert client.languages == ("uk",) and client.referral_date == date(2026, 5, 1) and client.priority == 2


def test_policy_yaml_is_read_and_deviation_reported(tmp_path: Path) -> None:
    folder = write_folder(tmp_path, policy="targets:\n  high_need_ratio: 22\nmax_moves_share: 0\n")
    policy = load_agency(folder).policy
    assert policy.high_need_ratio == 22 and policy.max_moves_share == 0
    assert any("outside the framework's range" in note for note in policy.deviations())


@pytest.mark.parametrize(
    "row,column,rule_part",
    [
        ("c3,urgent,ar,waiting,,,,,", "need_level", "high, low"),
        ("c3,low,xx,waiting,,,,,", "languages", "ISO 639"),
        ("c3,low,,waiting,,,,,", "languages", "at least one language"),
        ("c3,low,ar,sleeping,,,,,", "status", "waiting, active"),
        ("c3,low,ar,active,,,,,", "worker_id", "required for an active client"),
        ("c3,low,ar,waiting,w1,,,,", "worker_id", "empty for a waiting client"),
        ("c3,low,ar,active,w9,,,,", "worker_id", "unknown worker"),
        ("c3,low,ar,waiting,,24/11/2026,,,", "referral_date", "YYYY-MM-DD"),
        ("c3,low,ar,waiting,,2026-02-30,,,", "referral_date", "YYYY-MM-DD"),
        ("c3,low,ar,waiting,,,perhaps,,", "french_service", "true/false"),
        ("c3,low,ar,waiting,,,,91,-75", "latitude", "[-90, 90]"),
        ("c3,low,ar,waiting,,,,45,-181", "longitude", "[-180, 180]"),
        ("c3,low,ar,waiting,,,,45,", "longitude", "go together"),
        ("c3,low,ar,waiting,,,,north,-75", "latitude", "must be a number"),
        ("c3,low,=HYPERLINK(1),waiting,,,,,", "languages", "formula"),
        (",low,ar,waiting,,,,,", "client_id", "required"),
        ("c1,low,ar,waiting,,,,,", "client_id", "duplicate id"),
    ],
)
def test_each_client_error_names_row_column_and_rule(tmp_path: Path, row: str, column: str, rule_part: str) -> None:
    folder = write_folder(tmp_path, clients=CLIENTS_CSV + row + "\n")
    error = only_error(folder)
    assert (error.file, error.row, error.column) == ("clients.csv", 4, column)
    assert rule_part in error.rule


@pytest.mark.parametrize(
    "row,column,rule_part",
    [
        ("w3,0,en", "fte", "(0, 1.5]"),
        ("w3,-1,en", "fte", "(0, 1.5]"),
        ("w3,2,en", "fte", "(0, 1.5]"),
        ("w3,,en", "fte", "required"),
        ("w3,1,", "languages", "at least one language"),
        ("w1,1,en", "worker_id", "duplicate id"),
    ],
)
def test_each_worker_error_names_row_column_and_rule(tmp_path: Path, row: str, column: str, rule_part: str) -> None:
    workers = "worker_id,fte,languages\nw1,1,ar;en\nw2,0.5,fr;en\n" + row + "\n"
    error = only_error(write_folder(tmp_path, workers=workers))
    assert (error.file, error.row, error.column) == ("workers.csv", 4, column)
    assert rule_part in error.rule


@pytest.mark.parametrize(
    "clients,rule_part",
    [
        ("", "empty"),
        (HEADER, "no data rows"),
        ("client_id,languages\nc1,ar\n", "required column"),
        ("client_id,need_level,languages,languages\nc1,low,ar,en\n", "appears twice"),
        ("client_id,need_level,languages\nc1,low,ar,extra\n", "the header has 3"),
    ],
)
def test_file_level_errors(tmp_path: Path, clients: str, rule_part: str) -> None:
    error = only_error(write_folder(tmp_path, clients=clients))
    assert error.file == "clients.csv" and rule_part in error.rule


def test_all_errors_are_reported_at_once_across_files(tmp_path: Path) -> None:
    clients = CLIENTS_CSV + "c3,urgent,xx,waiting,,,,,\n"
    workers = WORKERS_CSV + "w3,0,en,,,,\n"
    errors = errors_of(write_folder(tmp_path, clients=clients, workers=workers))
    assert {(e.file, e.column) for e in errors} == {
        ("clients.csv", "need_level"), ("clients.csv", "languages"), ("workers.csv", "fte")
    }


def test_policy_unknown_key_and_bad_value_are_both_reported(tmp_path: Path) -> None:
    folder = write_folder(tmp_path, policy="max_move_share: 0.1\nmax_moves_share: 2\n")
    errors = errors_of(folder)
    assert {(e.file, e.column) for e in errors} == {
        ("policy.yaml", "max_move_share"), ("policy.yaml", "max_moves_share")
    }
    assert any("unknown key" in e.rule for e in errors)


def test_missing_files_are_named(tmp_path: Path) -> None:
    tmp_path.joinpath("empty").mkdir()
    files = {e.file for e in errors_of(tmp_path / "empty")}
    assert files == {"clients.csv", "workers.csv"}


def test_personal_values_are_hidden_in_errors(tmp_path: Path) -> None:
    folder = write_folder(tmp_path, clients=CLIENTS_CSV + "c3,low,ar,waiting,,,,95.123,-75\n")
    error = only_error(folder)
    assert error.value == HIDDEN and "95.123" not in str(error)
