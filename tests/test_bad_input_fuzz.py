"""Fuzzing the reader: whatever a user hands over, the answer is an Agency or a report, never a traceback.

Three kinds of input: cells built from awkward text (formula signs, quotes, line breaks, any Unicode) in
the contract's columns; damaged workbooks (random bytes changed in a good .xlsx); and the CLI on random
bytes, which must exit 0 or 2 and print no traceback.
"""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from typer.testing import CliRunner

from caseload.cli import app
from caseload.reader import CLIENT_COLUMNS, WORKER_COLUMNS, load_agency
from caseload.validation import ValidationFailed

WORKERS = "worker_id,fte,languages,french\nw1,1,ar;en,false\nw2,0.5,fr;en,true\n"
FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
runner = CliRunner()

awkward_text = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["=1+1", "+high", "-x", "@SUM(A1)", "\t", "nan", "inf", "-0", "1e400", "0x10", " ", "w1",
                     "active", "waiting", "high", "low", "ar;en", "2026-02-30", "9999-12-31", "yes", "oui", "1.5",
                     '"', "\r\n", "\u200b", "\ufeff", "c1"]),
)


def check(folder: Path) -> None:
    """The one acceptable failure is ValidationFailed, and its errors name a file and a rule."""
    try:
        load_agency(folder)
    except ValidationFailed as failure:
        assert failure.errors
        for error in failure.errors:
            assert error.file and error.rule
            assert error.row is None or error.row >= 1
        assert "Traceback" not in failure.report()


def _csv(columns: tuple[str, ...], rows: list[dict[str, str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(c, "") for c in columns])
    return buffer.getvalue()


@FUZZ
@given(
    clients=st.lists(st.dictionaries(st.sampled_from(CLIENT_COLUMNS), awkward_text, max_size=8), max_size=6),
    workers=st.lists(st.dictionaries(st.sampled_from(WORKER_COLUMNS), awkward_text, max_size=6), max_size=4),
)
def test_awkward_cells_in_the_contract_columns(clients: list[dict[str, str]], workers: list[dict[str, str]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "clients.csv").write_text(_csv(CLIENT_COLUMNS, clients), encoding="utf-8")
        (folder / "workers.csv").write_text(_csv(WORKER_COLUMNS, workers) if workers else WORKERS, encoding="utf-8")
        check(folder)


def _good_workbook() -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "clients"
    sheet.append(["client_id", "need_level", "languages", "status", "worker_id", "referral_date"])
    for i in range(15):
        sheet.append([f"c{i}", "low" if i % 2 else "high", "ar;en", "waiting", None, "2026-10-01"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


GOOD_XLSX = _good_workbook()


@FUZZ
@given(changes=st.lists(st.tuples(st.integers(0, len(GOOD_XLSX) - 1), st.integers(0, 255)), min_size=1, max_size=12),
       cut=st.one_of(st.none(), st.integers(0, len(GOOD_XLSX))))
def test_damaged_workbooks(changes: list[tuple[int, int]], cut: int | None) -> None:
    data = bytearray(GOOD_XLSX)
    for position, value in changes:
        data[position] = value
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "clients.xlsx").write_bytes(bytes(data[:cut] if cut is not None else data))
        (folder / "workers.csv").write_text(WORKERS, encoding="utf-8")
        check(folder)


@settings(max_examples=40, deadline=None)
@given(data=st.binary(max_size=400), policy=st.one_of(st.none(), st.binary(max_size=80)))
def test_the_cli_on_random_bytes_exits_0_or_2_without_a_traceback(data: bytes, policy: bytes | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "clients.csv").write_bytes(b"client_id,need_level,languages\n" + data)
        (folder / "workers.csv").write_text(WORKERS, encoding="utf-8")
        if policy is not None:
            (folder / "policy.yaml").write_bytes(policy)
        result = runner.invoke(app, ["validate", str(folder)])
        assert result.exit_code in (0, 2), result.output
        assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
        assert "Traceback" not in result.output
