"""`caseload staff`'s projection over time: in staffing.json and projection.png, and an unreachable scheduler
is a user mistake (exit 2), not a traceback."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from caseload.cli import app
from tests.caseload.test_cli_staff import _folder


def _run(*args: str):
    return CliRunner().invoke(app, ["staff", *args])


QUICK = ("--replications", "3", "--months", "4", "--frontier", "0", "--no-bottlenecks", "--time-limit", "20",
         "--as-of", "2027-01-15")


def test_the_projection_and_the_fte_search_are_written(tmp_path):
    folder = _folder(tmp_path)
    out = tmp_path / "out"
    result = _run(str(folder), "--out", str(out), "--candidates", str(tmp_path / "candidates.csv"),
                  "--budget", "150000", "--target-wait-months", "2", *QUICK)
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "staffing.json").read_text(encoding="utf-8"))
    projection = summary["projection"]
    assert projection["months"] == 4 and projection["replications"] == 3
    assert projection["added_fte"] == 2.0  # the two hires of the plan
    waitlist = projection["monthly"]["waitlist"]
    assert [row["month"] for row in waitlist["with"]] == [0, 1, 2, 3, 4]
    assert waitlist["with"][0]["mean"] == waitlist["without"][0]["mean"]  # today, for both
    assert all(w["mean"] <= wo["mean"] for w, wo in zip(waitlist["with"], waitlist["without"], strict=True))
    search = summary["fte_for_target_wait"]
    assert search["target_wait_months"] == 2
    assert search["met"] == (search["smallest_added_fte"] is not None)
    assert search["rungs_run"] and search["rungs_run"][0]["rung"] == 0
    assert (out / "projection.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_an_unreachable_scheduler_exits_2(tmp_path, monkeypatch):
    monkeypatch.setattr("planning.projection.SCHEDULER_CONNECT_S", 1.0)
    folder = _folder(tmp_path)
    out = tmp_path / "out"
    result = _run(str(folder), "--out", str(out), "--candidates", str(tmp_path / "candidates.csv"),
                  "--budget", "0", "--scheduler", "tcp://127.0.0.1:9", *QUICK)
    assert result.exit_code == 2, result.output
    assert "scheduler" in result.output
    assert not (out / "staffing.json").exists()
