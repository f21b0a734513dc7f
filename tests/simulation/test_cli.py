"""The commands end to end, as a manager runs them: files in, tables and charts out, errors as reports."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from caseload.cli import app

runner = CliRunner()
SCENARIO = """\
name: "{name}"
start: 2027-01-01
horizon_months: 12
replications: 3
seed: 2
referrals_per_month: 30
waitlist_renege_months: 4
funding:
  - {{month: 0, fte: {fte}, cost_per_fte: 78000}}
  - {{month: 6, fte: {later}}}
"""
METRICS = {"waitlist", "wait_mean_months", "wait_p90_months", "active_high", "active_low", "utilisation",
           "referrals", "placements", "graduations", "exits", "reneged", "fte", "cost"}


def scenario_file(folder: Path, name: str = "a", fte: float = 10, later: float = 12) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(SCENARIO.format(name=name, fte=fte, later=later), encoding="utf-8")
    return path


def test_simulate_writes_tables_and_charts(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(app, ["simulate", str(scenario_file(tmp_path)), "--out", str(out),
                                 "--replications", "4", "--seed", "3", "--processes", "1", "--quiet"])
    assert result.exit_code == 0, result.output
    monthly = pd.read_csv(out / "monthly.csv")
    assert list(monthly.columns) == ["month", "metric", "mean", "low", "high"]
    assert METRICS <= set(monthly["metric"])
    assert monthly["month"].max() == 12
    assert (monthly["low"] <= monthly["mean"] + 1e-9).all() and (monthly["mean"] <= monthly["high"] + 1e-9).all()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["replications"] == 4 and summary["seed"] == 3
    assert set(summary["totals"]["graduations"]) == {"mean", "low", "high"}
    for png in ("waitlist.png", "wait.png", "caseload.png", "graduations.png"):
        assert (out / png).read_bytes()[:4] == b"\x89PNG"
    assert "client_id" not in (out / "monthly.csv").read_text() + (out / "summary.json").read_text()
    assert "total graduations" in result.output


def test_a_bad_scenario_exits_2_with_a_report(tmp_path: Path) -> None:
    path = scenario_file(tmp_path)
    path.write_text(path.read_text() + "dropout_per_mnth: 0.02\nhigh_need_share: yes please\n")
    result = runner.invoke(app, ["simulate", str(path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "dropout_per_mnth" in result.output and "did you mean dropout_per_month" in result.output
    assert "high_need_share" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


def test_missing_scenario_and_missing_start_folder(tmp_path: Path) -> None:
    result = runner.invoke(app, ["simulate", str(tmp_path / "none.yaml"), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "does not exist" in result.output
    path = scenario_file(tmp_path)
    path.write_text(path.read_text() + "start_from: not_here\n")
    result = runner.invoke(app, ["simulate", str(path), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "start_from" in result.output and "no such folder" in result.output
    assert "Traceback" not in result.output


def test_compare_shows_the_paired_difference(tmp_path: Path) -> None:
    a = scenario_file(tmp_path, "base", fte=10, later=10)
    b = scenario_file(tmp_path, "more", fte=10, later=14)
    out = tmp_path / "cmp"
    result = runner.invoke(app, ["compare", str(a), str(b), "--replications", "4", "--processes", "1",
                                 "--quiet", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "B - A" in result.output
    table = pd.read_csv(out / "compare.csv")
    cost = table.set_index("metric").loc["total_cost"]
    assert cost["diff_mean"] > 0 and cost["diff_low"] <= cost["diff_mean"] <= cost["diff_high"]
    referrals = table.set_index("metric").loc["total_referrals"]
    assert referrals["diff_low"] == referrals["diff_high"] == 0  # same seeds: the same referrals
    monthly = pd.read_csv(out / "compare_monthly.csv")
    assert list(monthly.columns) == ["month", "metric", "mean", "low", "high"]


def test_sweep_on_a_local_cluster(tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    result = runner.invoke(app, ["sweep", str(scenario_file(tmp_path)), "--vary", "funding.fte=6:10:2",
                                 "--replications", "2", "--workers", "1", "--quiet", "--out", str(out)])
    assert result.exit_code == 0, result.output
    curves = pd.read_csv(out / "sweep.csv")
    assert sorted(curves["funding.fte"].unique()) == [6, 8, 10]
    assert (out / "sweep.png").read_bytes()[:4] == b"\x89PNG"
    assert json.loads((out / "sweep.json").read_text())["parameters"] == ["funding.fte"]


def test_sweep_refuses_a_bad_grid(tmp_path: Path) -> None:
    path = scenario_file(tmp_path)
    result = runner.invoke(app, ["sweep", str(path), "--vary", "funding.fte=10:6:2", "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "START <= STOP" in result.output
    result = runner.invoke(app, ["sweep", str(path), "--vary", "funding.ftee=6:8:2", "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "funding.0.ftee" in result.output
    assert "Traceback" not in result.output
