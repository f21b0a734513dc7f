"""Laws the model must obey whatever its numbers: Little's law, more staff never hurts, same seed same
output."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from simulation import run_scenario
from tests.simulation.conftest import make_scenario

WARM_UP = 24


def test_littles_law_on_the_waitlist() -> None:
    """Mean waitlist = referral rate x mean time on the waitlist (placed or gave up), in steady state."""
    renege = 6.0
    sc = make_scenario(horizon_months=600, referrals_per_month=40, waitlist_renege_months=renege,
                       attrition_per_year=0, funding=[{"month": 0, "fte": 17, "cost_per_fte": 78000}])
    result = run_scenario(sc, replications=4, processes=2)
    window = slice(WARM_UP + 1, None)
    waitlist = result.metric("waitlist")[:, window].mean()
    rate = result.metric("referrals")[:, window].mean()
    placed = result.metric("placements")[:, window]
    waits = np.nan_to_num(result.metric("wait_mean_months")[:, window]) * placed
    reneged = result.metric("reneged")[:, window]
    mean_time = (waits.sum() + renege * reneged.sum()) / (placed.sum() + reneged.sum())
    assert waitlist > 20  # a real queue, not an empty one
    assert reneged.sum() > 0
    assert waitlist == pytest.approx(rate * mean_time, rel=0.05)


@pytest.mark.parametrize("features", ["simple", "mixed"])
def test_more_fte_never_gives_a_longer_mean_wait(features: str) -> None:
    """Same seeds, more staff: the mean wait never goes up (replication by replication in the simple
    case; on average with mixed needs, reassessment and dropout)."""
    changes = {"horizon_months": 36, "referrals_per_month": 30, "attrition_per_year": 0,
               "waitlist_renege_months": None}
    if features == "simple":
        exponential = {"distribution": "exponential", "mean": 12}
        changes.update(high_need_share=1.0, duration_months={"high": exponential, "low": exponential},
                       reassessment_every_months=None, dropout_per_month=0)
    grid = [8, 10, 12, 14, 16, 18, 20, 24] if features == "simple" else [6, 8, 10, 12, 14, 16, 18]
    waits = []
    for fte in grid:
        sc = make_scenario(funding=[{"month": 0, "fte": fte, "cost_per_fte": 78000}], **changes)
        result = run_scenario(sc, replications=8, processes=1)
        waits.append(np.nan_to_num(result.totals[:, 0 + list_index("wait_mean_months")]))
    waits = np.array(waits)  # (fte, replication)
    means = waits.mean(axis=1)
    assert means[0] > 1.0 and means[-1] < means[0] / 4, means  # the grid spans a real range
    assert (np.diff(means) <= 1e-12).all(), means
    if features == "simple":
        assert (np.diff(waits, axis=0) <= 1e-12).all()


def list_index(name: str) -> int:
    from simulation.model import TOTALS

    return TOTALS.index(name)


def test_same_seed_same_output_whatever_the_processes(tmp_path) -> None:
    sc = make_scenario(waitlist_renege_months=5, attrition_per_year=0.3)
    one = run_scenario(sc, replications=5, seed=11, processes=1)
    two = run_scenario(sc, replications=5, seed=11, processes=2)
    pd.testing.assert_frame_equal(one.monthly, two.monthly)
    assert one.summary == two.summary
    one.write(tmp_path / "a", plots=False)
    two.write(tmp_path / "b", plots=False)
    for name in ("monthly.csv", "summary.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    other = run_scenario(sc, replications=5, seed=12, processes=1)
    assert not one.monthly.equals(other.monthly)


def test_replication_i_is_the_same_in_a_larger_run() -> None:
    sc = make_scenario()
    small = run_scenario(sc, replications=2, processes=1)
    large = run_scenario(sc, replications=6, processes=2)
    np.testing.assert_array_equal(small.per_replication, large.per_replication[:2])
