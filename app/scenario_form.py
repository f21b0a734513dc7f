"""The funding scenario as a form: the questions a funder asks, turned back into a validated `Scenario`.

The form edits a scenario file's values and hands them to `Scenario.with_changes`, so the schema's own
rules (funding steps inside the horizon, shares between 0 and 1, ...) judge the edit, and every broken
rule comes back at once as a `ScenarioError`. Month-by-month referral patterns and duration shapes the
form does not know are kept as the file gives them.
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from app import state
from simulation.schema import Scenario, load_scenario


def scenario_files() -> dict[str, Path]:
    """The shipped scenario files by their scenario name (the file name when the name is not readable)."""
    files = {}
    for path in sorted(state.SCENARIO_DIR.glob("*.yaml")) + sorted(state.SCENARIO_DIR.glob("*.yml")):
        try:
            label = f"{load_scenario(path).name} ({path.name})"
        except Exception:  # noqa: BLE001 - a broken file is still listed; choosing it shows its errors
            label = path.name
        files[label] = path
    return files


def read_scenario(path: Path) -> Scenario:
    """A scenario file, its start_from found relative to the repository when not relative to the file."""
    scenario = load_scenario(path)
    start = scenario.start_from_path()
    if start is not None and not start.exists() and (state.REPO_ROOT / scenario.start_from).exists():
        scenario = scenario.located(state.REPO_ROOT, scenario.source)
    return scenario


def scenario_key(scenario: Scenario, replications: int | None = None) -> str:
    """Identifies a run: the scenario's values and where its start state comes from."""
    start = scenario.start_from_path()
    stamp = ""
    if start is not None and start.is_dir():
        stamp = ";".join(f"{p.name}:{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in sorted(start.iterdir())
                         if p.is_file())
    text = f"{scenario.model_dump_json()}|{start}|{stamp}|{replications}"
    return "scenario:" + hashlib.sha256(text.encode()).hexdigest()[:32]


def _funding_frame(scenario: Scenario) -> pd.DataFrame:
    return pd.DataFrame(
        [{"month": s.month, "fte": s.fte, "cost_per_fte": s.cost_per_fte} for s in scenario.funding],
        columns=["month", "fte", "cost_per_fte"],
    ).astype({"month": "Int64", "fte": "float", "cost_per_fte": "float"})


def _funding_steps(frame: pd.DataFrame) -> list[dict[str, Any]]:
    steps = []
    for row in frame.to_dict("records"):
        cleaned = {k: (None if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)) else v)
                   for k, v in row.items()}
        if all(v is None for v in cleaned.values()):
            continue
        if cleaned["month"] is not None:
            cleaned["month"] = int(cleaned["month"])
        steps.append({k: v for k, v in cleaned.items() if v is not None or k == "month"})
    return steps


def _duration(column: Any, label: str, current: Any, key: str) -> dict[str, Any]:
    data = current.model_dump()
    kind = data["distribution"]
    if kind == "lognormal":
        a, b = column.columns(2)
        data["mean"] = a.number_input(f"{label}: mean months", 0.5, 240.0, float(data["mean"]), 0.5, key=f"{key}_m")
        data["sd"] = b.number_input(f"{label}: spread (sd)", 0.1, 240.0, float(data["sd"]), 0.5, key=f"{key}_s")
    elif kind == "exponential":
        data["mean"] = column.number_input(f"{label}: mean months", 0.5, 240.0, float(data["mean"]), 0.5,
                                           key=f"{key}_m")
    else:
        column.caption(f"{label}: {kind} {data} (as in the file)")
    return data


def scenario_form(base: Scenario, key: str) -> dict[str, Any] | None:
    """Draw the form; on submit return the changed values (to pass to `Scenario.with_changes`)."""
    with st.form(f"scenario_form_{key}"):
        a, b, c, d = st.columns([3, 1, 1, 1])
        changes: dict[str, Any] = {
            "name": a.text_input("Scenario name", base.name, key=f"{key}_name"),
            "horizon_months": int(b.number_input("Months", 1, 600, base.horizon_months, key=f"{key}_h")),
            "replications": int(c.number_input("Replications", 1, 2000, base.replications, key=f"{key}_r",
                                               help="More replications give steadier bands but take longer")),
            "seed": int(d.number_input("Seed", 0, 2**31 - 1, min(base.seed, 2**31 - 1), key=f"{key}_seed")),
        }
        if base.start_from:
            if not st.checkbox(f"Start from today's caseload and waitlist ({base.start_from})", True,
                               key=f"{key}_start"):
                changes["start_from"] = None

        st.markdown("**Funding** (FTE from each month on, and the yearly cost of one FTE)")
        left, right = st.columns([3, 2])
        funding = left.data_editor(_funding_frame(base), num_rows="dynamic", hide_index=True,
                                   key=f"{key}_funding", column_config={
                                       "month": st.column_config.NumberColumn("from month", min_value=0, step=1),
                                       "fte": st.column_config.NumberColumn("FTE", min_value=0.0, step=0.5),
                                       "cost_per_fte": st.column_config.NumberColumn(
                                           "cost per FTE a year ($)", min_value=0.0, step=1000.0, format="%.0f"),
                                   })
        changes["hiring_lag_months"] = right.number_input("Hiring lag (months)", 0.0, 60.0,
                                                          float(base.hiring_lag_months), 0.5, key=f"{key}_lag")
        changes["attrition_per_year"] = right.number_input("Worker attrition a year", 0.0, 0.99,
                                                           float(base.attrition_per_year), 0.01, key=f"{key}_attr")

        st.markdown("**Referrals and clients**")
        a, b, c = st.columns(3)
        rates = base.rate_by_month()
        if isinstance(base.referrals_per_month, int | float):
            changes["referrals_per_month"] = a.number_input("Referrals a month", 0.0, 100_000.0,
                                                            float(base.referrals_per_month), 1.0, key=f"{key}_ref")
        elif not a.checkbox(f"Keep the file's month-by-month referrals (mean {sum(rates) / len(rates):.1f})", True,
                            key=f"{key}_keep_ref"):
            changes["referrals_per_month"] = a.number_input("Referrals a month", 0.0, 100_000.0,
                                                            round(sum(rates) / len(rates), 1), 1.0,
                                                            key=f"{key}_ref")
        share = base.high_need_share
        if share is None:
            b.caption("High-need share: from today's caseload")
        else:
            changes["high_need_share"] = b.number_input("High-need share of referrals", 0.0, 1.0, float(share),
                                                        0.01, key=f"{key}_share")
        changes["dropout_per_month"] = c.number_input("Early exits a month (share)", 0.0, 0.99,
                                                      float(base.dropout_per_month), 0.005, format="%.3f",
                                                      key=f"{key}_drop")
        renege = a.number_input("Waiting clients give up after (months, 0 = never)", 0.0, 600.0,
                                float(base.waitlist_renege_months or 0), 1.0, key=f"{key}_renege")
        changes["waitlist_renege_months"] = renege or None
        changes["step_down_share"] = b.number_input("High to low need at reassessment", 0.0, 1.0,
                                                    float(base.step_down_share), 0.01, key=f"{key}_down")
        changes["step_up_share"] = c.number_input("Low to high need at reassessment", 0.0, 1.0,
                                                  float(base.step_up_share), 0.01, key=f"{key}_up")

        st.markdown("**Time in case management until graduation**")
        a, b = st.columns(2)
        changes["duration_months"] = {
            "high": _duration(a, "High need", base.duration_months.high, f"{key}_dh"),
            "low": _duration(b, "Low need", base.duration_months.low, f"{key}_dl"),
        }
        submitted = st.form_submit_button("Run the scenario", type="primary", icon=":material/play_arrow:")
    changes["funding"] = _funding_steps(funding)
    return changes if submitted else None
