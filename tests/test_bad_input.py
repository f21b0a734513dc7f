"""Bad input never crashes and never half-loads: the corpus in tests/data/bad, file by file.

Each broken file is rejected with a message naming its file, row and column (where a file has rows) and
the rule it breaks; `caseload validate` and `caseload import` exit with status 2, print no traceback, and
leave the store as it was. Files of extreme size are generated here, never committed.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from caseload.cli import app
from caseload.reader import load_agency
from caseload.tables import MAX_FILE_BYTES
from caseload.validation import ValidationFailed

CORPUS = Path(__file__).parent / "data" / "bad"
CASES: list[dict[str, Any]] = yaml.safe_load((CORPUS / "cases.yaml").read_text(encoding="utf-8"))
TARGET = {"clients": "clients", "workers": "workers", "policy": "policy", "overrides": "overrides"}
runner = CliRunner()


def folder_for(case_file: str, tmp_path: Path) -> Path:
    """The broken file in a data folder, under its contract name, with good companions for the rest."""
    table, _ = case_file.split("--", 1)
    folder = tmp_path / "agency"
    folder.mkdir()
    shutil.copy(CORPUS / "_companion-clients.csv", folder / "clients.csv")
    shutil.copy(CORPUS / "_companion-workers.csv", folder / "workers.csv")
    suffix = Path(case_file).suffix
    if table in ("clients", "workers"):
        (folder / f"{table}.csv").unlink()
    shutil.copy(CORPUS / case_file, folder / f"{TARGET[table]}{'.yaml' if table == 'policy' else suffix}")
    return folder


def test_the_corpus_has_at_least_30_broken_files() -> None:
    broken = [c for c in CASES if not c.get("accepted")]
    assert len(broken) >= 30
    on_disk = {p.name for p in CORPUS.iterdir() if "--" in p.name}
    assert on_disk == {c["file"] for c in CASES}, "every file in the corpus has its expectation, and back"


@pytest.mark.parametrize("case", CASES, ids=[c["file"] for c in CASES])
def test_each_broken_file_is_rejected_naming_row_column_and_rule(case: dict[str, Any], tmp_path: Path) -> None:
    folder = folder_for(case["file"], tmp_path)
    if case.get("accepted"):
        load_agency(folder)
        return
    with pytest.raises(ValidationFailed) as info:
        load_agency(folder)
    errors = info.value.errors
    table = case["file"].split("--", 1)[0]
    for expected in case["errors"]:
        matches = [
            e for e in errors
            if e.file.startswith(table) and e.row == expected["row"] and e.column == expected["column"]
            and expected["rule"] in e.rule
        ]
        assert matches, f"expected {expected} among {[str(e) for e in errors]}"
    report = info.value.report()
    for expected in case["errors"]:
        if expected["row"] is not None:
            assert f"row {expected['row']}" in report
        if expected["column"] is not None:
            assert f"column {expected['column']}" in report


@pytest.mark.parametrize("case", [c for c in CASES if not c.get("accepted")][::5], ids=lambda c: c["file"])
def test_the_cli_reports_and_exits_2_and_import_leaves_no_store(case: dict[str, Any], tmp_path: Path) -> None:
    folder = folder_for(case["file"], tmp_path)
    result = runner.invoke(app, ["validate", str(folder)])
    assert result.exit_code == 2, result.output
    assert "nothing was loaded" in result.output and "Traceback" not in result.output
    db = tmp_path / "caseload.db"
    result = runner.invoke(app, ["import", str(folder), "--db", str(db)])
    assert result.exit_code == 2, result.output
    assert not db.exists(), "a rejected folder does not even create the store"


def test_a_rejected_import_leaves_the_store_as_it_was(tmp_path: Path) -> None:
    good = tmp_path / "good"
    good.mkdir()
    shutil.copy(CORPUS / "_companion-clients.csv", good / "clients.csv")
    shutil.copy(CORPUS / "_companion-workers.csv", good / "workers.csv")
    db = tmp_path / "caseload.db"
    assert runner.invoke(app, ["import", str(good), "--db", str(db)]).exit_code == 0
    before = db.read_bytes()
    bad = folder_for("clients--duplicate-id.csv", tmp_path)
    result = runner.invoke(app, ["import", str(bad), "--db", str(db)])
    assert result.exit_code == 2
    assert db.read_bytes() == before


def test_a_200_mb_file_is_refused_before_it_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = folder_for("clients--utf8-bom.csv", tmp_path)
    big = folder / "clients.csv"
    with big.open("r+b") as handle:  # a real 200 MB file (sparse on disk: the reader must not read it)
        handle.truncate(200 * 2**20)
    assert big.stat().st_size > MAX_FILE_BYTES
    read = Path.read_bytes

    def guarded(path: Path) -> bytes:
        assert path != big, "the reader must refuse the file from its size, without reading it"
        return read(path)

    monkeypatch.setattr(Path, "read_bytes", guarded)
    with pytest.raises(ValidationFailed) as info:
        load_agency(folder)
    (error,) = info.value.errors
    assert error.file == "clients.csv" and "200 MB" in error.rule and "100 MB limit" in error.rule


def test_a_one_megabyte_cell_is_refused_with_its_row(tmp_path: Path) -> None:
    folder = folder_for("clients--utf8-bom.csv", tmp_path)
    (folder / "clients.csv").write_text("client_id,need_level,languages\nc1,low,ar\nc2,low," + "x" * 2**20 + "\n")
    with pytest.raises(ValidationFailed) as info:
        load_agency(folder)
    (error,) = info.value.errors
    assert error.row == 3 and "longer than" in error.rule


def test_exports_escape_formula_like_cells(tmp_path: Path) -> None:
    """The reader refuses formulas, but a store edited by hand (or a reason text) may still hold one: the
    export writes it inert, with a leading quote, whatever the column."""
    from sqlalchemy import text

    from caseload.store.database import open_engine
    from caseload.store.export import export_run
    from caseload.store.runs import run_and_record
    from caseload.store.state import import_folder
    from tests.store.standin import standin_assign

    good = tmp_path / "good"
    good.mkdir()
    shutil.copy(CORPUS / "_companion-clients.csv", good / "clients.csv")
    shutil.copy(CORPUS / "_companion-workers.csv", good / "workers.csv")
    engine = open_engine(f"sqlite:///{tmp_path / 'caseload.db'}")
    try:
        import_folder(engine, good)
        with engine.begin() as connection:
            connection.execute(text("UPDATE clients SET client_id = '=HYPERLINK(\"http://x\")', "
                                    "area = '@SUM(A1)' WHERE client_id = 'c1'"))
        run_and_record(engine, standin_assign)
        export_run(engine, "latest", tmp_path / "out")
    finally:
        engine.dispose()
    clients = (tmp_path / "out" / "clients.csv").read_text(encoding="utf-8")
    assignments = (tmp_path / "out" / "assignments.csv").read_text(encoding="utf-8")
    assert "'=HYPERLINK" in clients and "'@SUM(A1)" in clients
    assert "'=HYPERLINK" in assignments
    for line in (clients + assignments).splitlines():
        for cell in line.split(","):
            assert not cell.lstrip('"').startswith(("=", "@")), line
