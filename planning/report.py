"""The staffing planner's files (data contract, hires): hires.csv, workers_with_hires.csv, plan_with_hires.csv
(the promised plan's placements and moves, in the assignments format: `caseload assign --start` begins from it),
bottlenecks.csv, frontier.png and staffing.json.

Every file is written whole or not at all (`caseload.contract_io`'s atomic writers), and staffing.json goes
last: its presence marks a complete run, so a crash mid-run leaves the last good plan's summary in place.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from caseload.contract_io import assignments_frame, atomic_write_text, save_png, workers_frame, write_csv
from caseload.reader import START_FILE
from planning.staffing import BOTTLENECK_METHOD, PER_DOLLARS, StaffingPlan

HIRES_CSV = "hires.csv"
WORKERS_WITH_HIRES_CSV = "workers_with_hires.csv"
PLAN_WITH_HIRES_CSV = START_FILE  # what `caseload assign --start STAFF_OUT` reads (`caseload.reader.load_start`)
BOTTLENECKS_CSV = "bottlenecks.csv"
FRONTIER_PNG = "frontier.png"
STAFFING_JSON = "staffing.json"


def staffing_json(plan: StaffingPlan, bottlenecks: pd.DataFrame | None = None) -> dict[str, Any]:
    """staffing.json: the budget, the cost, placements without and with the hires, the proven bound and the
    gap, the hires, the frontier, and the bottlenecks (with how they were computed)."""
    out = dict(plan.summary)
    out["hires"] = plan.hires_frame().to_dict(orient="records")
    out["frontier"] = plan.frontier
    if bottlenecks is not None:
        out["bottlenecks"] = bottlenecks.drop(columns=["method"]).to_dict(orient="records")
        out["bottlenecks_method"] = BOTTLENECK_METHOD
    return out


def plot_frontier(frontier: list[dict[str, Any]], path: Path) -> None:
    """Placements against budget, with the marginal clients per $100,000 of each step as bars."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    budgets = [row["budget"] / 1000 for row in frontier]
    placed = [row["placed"] for row in frontier]
    per = [row.get(f"placed_per_{PER_DOLLARS}") or 0.0 for row in frontier]
    fig, ax = plt.subplots(figsize=(7, 4), dpi=110)
    ax.plot(budgets, placed, marker="o", color="tab:blue", label="clients placed tonight")
    bounds = [row["bound"] for row in frontier]
    if all(b is not None for b in bounds) and bounds != placed:
        ax.plot(budgets, bounds, linestyle=":", color="tab:blue", alpha=0.6, label="proven bound")
    ax.set_xlabel("budget ($ thousands a year)")
    ax.set_ylabel("clients placed")
    ax.grid(alpha=0.3)
    twin = ax.twinx()
    width = (budgets[1] - budgets[0]) * 0.5 if len(budgets) > 1 else 1.0
    twin.bar(budgets, per, width=width, color="tab:orange", alpha=0.35, label=f"clients per ${PER_DOLLARS:,}")
    twin.set_ylabel(f"marginal clients per ${PER_DOLLARS:,}")
    ax.set_zorder(twin.get_zorder() + 1)  # the placements line over the bars
    ax.patch.set_visible(False)
    lines, labels = ax.get_legend_handles_labels()
    more, more_labels = twin.get_legend_handles_labels()
    ax.legend(lines + more, labels + more_labels, loc="lower right", fontsize=8)
    ax.set_title("Staffing frontier: where money stops helping")
    fig.tight_layout()
    try:
        save_png(fig, path)
    finally:
        plt.close(fig)


def write_staffing(plan: StaffingPlan, out_dir: Path | str, bottlenecks: pd.DataFrame | None = None) -> list[Path]:
    """Write the plan's files; returns their paths (staffing.json last)."""
    out_dir = Path(out_dir)
    written = []
    write_csv(plan.hires_frame(), out_dir / HIRES_CSV)
    written.append(out_dir / HIRES_CSV)
    write_csv(workers_frame(plan.workers), out_dir / WORKERS_WITH_HIRES_CSV)
    written.append(out_dir / WORKERS_WITH_HIRES_CSV)
    write_csv(assignments_frame(plan.changes), out_dir / PLAN_WITH_HIRES_CSV)
    written.append(out_dir / PLAN_WITH_HIRES_CSV)
    if bottlenecks is not None:
        write_csv(bottlenecks, out_dir / BOTTLENECKS_CSV)
        written.append(out_dir / BOTTLENECKS_CSV)
    if plan.frontier:
        plot_frontier(plan.frontier, out_dir / FRONTIER_PNG)
        written.append(out_dir / FRONTIER_PNG)
    text = json.dumps(staffing_json(plan, bottlenecks), indent=2, default=str) + "\n"
    atomic_write_text(out_dir / STAFFING_JSON, text)
    written.append(out_dir / STAFFING_JSON)
    return written
