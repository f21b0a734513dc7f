"""From many replications to what a funder reads: a mean and a 90% interval, month by month and in total.

The interval is the 5th to 95th percentile across replications: the range the agency's future falls in
nine times out of ten under the scenario's assumptions (not a confidence interval of the mean).
Scenario comparisons use paired differences: replication i of both scenarios sees the same referrals,
so the interval of the difference reflects the funding change, not the luck of the draw.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from simulation.model import METRICS, STOCKS, TOTALS

LOW_Q, HIGH_Q = 5.0, 95.0
# The metrics of monthly.csv, in the order a reader expects them.
MONTHLY_METRICS = (
    "waitlist", "wait_mean_months", "wait_p90_months", "active_high", "active_low", "utilisation",
    "referrals", "placements", "graduations", "exits", "reneged", "fte", "cost", "returned",
)
TOTAL_METRICS = ("referrals", "placements", "graduations", "exits", "reneged", "returned", "cost")
WAIT_METRICS = ("wait_mean_months", "wait_p90_months")
END_METRICS = ("waitlist", "active_high", "active_low", "utilisation", "fte")


def band(values: np.ndarray, axis: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mean, 5th percentile, 95th percentile) along `axis`, ignoring NaN (months nobody was placed)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(values, axis=axis)
        low = np.nanpercentile(values, LOW_Q, axis=axis)
        high = np.nanpercentile(values, HIGH_Q, axis=axis)
    return mean, low, high


def _number(x: float) -> float | None:
    return None if x is None or not np.isfinite(x) else round(float(x), 6)


def interval(values: np.ndarray) -> dict[str, float | None]:
    mean, low, high = band(np.asarray(values, dtype=float))
    return {"mean": _number(mean), "low": _number(low), "high": _number(high)}


def monthly_frame(per_rep: np.ndarray) -> pd.DataFrame:
    """Long table `month, metric, mean, low, high` from (replications, metrics, months) values.

    Month 0 is the start (stocks only); month m covers the m-th month: flows during it, stocks at its end.
    """
    mean, low, high = band(per_rep, axis=0)
    months = np.arange(per_rep.shape[2])
    frames = []
    for name in MONTHLY_METRICS:
        i = METRICS.index(name)
        keep = months >= (0 if name in STOCKS else 1)
        frames.append(pd.DataFrame({
            "month": months[keep], "metric": name,
            "mean": mean[i, keep], "low": low[i, keep], "high": high[i, keep],
        }))
    frame = pd.concat(frames, ignore_index=True)
    return frame.sort_values(["month", "metric"], kind="stable").reset_index(drop=True)


def totals_block(totals: np.ndarray) -> dict[str, dict[str, dict[str, float | None]]]:
    """The summary's figures (over the horizon, and at its end) from (replications, TOTALS) values."""
    col = {name: totals[:, i] for i, name in enumerate(TOTALS)}
    return {
        "totals": {name: interval(col[name]) for name in TOTAL_METRICS},
        "wait_months": {name.removeprefix("wait_").removesuffix("_months"): interval(col[name])
                        for name in WAIT_METRICS},
        "end_of_horizon": {name: interval(col[f"{name}_end"]) for name in END_METRICS},
    }


def summary_rows(totals: np.ndarray) -> dict[str, np.ndarray]:
    """Flat name -> per-replication values, the rows of a comparison or a sweep."""
    col = {name: totals[:, i] for i, name in enumerate(TOTALS)}
    rows = {f"total_{name}": col[name] for name in TOTAL_METRICS}
    rows.update({name: col[name] for name in WAIT_METRICS})
    rows.update({f"end_{name}": col[f"{name}_end"] for name in END_METRICS})
    return rows


def paired_difference(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float]:
    """Mean and 90% interval of b - a, replication by replication (a and b share their seeds)."""
    n = min(len(a), len(b))
    diff = np.asarray(b[:n], dtype=float) - np.asarray(a[:n], dtype=float)
    mean, low, high = band(diff)
    return float(mean), float(low), float(high)
