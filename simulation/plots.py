"""Charts of a projection: fan charts (the range, not one line), the caseload, cumulative graduations.

PNG files (matplotlib) are what the CLI writes next to the tables; the `*_figure` functions return
Plotly figures for the app. Both draw the same things from the same per-replication arrays: the dark
band is the middle half of replications, the light band 90% of them, the line their mean.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import plotly.graph_objects as go  # noqa: E402

from simulation.replications import ScenarioResult  # noqa: E402
from simulation.statistics import band  # noqa: E402

LABELS = {
    "waitlist": "Clients waiting",
    "wait_mean_months": "Mean wait of clients placed (months)",
    "wait_p90_months": "90th-percentile wait of clients placed (months)",
    "active_high": "Active high-need clients",
    "active_low": "Active low-need clients",
    "utilisation": "Caseload against target",
    "graduations": "Graduations",
    "cost": "Cost",
    "fte": "Filled FTE",
}
BLUE, ORANGE, GREEN = "#1f77b4", "#ff7f0e", "#2ca02c"


def month_dates(start: date, months: int) -> pd.DatetimeIndex:
    """The date each month ends (month 0: the start)."""
    return pd.date_range(pd.Timestamp(start), periods=months + 1, freq=pd.DateOffset(months=1))


def _quantiles(values: np.ndarray) -> dict[str, np.ndarray]:
    mean, low, high = band(values)
    return {"mean": mean, "low": low, "high": high,
            "q25": np.nanpercentile(values, 25, axis=0), "q75": np.nanpercentile(values, 75, axis=0)}


def _series(result: ScenarioResult, metric: str) -> tuple[pd.DatetimeIndex, np.ndarray]:
    values = result.metric(metric)
    x = month_dates(result.inputs.start, result.horizon)
    if metric in ("waitlist", "active_high", "active_low", "utilisation", "fte"):
        return x, values
    return x[1:], values[:, 1:]


def cumulative(result: ScenarioResult, metric: str = "graduations") -> tuple[pd.DatetimeIndex, np.ndarray]:
    x, values = _series(result, metric)
    return x, np.nancumsum(values, axis=1)


# --- matplotlib (files) --------------------------------------------------------------------------

def _fan_axes(ax: plt.Axes, x: Sequence, values: np.ndarray, color: str, label: str) -> None:
    q = _quantiles(values)
    ax.fill_between(x, q["low"], q["high"], color=color, alpha=0.18, linewidth=0, label="90% of replications")
    ax.fill_between(x, q["q25"], q["q75"], color=color, alpha=0.35, linewidth=0, label="middle half")
    ax.plot(x, q["mean"], color=color, linewidth=2, label=f"{label} (mean)")


def _finish(fig: plt.Figure, ax: plt.Axes, title: str, ylabel: str, path: Path) -> Path:
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.set_ylim(bottom=0)
    ax.legend(loc="best", fontsize=8)
    fig.autofmt_xdate()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_pngs(result: ScenarioResult, out: Path) -> list[Path]:
    """waitlist.png, wait.png, caseload.png and graduations.png for one scenario."""
    name = result.scenario.name
    written = []

    fig, ax = plt.subplots(figsize=(8, 4.5))
    x, values = _series(result, "waitlist")
    _fan_axes(ax, x, values, BLUE, "waitlist")
    written.append(_finish(fig, ax, f"{name}: waitlist", "clients waiting", out / "waitlist.png"))

    fig, ax = plt.subplots(figsize=(8, 4.5))
    x, mean_wait = _series(result, "wait_mean_months")
    _fan_axes(ax, x, mean_wait, ORANGE, "mean wait")
    x, p90 = _series(result, "wait_p90_months")
    ax.plot(x, _quantiles(p90)["mean"], color=ORANGE, linestyle="--", label="90th-percentile wait (mean)")
    written.append(_finish(fig, ax, f"{name}: wait of clients placed each month", "months", out / "wait.png"))

    fig, ax = plt.subplots(figsize=(8, 4.5))
    x, high = _series(result, "active_high")
    _, low = _series(result, "active_low")
    ax.stackplot(x, np.nanmean(high, axis=0), np.nanmean(low, axis=0), colors=[ORANGE, BLUE], alpha=0.8,
                 labels=["high need", "low need"])
    total_low, total_high = band(high + low)[1:]
    ax.plot(x, total_low, color="black", linestyle=":", linewidth=1, label="total, 90% of replications")
    ax.plot(x, total_high, color="black", linestyle=":", linewidth=1)
    written.append(_finish(fig, ax, f"{name}: active caseload (mean)", "clients", out / "caseload.png"))

    fig, ax = plt.subplots(figsize=(8, 4.5))
    x, values = cumulative(result)
    _fan_axes(ax, x, values, GREEN, "graduations")
    written.append(_finish(fig, ax, f"{name}: cumulative graduations", "clients", out / "graduations.png"))
    return written


def sweep_png(curves: pd.DataFrame, parameter: str, out: Path, group: str | None = None) -> Path:
    """One small chart per metric against the varied parameter, with its 90% band."""
    metrics = list(dict.fromkeys(curves["metric"]))
    cols = 3
    rows = -(-len(metrics) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.0 * rows), squeeze=False)
    for ax, metric in zip(axes.flat, metrics, strict=False):
        part = curves[curves["metric"] == metric]
        groups = [(None, part)] if group is None else list(part.groupby(group, sort=True))
        for i, (key, sub) in enumerate(groups):
            sub = sub.sort_values(parameter)
            color = plt.cm.tab10(i % 10)
            ax.fill_between(sub[parameter], sub["low"], sub["high"], color=color, alpha=0.2, linewidth=0)
            ax.plot(sub[parameter], sub["mean"], marker="o", markersize=3, color=color,
                    label=None if key is None else f"{group}={key:g}")
        ax.set_title(metric, fontsize=9)
        ax.grid(alpha=0.3)
        if group is not None:
            ax.legend(fontsize=6)
    for ax in list(axes.flat)[len(metrics):]:
        ax.set_visible(False)
    for ax in axes[-1]:
        ax.set_xlabel(parameter)
    fig.tight_layout()
    path = out / "sweep.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


# --- plotly (the app) ----------------------------------------------------------------------------

def _fan_traces(fig: go.Figure, x: Sequence, values: np.ndarray, color: str, name: str) -> None:
    q = _quantiles(values)
    for lower, upper, alpha, label in (("low", "high", 0.18, "90%"), ("q25", "q75", 0.35, "50%")):
        fig.add_trace(go.Scatter(x=x, y=q[upper], mode="lines", line={"width": 0}, showlegend=False,
                                 hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=x, y=q[lower], mode="lines", line={"width": 0}, fill="tonexty",
                                 fillcolor=_rgba(color, alpha), name=f"{name}: {label} of replications"))
    fig.add_trace(go.Scatter(x=x, y=q["mean"], mode="lines", line={"color": color, "width": 2},
                             name=f"{name}: mean"))


def _rgba(color: str, alpha: float) -> str:
    r, g, b = (int(color[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def fan_figure(result: ScenarioResult, metric: str = "waitlist") -> go.Figure:
    """A fan chart of one monthly metric (waitlist, wait_mean_months, fte, cost, ...)."""
    fig = go.Figure()
    x, values = _series(result, metric)
    _fan_traces(fig, x, values, BLUE, LABELS.get(metric, metric))
    fig.update_layout(title=f"{result.scenario.name}: {LABELS.get(metric, metric)}",
                      yaxis_title=LABELS.get(metric, metric), hovermode="x unified")
    return fig


def caseload_figure(result: ScenarioResult) -> go.Figure:
    """Stacked active caseload (high and low need), mean across replications."""
    x, high = _series(result, "active_high")
    _, low = _series(result, "active_low")
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=x, y=np.nanmean(high, axis=0), stackgroup="one", name="high need",
                             line={"color": ORANGE}))
    fig.add_trace(go.Scatter(x=x, y=np.nanmean(low, axis=0), stackgroup="one", name="low need",
                             line={"color": BLUE}))
    fig.update_layout(title=f"{result.scenario.name}: active caseload", yaxis_title="clients")
    return fig


def graduations_figure(result: ScenarioResult) -> go.Figure:
    fig = go.Figure()
    x, values = cumulative(result)
    _fan_traces(fig, x, values, GREEN, "cumulative graduations")
    fig.update_layout(title=f"{result.scenario.name}: cumulative graduations", yaxis_title="clients")
    return fig


def compare_figure(result_a: ScenarioResult, result_b: ScenarioResult, metric: str = "waitlist") -> go.Figure:
    """Two scenarios' fans of one metric on one chart."""
    fig = go.Figure()
    for result, color in ((result_a, BLUE), (result_b, ORANGE)):
        x, values = _series(result, metric)
        _fan_traces(fig, x, values, color, result.scenario.name)
    fig.update_layout(title=LABELS.get(metric, metric), hovermode="x unified")
    return fig


def sweep_figure(curves: pd.DataFrame, parameter: str, metric: str) -> go.Figure:
    """One metric of a sweep against the varied parameter, with its 90% band."""
    part = curves[curves["metric"] == metric].sort_values(parameter)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=part[parameter], y=part["high"], mode="lines", line={"width": 0},
                             showlegend=False))
    fig.add_trace(go.Scatter(x=part[parameter], y=part["low"], mode="lines", line={"width": 0}, fill="tonexty",
                             fillcolor=_rgba(BLUE, 0.2), name="90% of replications"))
    fig.add_trace(go.Scatter(x=part[parameter], y=part["mean"], mode="lines+markers", line={"color": BLUE},
                             name="mean"))
    fig.update_layout(title=f"{metric} against {parameter}", xaxis_title=parameter, yaxis_title=metric)
    return fig
