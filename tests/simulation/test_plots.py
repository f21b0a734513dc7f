"""The app's Plotly figures and the CLI's PNG charts draw from any result without error."""

from __future__ import annotations

import pytest

from simulation import run_scenario
from simulation.plots import caseload_figure, compare_figure, fan_figure, graduations_figure, write_pngs
from tests.simulation.conftest import make_scenario


@pytest.fixture(scope="module")
def result():
    return run_scenario(make_scenario(horizon_months=12, waitlist_renege_months=3), replications=3, processes=1)


@pytest.mark.parametrize("metric", ["waitlist", "wait_mean_months", "utilisation", "cost", "fte"])
def test_fan_figures(result, metric: str) -> None:
    fig = fan_figure(result, metric)
    assert len(fig.data) == 5
    assert len(fig.data[-1].x) == (13 if metric in ("waitlist", "utilisation", "fte") else 12)


def test_other_figures(result, tmp_path) -> None:
    assert len(caseload_figure(result).data) == 2
    assert graduations_figure(result).data[-1].y[-1] >= graduations_figure(result).data[-1].y[0]
    assert len(compare_figure(result, result).data) == 10
    assert [p.name for p in write_pngs(result, tmp_path)] == ["waitlist.png", "wait.png", "caseload.png",
                                                               "graduations.png"]
