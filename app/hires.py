"""The "Recommend hires" panel's heavy calls and its tables, figures and exports (no Streamlit here).

Three jobs, each keyed by its input so a rerun, a page switch or a second tab finds the result (see
`app.jobs`): the plan (`planning.staffing.plan_hires` with its frontier), the bottlenecks (which do not
depend on the budget, so a new budget reuses them) and the projection over time with the hires and without
(`planning.projection`, started once the plan names its hires). The plan and the bottlenecks share the
time limit as `caseload staff --time-limit` shares it, so the app and the CLI answer the same question the
same way.

Only aggregates leave this module: hires, budgets, language x French x area groups, monthly figures. The
plan's per-client assignments stay inside the plan object and are never shown or exported here.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from app import frames
from app.jobs import Job
from caseload.contract_io import escape_frame, workers_frame
from caseload.domain import Agency, Candidate, Worker
from caseload.languages import language_name
from caseload.validation import InputError, ValidationFailed

BOTTLENECK_SHARE = 0.25  # of the time limit, as `caseload staff` (caseload.cli_staff.BOTTLENECK_SHARE)
PER_DOLLARS = 100_000    # planning.staffing.PER_DOLLARS: the frontier's marginal figure
IN_PROCESS_WORK = 1_000  # replication-months run in the app's process (app.runs.IN_PROCESS_WORK)
DERIVED = "derived from waiting clients' needs (language, French, area)"


# --- keys ---------------------------------------------------------------------------------------------------


def candidates_key(candidates: Sequence[Candidate] | None) -> str:
    """'derived' without a file, else a digest of the candidates read from it."""
    if candidates is None:
        return "derived"
    return hashlib.sha256(repr(list(candidates)).encode()).hexdigest()[:16]


def plan_key(agency_key: str, candidates: str, budget: float, seed: int, time_limit_s: float, steps: int) -> str:
    return (f"hires:{agency_key}:candidates={candidates}:budget={budget:.2f}:seed={seed}:limit={time_limit_s:g}"
            f":steps={steps}")


def bottleneck_key(agency_key: str, seed: int, time_limit_s: float) -> str:
    return f"bottlenecks:{agency_key}:seed={seed}:limit={time_limit_s:g}"


def projection_key(plan: str, months: int, replications: int, target_wait_months: float) -> str:
    return f"projection:{plan}:months={months}:replications={replications}:target={target_wait_months:g}"


# --- candidates from an upload --------------------------------------------------------------------------------


def candidates_from_upload(name: str, data: bytes) -> tuple[list[Candidate], list[InputError]]:
    """An uploaded candidates file read by the one reader (`caseload.reader.load_candidates`), all or nothing;
    errors name the file as uploaded, not the temporary copy."""
    from caseload.reader import load_candidates

    suffix = Path(name).suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        return [], [InputError(name, None, None, None, "a candidates file is CSV or Excel (.xlsx)")]
    with tempfile.TemporaryDirectory(prefix="caseload-candidates-") as tmp:
        path = Path(tmp) / f"candidates{suffix}"
        path.write_bytes(data)
        try:
            return load_candidates(path), []
        except ValidationFailed as failure:
            return [], [replace(e, file=name) if e.file in (str(path), path.name) else e for e in failure.errors]


# --- jobs -----------------------------------------------------------------------------------------------------


def plan_job(agency: Agency, candidates: Sequence[Candidate] | None, budget: float, *, seed: int,
             time_limit_s: float, frontier_steps: int) -> Callable[[Job], Any]:
    """`plan_hires` with its frontier; candidates derived from the waiting clients when none are given."""

    def work(job: Job) -> Any:
        from planning import staffing

        job.report("deriving candidate positions from the waiting clients" if candidates is None else
                   "reading the candidate positions")
        pool = staffing.derive_candidates(agency) if candidates is None else list(candidates)
        plan = staffing.plan_hires(agency, pool, budget, seed=seed, frontier_steps=frontier_steps,
                                   time_limit_s=time_limit_s * (1 - BOTTLENECK_SHARE),
                                   progress=lambda message: job.report(str(message)))
        plan.summary["candidates_source"] = DERIVED if candidates is None else "uploaded candidates file"
        return plan

    return work


def bottleneck_job(agency: Agency, *, seed: int, time_limit_s: float) -> Callable[[Job], pd.DataFrame]:
    def work(job: Job) -> pd.DataFrame:
        from planning.staffing import bottlenecks

        return bottlenecks(agency, seed=seed, time_limit_s=time_limit_s * BOTTLENECK_SHARE,
                           progress=lambda message: job.report(str(message)))

    return work


@dataclass
class Projected:
    """The projection with and without the hires, and the smallest added FTE for the target wait."""

    projection: Any  # planning.projection.Projection
    search: Any      # planning.projection.FteSearch
    target_wait_months: float


def projection_job(agency: Agency, candidates: Sequence[Candidate], hires: Sequence[Worker], *, months: int,
                   replications: int, seed: int, target_wait_months: float) -> Callable[[Job], Projected]:
    """Today's caseload over `months` with and without the hires (same seeds), then the FTE search; the
    progress bar counts the projection's two runs as the first half and the search's rungs as the second."""
    processes = 1 if 2 * replications * months <= IN_PROCESS_WORK else None

    def work(job: Job) -> Projected:
        from planning.projection import project, smallest_fte_for_wait

        job.report(f"projecting {months} months with and without the hires ({replications} replications)", 0.0)
        projection = project(agency, list(hires), months=months, replications=replications, seed=seed,
                             processes=processes, progress=lambda done, total: job.report(None, 0.5 * done / total))
        job.report(f"searching the FTE that keeps the 90th-percentile wait under {target_wait_months:g} months", 0.5)
        search = smallest_fte_for_wait(agency, list(candidates), target_wait_months=target_wait_months, months=months,
                                       replications=replications, seed=seed, processes=processes,
                                       progress=lambda done, total: job.report(None, 0.5 + 0.5 * done / total))
        return Projected(projection, search, target_wait_months)

    return work


# --- tables ---------------------------------------------------------------------------------------------------


def _language_names(languages: Sequence[str]) -> str:
    return ", ".join(language_name(code) for code in languages)


def hire_list(plan: Any) -> pd.DataFrame:
    """hires.csv's rows with each position's profile: what to advertise, and the waiting clients it takes on."""
    by_id = {c.candidate_id: c for c in plan.candidates}
    frame = plan.hires_frame()
    if frame.empty:
        return pd.DataFrame(columns=["candidate_id", "hires", "fte", "annual_cost", "clients_placed", "languages",
                                     "french", "areas"])
    frame["languages"] = [_language_names(by_id[c].languages) for c in frame["candidate_id"]]
    frame["french"] = [bool(by_id[c].french) for c in frame["candidate_id"]]
    frame["areas"] = ["; ".join(sorted(by_id[c].areas)) or "any" for c in frame["candidate_id"]]
    return frame.sort_values(["clients_placed", "candidate_id"], ascending=[False, True]).reset_index(drop=True)


def hires_text(hires: dict[str, int]) -> str:
    return "; ".join(f"{n} x {cid}" for cid, n in hires.items()) or "none"


def frontier_frame(plan: Any) -> pd.DataFrame:
    """The frontier's rows as a table: budget, placed, added, cost, hires, bound, proven, clients per $100,000."""
    per = f"placed_per_{PER_DOLLARS}"
    rows = [{"budget": r["budget"], "placed": r["placed"], "added": r["added"], "cost": r["cost"],
             "hires": hires_text(r.get("hires") or {}), "bound": r.get("bound"), "proven": r.get("proven"),
             per: r.get(per)} for r in plan.frontier]
    frame = pd.DataFrame(rows, columns=["budget", "placed", "added", "cost", "hires", "bound", "proven", per])
    frame["bound"] = frame["bound"].astype("Int64")
    frame[per] = pd.to_numeric(frame[per], errors="coerce")
    return frame


def bottleneck_view(table: pd.DataFrame) -> pd.DataFrame:
    """The bottleneck table with language names; the method is said once, under the table, and when a row was
    not re-solved a `note` column says why."""
    from planning.staffing import BOTTLENECK_METHOD

    out = table.drop(columns=["method"], errors="ignore").copy()
    if "method" in table.columns and (table["method"] != BOTTLENECK_METHOD).any():
        out["note"] = [m if m != BOTTLENECK_METHOD else "" for m in table["method"]]
    out.insert(1, "language_name", [language_name(c) if c else "" for c in out["language"]])
    for column in ("one_more_fte_places", "at_most"):
        out[column] = pd.to_numeric(out[column], errors="coerce").astype("Int64")
    return out


def summary_frame(plan: Any, projected: Projected | None = None) -> pd.DataFrame:
    """The plan's headline as figure/value rows (the Excel export's first sheet)."""
    s = plan.summary
    rows = [("budget", plan.budget), ("cost of the hires", plan.cost), ("FTE hired", s.get("fte")),
            ("placed tonight without hires", plan.placed_without), ("placed tonight with the hires", plan.placed_with),
            ("proven bound for this budget", plan.bound), ("gap to the bound", plan.gap), ("status", plan.status),
            ("candidates", s.get("candidates_source")), ("seed", s.get("seed")),
            ("time limit (s)", s.get("time_limit_s")), ("time (s)", s.get("wall_time_s"))]
    if plan.note:
        rows.append(("note", plan.note))
    if projected is not None:
        p, search = projected.projection, projected.search
        rows += [("projection months", p.months), ("projection replications", p.replications),
                 ("worst monthly p90 wait without the hires (months)", round(p.worst_p90(False), 3)),
                 ("worst monthly p90 wait with the hires (months)", round(p.worst_p90(True), 3)),
                 ("target p90 wait (months)", projected.target_wait_months),
                 ("smallest added FTE for the target", "not met on the candidates' ladder" if search.added_fte is None
                  else search.added_fte),
                 ("hires for the target", hires_text(search.hires))]
    return pd.DataFrame(rows, columns=["figure", "value"]).astype({"value": str})


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """A table as the CLI writes it: formula-like text made inert, UTF-8."""
    return escape_frame(frame).to_csv(index=False, lineterminator="\n").encode("utf-8")


def workers_with_hires_csv(plan: Any) -> bytes:
    """workers_with_hires.csv (data contract): today's workers and each hire as `HIRE-<candidate_id>-<n>`."""
    return csv_bytes(workers_frame(plan.workers))


def excel_bytes(plan: Any, bottlenecks: pd.DataFrame | None, projected: Projected | None) -> bytes:
    """One workbook: summary, hires, workers with hires, frontier, and the bottlenecks and projection when done."""
    sheets = {"summary": summary_frame(plan, projected), "hires": hire_list(plan),
              "workers with hires": workers_frame(plan.workers), "frontier": frontier_frame(plan)}
    if bottlenecks is not None:
        sheets["bottlenecks"] = bottlenecks
    if projected is not None:
        sheets["projection"] = projected.projection.frame
    return frames.excel_bytes(sheets)


# --- figures --------------------------------------------------------------------------------------------------


def frontier_figure(plan: Any) -> go.Figure:
    """Clients placed tonight against the budget (line), the proven bound (dotted) and the marginal clients per
    $100,000 of each step (bars): where money stops helping."""
    table = frontier_frame(plan)
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    if table.empty:
        return fig
    budgets = table["budget"].astype(float)
    per = table[f"placed_per_{PER_DOLLARS}"].fillna(0.0)
    width = float(budgets.iloc[1] - budgets.iloc[0]) * 0.6 if len(budgets) > 1 else 1.0
    fig.add_bar(x=budgets, y=per, width=width, name=f"clients per ${PER_DOLLARS:,} (step)", marker_color="#ffb74d",
                opacity=0.6, hovertemplate="%{y:.1f} clients per $100,000<extra></extra>", secondary_y=True)
    hover = [f"budget ${b:,.0f}<br>{p} placed ({a:+d})<br>cost ${c:,.0f}<br>hires: {h}"
             for b, p, a, c, h in zip(budgets, table["placed"], table["added"], table["cost"], table["hires"],
                                      strict=True)]
    fig.add_scatter(x=budgets, y=table["placed"], mode="lines+markers", name="clients placed tonight",
                    line={"color": "#1565c0", "width": 3}, hovertext=hover, hoverinfo="text", secondary_y=False)
    bound = table["bound"]
    if bound.notna().all() and (bound.astype(int) != table["placed"]).any():
        fig.add_scatter(x=budgets, y=bound.astype(float), mode="lines", name="proven bound",
                        line={"color": "#1565c0", "dash": "dot"}, secondary_y=False)
    fig.add_vline(x=float(plan.cost), line_dash="dash", line_color="#2e7d32",
                  annotation_text=f"recommended: ${plan.cost:,.0f}", annotation_position="top left")
    fig.update_xaxes(title_text="budget for hires ($ a year)", tickprefix="$", tickformat="~s")
    fig.update_yaxes(title_text="clients placed tonight", secondary_y=False)
    fig.update_yaxes(title_text=f"clients per ${PER_DOLLARS:,}", secondary_y=True, showgrid=False, rangemode="tozero",
                     tickformat=".0f")
    fig.update_layout(height=380, margin={"l": 10, "r": 10, "t": 30, "b": 10}, bargap=0.1,
                      legend={"orientation": "h", "yanchor": "top", "y": -0.2, "x": 0})
    return fig


BAND_COLOURS = {"without": ("#757575", "rgba(117,117,117,0.18)"), "with": ("#1565c0", "rgba(21,101,192,0.18)")}


def projection_figure(projected: Projected) -> go.Figure:
    """Waitlist and 90th-percentile wait per month, without and with the hires: the mean and the 90% band."""
    frame = projected.projection.frame
    fig = make_subplots(rows=1, cols=2, subplot_titles=("clients waiting", "90th-percentile wait (months)"),
                        horizontal_spacing=0.1)
    for col, metric in ((1, "waitlist"), (2, "wait_p90_months")):
        for plan, label in (("without", "without the hires"), ("with", "with the hires")):
            part = frame[(frame["metric"] == metric) & (frame["plan"] == plan)]
            line, band = BAND_COLOURS[plan]
            months = part["month"].tolist()
            fig.add_scatter(x=months + months[::-1], y=part["high"].tolist() + part["low"].tolist()[::-1],
                            fill="toself", fillcolor=band, line={"width": 0}, hoverinfo="skip", showlegend=False,
                            legendgroup=plan, row=1, col=col)
            fig.add_scatter(x=months, y=part["mean"], mode="lines+markers", name=label, legendgroup=plan,
                            showlegend=col == 1, line={"color": line}, marker={"size": 4},
                            customdata=part[["low", "high"]].to_numpy(),
                            hovertemplate="month %{x}: %{y:.1f} (90% of runs %{customdata[0]:.1f} to "
                                          "%{customdata[1]:.1f})<extra>" + label + "</extra>", row=1, col=col)
    fig.add_hline(y=projected.target_wait_months, line_dash="dash", line_color="#c62828", row=1, col=2,
                  annotation_text=f"target {projected.target_wait_months:g} months", annotation_position="top left")
    fig.update_xaxes(title_text="months from today")
    fig.update_yaxes(rangemode="tozero")
    fig.update_layout(height=360, margin={"l": 10, "r": 10, "t": 40, "b": 10},
                      legend={"orientation": "h", "yanchor": "top", "y": -0.2, "x": 0})
    return fig


def hire_workers_frame(workers: Sequence[Worker]) -> pd.DataFrame:
    """The hires as rows of the workers editor (`frames.editor_frame` of the contract's workers table)."""
    return frames.editor_frame(workers_frame(workers))
