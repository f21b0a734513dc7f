"""The simulation against Erlang C: an agency reduced to the textbook M/M/c queue.

With one need level, exponential stays, constant staff and no reassessment, dropout, renege or
attrition, F FTE at ratio r is c = F x r servers. Erlang C is scale-free, so time is rescaled to short
stays with many referrals a month: the same queue, with the model's monthly bookkeeping a small part of
the work. About two million clients pass through, which puts the standard error of the estimated mean
wait near 1%: a 3% miss would be a real bias, not bad luck. The seed is fixed.
"""

from __future__ import annotations

import numpy as np
import pytest

from simulation import run_scenario
from simulation.queueing import mmc_mean_wait
from tests.simulation.conftest import mmc_scenario

WARM_UP = 20  # months (about a thousand mean stays) dropped: the agency starts empty


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_mean_wait_matches_erlang_c() -> None:
    fte, ratio, mean_stay, rho = 0.5, 10.0, 0.02, 0.8
    servers = int(fte * ratio)
    arrivals = rho * servers / mean_stay
    sc = mmc_scenario(fte, ratio, arrivals, mean_stay, horizon=1250, seed=1)
    result = run_scenario(sc, replications=8, processes=2)

    waits = result.metric("wait_mean_months")[:, WARM_UP + 1:]
    placed = result.metric("placements")[:, WARM_UP + 1:]
    per_rep = np.nansum(np.nan_to_num(waits) * placed, axis=1) / placed.sum(axis=1)
    expected = mmc_mean_wait(arrivals, mean_stay, servers)
    ratio_to_theory = per_rep.mean() / expected
    standard_error = per_rep.std(ddof=1) / np.sqrt(len(per_rep)) / expected
    assert placed.sum() > 1_500_000
    assert abs(ratio_to_theory - 1) < 0.03, (
        f"simulated mean wait {per_rep.mean():.5f} vs Erlang C {expected:.5f} "
        f"(ratio {ratio_to_theory:.4f}, standard error {standard_error:.4f})")
    assert standard_error < 0.015  # the check has the power to see a 3% bias


def test_no_queue_when_capacity_is_ample() -> None:
    sc = mmc_scenario(10, 15, arrivals=5, mean_stay=1.0, horizon=24)
    result = run_scenario(sc, replications=2, processes=1)
    assert np.nanmax(result.metric("waitlist")) == 0
    assert np.nanmax(result.metric("wait_mean_months")) == 0
