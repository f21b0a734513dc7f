"""`caseload waitlist` and `caseload reviews` end to end: folder and store, filters, sorts, bad input."""

from __future__ import annotations

import csv
from pathlib import Path

from typer.testing import CliRunner

from caseload.cli import app
from tests.conftest import write_folder

WORKERS = """worker_id,fte,languages,french,areas
w1,0.2,ar;en,false,K1A
w2,0.2,fr;en,true,K1N
"""


def clients_csv() -> str:
    rows = ["client_id,need_level,languages,status,worker_id,referral_date,intake_date,area,priority,"
            "last_review_date"]
    for i in range(3):  # w1 holds three high-need clients already (at target)
        rows.append(f"x{i},high,ar,active,w1,2025-10-01,2025-1{i}-01,K1A,0,")
    for i in range(3):
        rows.append(f"y{i},high,fr,active,w2,2025-10-01,2026-0{i + 1}-01,K1N,0,2026-12-20")
    for i in range(4):
        rows.append(f"a{i},high,ar,waiting,,2026-0{i + 1}-15,,K1A,{1 if i == 3 else 0},")
    for i in range(3):
        rows.append(f"f{i},high,fr;en,waiting,,2026-0{i + 4}-10,,K1N,0,")
    rows.append("t0,low,ti,waiting,,2026-02-01,,K1A,0,")
    return "\n".join(rows) + "\n"


def folder(tmp_path: Path) -> Path:
    return write_folder(tmp_path / "agency", clients=clients_csv(), workers=WORKERS)


def run(*args: str):
    return CliRunner().invoke(app, [*args])


def read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_waitlist_writes_the_queue_and_prints_its_head(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run("waitlist", str(folder(tmp_path)), "--out", str(out), "--as-of", "2027-01-15",
                 "--time-limit", "5", "--replications", "40")
    assert result.exit_code == 0, result.output
    rows = read(out / "waitlist.csv")
    assert len(rows) == 8 and list(rows[0])[:11] == [
        "client_id", "position", "priority", "referral_date", "days_waiting", "reason", "eligible_workers",
        "expected_placement", "expected_placement_early", "expected_placement_late", "next_review"]
    by_id = {r["client_id"]: r for r in rows}
    assert by_id["a3"]["position"] == "1" and by_id["a0"]["position"] == "2"  # priority first, then waiting
    assert by_id["t0"]["expected_placement"] == "" and "ti" in by_id["t0"]["reason"]
    assert by_id["a0"]["next_review"] == "2026-02-12"  # referral + 4 weeks, never reviewed
    assert len(by_id["a0"]["expected_placement"]) == 10
    assert "Waitlist: 8 of 8" in result.output and "a3" in result.output


def test_waitlist_filters_and_sorts(tmp_path: Path) -> None:
    data = folder(tmp_path)
    common = ["--as-of", "2027-01-15", "--time-limit", "5", "--replications", "20", "--rows", "0"]
    out = tmp_path / "fr"
    assert run("waitlist", str(data), "--out", str(out), "--language", "French", *common).exit_code == 0
    assert {r["client_id"] for r in read(out / "waitlist.csv")} == {"f0", "f1", "f2"}
    out = tmp_path / "area"
    assert run("waitlist", str(data), "--out", str(out), "--area", "k1a", *common).exit_code == 0
    assert {r["client_id"] for r in read(out / "waitlist.csv")} == {"a0", "a1", "a2", "a3", "t0"}
    out = tmp_path / "reason"
    assert run("waitlist", str(data), "--out", str(out), "--reason", "speaks ti", *common).exit_code == 0
    assert [r["client_id"] for r in read(out / "waitlist.csv")] == ["t0"]
    out = tmp_path / "days"
    assert run("waitlist", str(data), "--out", str(out), "--sort", "days_waiting", *common).exit_code == 0
    days = [int(r["days_waiting"]) for r in read(out / "waitlist.csv")]
    assert days == sorted(days, reverse=True) and len(days) == 8


def test_waitlist_bad_input_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    data = write_folder(tmp_path / "bad", clients=clients_csv().replace("a1,high", "a1,medium"), workers=WORKERS)
    out = tmp_path / "out"
    result = run("waitlist", str(data), "--out", str(out))
    assert result.exit_code == 2 and "need_level" in result.output and "medium" in result.output
    assert not (out / "waitlist.csv").exists()
    assert run("waitlist", str(folder(tmp_path)), "--out", str(out), "--sort", "name").exit_code == 2
    assert run("waitlist", str(folder(tmp_path)), "--out", str(out), "--language", "zz-not-a-language-9").exit_code == 2
    assert run("waitlist", str(folder(tmp_path))).exit_code == 2           # no --out
    assert run("waitlist", "--out", str(out)).exit_code == 2                 # no folder, no store
    assert run("reviews", str(tmp_path / "missing")).exit_code == 2
    assert not out.exists()


def test_the_store_gives_the_state_and_the_latest_run(tmp_path: Path) -> None:
    db = str(tmp_path / "store.db")
    assert run("import", str(folder(tmp_path)), "--db", db).exit_code == 0
    out = tmp_path / "out"
    solved = run("waitlist", "--db", db, "--out", str(out), "--as-of", "2027-01-15", "--time-limit", "5",
                 "--replications", "20")
    assert solved.exit_code == 0, solved.output
    assert "no run in the store yet" in " ".join(solved.output.split())
    assigned = run("assign", "--db", db, "--as-of", "2027-01-15", "--time-limit", "5")
    assert assigned.exit_code == 0, assigned.output
    result = run("waitlist", "--db", db, "--out", str(out), "--as-of", "2027-01-15", "--replications", "20")
    assert result.exit_code == 0, result.output
    assert "queue after run 1" in " ".join(result.output.split())
    assert {r["client_id"] for r in read(out / "waitlist.csv")} == {f"a{i}" for i in range(4)} | {
        "f0", "f1", "f2", "t0"}
    assert run("waitlist", str(folder(tmp_path)), "--db", db, "--out", str(out)).exit_code == 2


def test_reviews_per_worker_and_csv(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run("reviews", str(folder(tmp_path)), "--out", str(out), "--as-of", "2027-01-15")
    assert result.exit_code == 0, result.output
    rows = read(out / "reviews.csv")
    kinds = {(r["client_id"], r["kind"]) for r in rows}
    # x*: never reviewed, intake 2025-10..12: reassessment overdue; y*: reviewed 2026-12-20, due 2027-03-20
    assert {("x0", "reassessment"), ("x1", "reassessment"), ("x2", "reassessment")} <= kinds
    assert not any(c.startswith("y") and k == "reassessment" for c, k in kinds)
    assert ("x0", "graduation") in kinds  # high need, intake 2025-10-01: 16 months is 2027-02-01
    assert {c for c, k in kinds if k == "check-in"} == {"a0", "a1", "a2", "a3", "f0", "f1", "f2", "t0"}
    assert "w1" in result.output and "coordinator" in result.output
    store = str(tmp_path / "store.db")
    assert run("import", str(folder(tmp_path)), "--db", store).exit_code == 0
    again = tmp_path / "again"
    assert run("reviews", "--db", store, "--out", str(again), "--as-of", "2027-01-15").exit_code == 0
    assert read(again / "reviews.csv") == rows


def test_an_override_that_cannot_hold_is_refused_like_bad_input(tmp_path: Path) -> None:
    data = folder(tmp_path)
    (data / "overrides.csv").write_text("client_id,action,worker_id,reason\na0,pin,w2,knows the family\n",
                                        encoding="utf-8")
    out = tmp_path / "out"
    result = run("waitlist", str(data), "--out", str(out), "--time-limit", "5")
    assert result.exit_code == 2 and "overrides.csv" in result.output and "w2" in result.output
    assert not (out / "waitlist.csv").exists()
    assert "knows the family" not in result.output  # the coordinator's words are never echoed beside an error
