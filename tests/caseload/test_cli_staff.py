"""`caseload staff` end to end: the files it writes, and a user mistake exiting 2 with nothing written."""

from __future__ import annotations

import csv
import json

from typer.testing import CliRunner

from caseload.cli import app
from caseload.contract_io import write_agency
from tests.planning.test_staffing import _city

CANDIDATES = """candidate_id,fte,languages,french,areas,annual_cost,max_hires
ti-hamilton,1,Tigrinya,no,HAM,,1
fr-hamilton,1,en,yes,HAM,70000,
"""


def _folder(tmp_path):
    from tests.optimizer.agencies import agency

    folder = tmp_path / "data"
    write_agency(agency(*_city()), folder)
    (tmp_path / "candidates.csv").write_text(CANDIDATES, encoding="utf-8")
    return folder


def _run(*args: str):
    """The command without its projection over time (planning.projection's tests cover that)."""
    return CliRunner().invoke(app, ["staff", "--no-projection", *args])


def test_staff_writes_the_hires_the_workers_with_hires_the_frontier_and_the_summary(tmp_path):
    folder = _folder(tmp_path)
    out = tmp_path / "out"
    result = _run(str(folder), "--out", str(out), "--candidates", str(tmp_path / "candidates.csv"),
                  "--budget", "150000", "--frontier", "3", "--time-limit", "20", "--as-of", "2027-01-15")
    assert result.exit_code == 0, result.output
    with open(out / "hires.csv", encoding="utf-8") as handle:
        hires = list(csv.DictReader(handle))
    assert [(h["candidate_id"], h["hires"], h["clients_placed"]) for h in hires] == [
        ("ti-hamilton", "1", "3"), ("fr-hamilton", "1", "1")]
    assert float(hires[1]["annual_cost"]) == 70_000
    with open(out / "workers_with_hires.csv", encoding="utf-8") as handle:
        ids = [row["worker_id"] for row in csv.DictReader(handle)]
    assert ids == ["W1", "HIRE-ti-hamilton-1", "HIRE-fr-hamilton-1"]
    summary = json.loads((out / "staffing.json").read_text(encoding="utf-8"))
    assert (summary["budget"], summary["cost"], summary["placed_without"], summary["placed_with"]) == (
        150_000, 148_000, 0, 4)
    assert summary["placement_bound"] == 4 and summary["placement_gap"] == 0
    assert [row["placed"] for row in summary["frontier"]] == [0, 0, 3, 4]
    assert summary["bottlenecks"] and summary["bottlenecks_method"].startswith("exact re-solve")
    assert (out / "frontier.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "bottlenecks.csv").is_file()


def test_without_a_candidates_file_candidates_come_from_the_waitlist_and_budget_fte_is_priced(tmp_path):
    folder = _folder(tmp_path)
    out = tmp_path / "out"
    result = _run(str(folder), "--out", str(out), "--budget-fte", "1", "--frontier", "0", "--no-bottlenecks",
                  "--time-limit", "20", "--as-of", "2027-01-15")
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "staffing.json").read_text(encoding="utf-8"))
    assert summary["budget"] == 78_000 and summary["placed_with"] == 3
    assert summary["candidates_source"].startswith("derived")
    assert not (out / "frontier.png").exists()


def test_a_bad_candidates_file_exits_2_with_every_error_and_writes_nothing(tmp_path):
    folder = _folder(tmp_path)
    (tmp_path / "candidates.csv").write_text("candidate_id,fte,languages,annual_cost\nx,2,ti,-1\nx,1,ti,\n",
                                             encoding="utf-8")
    out = tmp_path / "out"
    result = _run(str(folder), "--out", str(out), "--candidates", str(tmp_path / "candidates.csv"),
                  "--budget", "100000")
    assert result.exit_code == 2
    for text in ("must be in (0, 1.5]", "must not be negative", "duplicate id"):
        assert text in result.output
    assert "Traceback" not in result.output
    assert not out.exists()


def test_no_budget_or_two_budgets_exit_2(tmp_path):
    folder = _folder(tmp_path)
    assert _run(str(folder), "--out", str(tmp_path / "o")).exit_code == 2
    assert _run(str(folder), "--out", str(tmp_path / "o"), "--budget", "1", "--budget-fte", "1").exit_code == 2


def test_a_budget_below_the_cheapest_candidate_says_so_and_writes_a_zero_hire_plan(tmp_path):
    folder = _folder(tmp_path)
    out = tmp_path / "out"
    result = _run(str(folder), "--out", str(out), "--candidates", str(tmp_path / "candidates.csv"),
                  "--budget", "50000", "--no-bottlenecks", "--as-of", "2027-01-15")
    assert result.exit_code == 0, result.output
    assert "below the cheapest candidate" in " ".join(result.output.split())
    assert (out / "hires.csv").read_text(encoding="utf-8").strip() == (
        "candidate_id,hires,fte,annual_cost,clients_placed")
    summary = json.loads((out / "staffing.json").read_text(encoding="utf-8"))
    assert summary["hires"] == [] and summary["placed_with"] == summary["placed_without"]


def test_staff_reads_todays_state_from_the_store(tmp_path):
    folder = _folder(tmp_path)
    db = str(tmp_path / "store.db")
    imported = CliRunner().invoke(app, ["import", str(folder), "--db", db])
    assert imported.exit_code == 0, imported.output
    out = tmp_path / "out"
    result = _run("--db", db, "--out", str(out), "--candidates", str(tmp_path / "candidates.csv"),
                  "--budget", "80000", "--frontier", "0", "--no-bottlenecks", "--as-of", "2027-01-15")
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "staffing.json").read_text(encoding="utf-8"))
    assert summary["hires"][0]["candidate_id"] == "ti-hamilton" and summary["placed_with"] == 3


def _staffed(tmp_path):
    """The hand-built agency's staffing plan for $150,000 (two hires placing all four waiting clients) in
    tmp_path/out, with the data folder's workers.csv replaced by workers_with_hires.csv afterwards."""
    folder = _folder(tmp_path)
    out = tmp_path / "out"
    result = _run(str(folder), "--out", str(out), "--candidates", str(tmp_path / "candidates.csv"),
                  "--budget", "150000", "--time-limit", "20", "--as-of", "2027-01-15")
    assert result.exit_code == 0, result.output
    assert "--start" in result.output
    (folder / "workers.csv").write_text((out / "workers_with_hires.csv").read_text(encoding="utf-8"),
                                        encoding="utf-8")
    return folder, out


def test_assign_begun_from_the_staffing_plan_places_at_least_what_it_promised(tmp_path):
    folder, out = _staffed(tmp_path)
    with open(out / "plan_with_hires.csv", encoding="utf-8") as handle:
        planned = list(csv.DictReader(handle))
    assert {row["decision"] for row in planned} <= {"new", "moved"}
    assert sum(row["worker_id"].startswith("HIRE-") for row in planned) == 4
    tonight = CliRunner().invoke(app, ["assign", str(folder), "--out", str(tmp_path / "tonight"), "--start",
                                       str(out), "--time-limit", "10", "--as-of", "2027-01-15"])
    assert tonight.exit_code == 0, tonight.output
    summary = json.loads((tmp_path / "tonight" / "summary.json").read_text(encoding="utf-8"))
    promised = json.loads((out / "staffing.json").read_text(encoding="utf-8"))["placed_with"]
    assert summary["objective"]["placements"] >= promised == 4
    assert summary["start"] == {"given": 4, "placed": 4, "moved": 0, "dropped": 0, "used": True}


def test_a_start_file_naming_unknown_clients_and_workers_is_refused_whole(tmp_path):
    folder = _folder(tmp_path)
    bad = tmp_path / "start.csv"
    bad.write_text("client_id,worker_id\nNOPE,W1\nT1,W9\nT1,W1\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["assign", str(folder), "--out", str(tmp_path / "o"), "--start", str(bad),
                                      "--as-of", "2027-01-15"])
    assert result.exit_code == 2, result.output
    assert "3 error(s)" in result.output
    for shown in ("start.csv", "NOPE", "no such client", "W9", "no such worker", "duplicate id"):
        assert shown in result.output
    assert not (tmp_path / "o").exists()


def test_assign_on_the_store_begins_from_the_staffing_plan_too(tmp_path):
    folder, out = _staffed(tmp_path)
    db = str(tmp_path / "store.db")
    assert CliRunner().invoke(app, ["import", str(folder), "--db", db]).exit_code == 0
    tonight = CliRunner().invoke(app, ["assign", "--db", db, "--start", str(out / "plan_with_hires.csv"),
                                       "--time-limit", "10", "--as-of", "2027-01-15", "--out", str(tmp_path / "t")])
    assert tonight.exit_code == 0, tonight.output
    summary = json.loads((tmp_path / "t" / "summary.json").read_text(encoding="utf-8"))
    assert summary["start"]["used"] and summary["objective"]["placements"] >= 4
    bad = tmp_path / "bad.csv"
    bad.write_text("client_id,worker_id\nNOPE,W1\n", encoding="utf-8")
    refused = CliRunner().invoke(app, ["assign", "--db", db, "--start", str(bad), "--as-of", "2027-01-15"])
    assert refused.exit_code == 2 and "no such client" in refused.output
