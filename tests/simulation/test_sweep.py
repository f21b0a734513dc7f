"""Grids of scenarios on Dask, and the paired comparison of two runs."""

from __future__ import annotations

import numpy as np
import pytest

from simulation import compare, compare_monthly, run_scenario
from simulation.sweep import parse_vary, run_sweep, set_path
from tests.simulation.conftest import make_scenario


def test_parse_vary() -> None:
    assert parse_vary("funding.fte=30:36:2") == ("funding.fte", [30, 32, 34, 36])
    assert parse_vary("high_need_share=0.2:0.4:0.1") == ("high_need_share", [0.2, 0.3, 0.4])
    assert parse_vary("referrals_per_month=40,50") == ("referrals_per_month", [40, 50])
    for bad in ("funding.fte", "x=1:2", "x=a:b:c", "x=5:1:1", "=1,2"):
        with pytest.raises(ValueError):
            parse_vary(bad)


def test_set_path_through_lists() -> None:
    data = {"funding": [{"month": 0, "fte": 10}, {"month": 6, "fte": 12}], "targets": None}
    assert set_path(data, "funding.fte", 20)["funding"] == [{"month": 0, "fte": 20}, {"month": 6, "fte": 20}]
    assert set_path(data, "funding.1.fte", 20)["funding"][1]["fte"] == 20
    assert set_path(data, "targets.high_need_ratio", 12)["targets"] == {"high_need_ratio": 12}
    assert data["funding"][0]["fte"] == 10  # the original is untouched


def test_sweep_on_threads_gives_the_same_numbers_as_single_runs() -> None:
    sc = make_scenario(horizon_months=18, referrals_per_month=35)
    sweep = run_sweep(sc, {"funding.fte": [10, 14]}, replications=3, seed=4, workers=2, processes=False)
    curves = sweep.curves
    assert set(curves["funding.fte"]) == {10, 14}
    waits = curves[curves["metric"] == "wait_mean_months"].set_index("funding.fte")["mean"]
    assert waits[10] > waits[14]
    alone = run_scenario(sc.with_changes(funding=[{"month": 0, "fte": 14, "cost_per_fte": 78000}]),
                         replications=3, seed=4, processes=1)
    np.testing.assert_array_equal(sweep.results[1].totals, alone.totals)


def test_two_parameter_grid_writes_one_chart(tmp_path) -> None:
    sc = make_scenario(horizon_months=6)
    sweep = run_sweep(sc, {"funding.fte": [8, 12], "high_need_share": [0.2, 0.5]}, replications=2,
                      processes=False, workers=1)
    files = sweep.write(tmp_path)
    assert len(sweep.points) == 4 and all(p.exists() for p in files)


def test_compare_pairs_replications() -> None:
    base = make_scenario(horizon_months=18)
    more = base.with_changes(funding=[{"month": 0, "fte": 14, "cost_per_fte": 78000},
                                      {"month": 3, "fte": 18}])
    a = run_scenario(base, replications=6, processes=1)
    b = run_scenario(more, replications=6, processes=1)
    table = compare(a, b).set_index("metric")
    assert table.attrs["paired"]
    cost = table.loc["total_cost"]
    assert cost["diff_mean"] == pytest.approx(cost["b_mean"] - cost["a_mean"])
    assert cost["diff_low"] > 0
    assert table.loc["total_referrals", "diff_mean"] == 0
    assert table.loc["wait_mean_months", "diff_mean"] <= 0
    monthly = compare_monthly(a, b)
    assert (monthly[monthly["metric"] == "referrals"]["mean"] == 0).all()
