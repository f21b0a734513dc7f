"""Privacy: logs and error messages name clients only by client_id.

A full nightly cycle (import, assign with the real optimizer, history, export) runs with every logger at
DEBUG, SQLAlchemy's statement log included; then the logs, and everything the CLI printed, are scanned
for each client field value that could identify or describe a person: where they live, their area, their
family, their dates, their specialised needs, their gender preference and the workers they excluded.
Error paths (bad input, a database error) are scanned the same way.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from caseload.cli import app
from caseload.store.database import make_engine, resolve_url, upgrade
from caseload.store.models import ClientRow

runner = CliRunner()

WORKERS = """worker_id,fte,languages,french,latitude,longitude,areas,specializations,gender
w-a,1,ar;en,false,45.40,-75.70,,gbv,female
w-b,1,fr;en,true,45.41,-75.71,,,male
w-c,0.5,es;en,false,45.42,-75.72,,youth,female
"""

# Each personal value is distinctive, so that finding it anywhere is a leak and not a coincidence.
CLIENT_ROWS = [
    # id, need, langs, fr, lat, lon, area, family, status, worker, referral, intake, prio, needs, gender, excluded
    ("p01", "high", "ar;en", "no", "45.271828", "-75.314159", "QZ1AREA", "FAMQX01", "waiting", "", "2019-07-13", "",
     "2", "needqx-gbv;gbv", "female", "W-FORMERQX1"),
    ("p02", "high", "ar", "no", "45.161803", "-75.141421", "QZ1AREA", "FAMQX01", "waiting", "", "2019-07-14", "",
     "0", "", "", ""),
    ("p03", "low", "fr", "yes", "45.173205", "-75.223606", "QZ2AREA", "", "active", "w-b", "2018-03-09",
     "2018-05-17", "0", "needqx-senior", "male", "W-FORMERQX2"),
    ("p04", "low", "es;en", "no", "45.244949", "-75.264575", "QZ3AREA", "FAMQX02", "waiting", "", "2019-11-21", "",
     "1", "needqx-youth", "", ""),
    ("p05", "high", "ti", "no", "45.282842", "-75.331662", "QZ4AREA", "", "waiting", "", "2019-12-02", "", "0",
     "", "", ""),
    ("p06", "low", "en", "no", "45.316227", "-75.346410", "QZ5AREA", "", "active", "w-a", "2017-08-30", "2017-09-04",
     "0", "needqx-disability", "female", ""),
]
HEADER = ("client_id,need_level,languages,french_service,latitude,longitude,area,family_id,status,worker_id,"
          "referral_date,intake_date,priority,needs,worker_gender_preference,excluded_workers")


def clients_csv() -> str:
    return HEADER + "\n" + "\n".join(",".join(row) for row in CLIENT_ROWS) + "\n"


def personal_values() -> set[str]:
    """Every value of a client field other than client_id that identifies or describes the person.
    (Language codes and need levels are shared by thousands: not identifying.)"""
    values: set[str] = set()
    for row in CLIENT_ROWS:
        _, _, _, _, lat, lon, area, family, _, _, referral, intake, _, needs, _, excluded = row
        values |= {lat, lon, lat[:7], lon[:8], area, family, referral, intake, excluded}
        values |= {tag for tag in needs.split(";") if tag.startswith("needqx")}
        values |= set(excluded.split(";"))
    return {v for v in values if v}


def leaks(text: str, *, areas_allowed: bool = False) -> list[str]:
    found = sorted(v for v in personal_values() if v in text and not (areas_allowed and v.startswith("QZ")))
    # A gender preference is one common word: a leak is that word on a line that names a client.
    for line in text.splitlines():
        if re.search(r"\bp0\d\b", line) and re.search(r"\b(female|male)\b", line):
            found.append(f"gender preference beside a client: {line.strip()}")
    return found


@pytest.fixture
def all_logs(caplog: pytest.LogCaptureFixture):  # noqa: ANN201
    """Every logger at DEBUG, SQLAlchemy's statements (INFO) included."""
    caplog.set_level(logging.DEBUG)
    for name in ("sqlalchemy.engine", "sqlalchemy.pool", "alembic", "caseload", "optimizer"):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def write_agency(folder: Path, clients: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "clients.csv").write_text(clients, encoding="utf-8")
    (folder / "workers.csv").write_text(WORKERS, encoding="utf-8")
    return folder


def test_a_full_run_logs_clients_only_by_id(tmp_path: Path, all_logs: pytest.LogCaptureFixture) -> None:
    folder = write_agency(tmp_path / "agency", clients_csv())
    db = f"sqlite:///{tmp_path / 'caseload.db'}"
    printed = []
    for args in (["import", str(folder), "--db", db],
                 ["assign", "--db", db, "--time-limit", "10", "--as-of", "2026-11-24", "--out", str(tmp_path / "o")],
                 ["assign", "--db", db, "--time-limit", "10", "--as-of", "2026-11-25"],
                 ["history", "--db", db],
                 ["export", "latest", "--db", db, "--out", str(tmp_path / "export")]):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
        printed.append(result.output)
    records = all_logs.records
    assert any(r.name.startswith("sqlalchemy.engine") for r in records), "SQL statements were logged and scanned"
    assert any(r.name.startswith("caseload") for r in records)
    logs = "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in records)
    assert leaks(logs) == []
    # What the CLI prints goes to cron mail: no personal value either. The optimizer's reasons may name
    # an area ("no worker covers area K1A") as a count over clients, never beside a client, so areas pass.
    assert leaks("\n".join(printed), areas_allowed=True) == []
    # The run itself did see the personal data (the scan would have had something to find).
    exported = (tmp_path / "export" / "clients.csv").read_text(encoding="utf-8")
    assert "FAMQX01" in exported and "45.271828" in exported


def test_error_messages_for_bad_input_hide_personal_values(tmp_path: Path, all_logs: pytest.LogCaptureFixture) -> None:
    broken = clients_csv().replace("45.271828", "95.271828").replace(",QZ2AREA,", ",=QZ2AREA,") \
        .replace("2019-11-21", "21/11/2019").replace(",female,W-FORMERQX1", ",femme,W-FORMERQX1")
    folder = write_agency(tmp_path / "agency", broken)
    result = runner.invoke(app, ["import", str(folder), "--db", str(tmp_path / "caseload.db")])
    assert result.exit_code == 2
    assert "latitude" in result.output and "area" in result.output, "the report names the cells"
    text = result.output + "\n".join(r.getMessage() for r in all_logs.records)
    assert "95.271828" not in text and "=QZ2AREA" not in text and "21/11/2019" not in text
    assert leaks(text) == [] and "femme" not in text


def test_database_errors_do_not_echo_client_values(tmp_path: Path, all_logs: pytest.LogCaptureFixture) -> None:
    engine = make_engine(resolve_url(str(tmp_path / "caseload.db")))
    upgrade(engine)
    row = dict(client_id="p01", need_level="high", languages="ar", french_service=False, latitude=45.271828,
               longitude=-75.314159, area="QZ1AREA", family_id="FAMQX01", status="waiting", priority=0,
               needs="needqx-gbv", excluded_workers="W-FORMERQX1")
    try:
        with Session(engine) as session:
            session.add(ClientRow(**row))
            session.commit()
        with pytest.raises(DBAPIError) as info, Session(engine) as session:
            session.add(ClientRow(**row))  # the same id again: an integrity error
            session.commit()
    finally:
        engine.dispose()
    message = str(info.value)
    assert "UNIQUE" in message.upper()
    assert leaks(message + "\n".join(r.getMessage() for r in all_logs.records)) == []
