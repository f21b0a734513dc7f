"""Tables and figures the pages show, built from the library's results with pandas and plotly only.

Nothing here touches Streamlit, so the numbers on screen can be tested without a browser and every page
stays a thin layer of widgets. Frames are built once per run (see `app.jobs`); a filter then only slices
them, which is what keeps a 6,000-client agency answering in well under a second.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from caseload.contract_io import assignments_frame, escape_frame
from caseload.domain import Agency, Assignment, Decision, Status
from caseload.reader import WORKER_COLUMNS
from caseload.tables import Table

DECISION_ORDER = [Decision.NEW.value, Decision.KEPT.value, Decision.MOVED.value, Decision.WAITING.value]
DECISION_COLOURS = {"new": "#2e7d32", "kept": "#1565c0", "moved": "#ef6c00", "waiting": "#c62828"}
EDITED_WORKERS_FILE = "workers (edited table)"

# --- nightly assignment ------------------------------------------------------------------------------


def assignment_view(agency: Agency, assignments: Iterable[Assignment]) -> pd.DataFrame:
    """One row per client: the run's decision next to what the coordinator filters and searches on."""
    clients = {c.client_id: c for c in agency.clients}
    rows = []
    for a in assignments:
        c = clients.get(a.client_id)
        # Days on the waitlist, for clients who were waiting tonight (an active client's wait is over).
        waited = (agency.as_of - c.referral_date).days if c is not None and c.referral_date and \
            c.status == Status.WAITING else None
        rows.append({
            "client_id": a.client_id,
            "decision": a.decision.value,
            "worker_id": a.worker_id or "",
            "reason": a.reason or "",
            "need_level": c.need_level.value if c else "",
            "priority": c.priority if c else 0,
            "days_waiting": waited,
            "languages": ";".join(c.languages) if c else "",
            "language": a.language or "",
            "french_service": bool(c.french_service) if c else False,
            "area": (c.area or "") if c else "",
            "travel_km": None if a.travel_km is None else round(a.travel_km, 1),
            "latitude": c.latitude if c else None,
            "longitude": c.longitude if c else None,
        })
    frame = pd.DataFrame(rows, columns=[
        "client_id", "decision", "worker_id", "reason", "need_level", "priority", "days_waiting", "languages",
        "language", "french_service", "area", "travel_km", "latitude", "longitude",
    ])
    frame["days_waiting"] = frame["days_waiting"].astype("Int64")
    frame["travel_km"] = pd.to_numeric(frame["travel_km"], errors="coerce")
    frame["latitude"] = pd.to_numeric(frame["latitude"], errors="coerce")
    frame["longitude"] = pd.to_numeric(frame["longitude"], errors="coerce")
    return frame


def search_text(frame: pd.DataFrame) -> pd.Series:
    """One lower-case text per row, built once per run, so a search is a single vectorised `contains`."""
    return (frame["client_id"] + " " + frame["worker_id"] + " " + frame["reason"] + " " + frame["area"] + " "
            + frame["languages"] + " " + frame["language"]).str.lower()


def filter_view(frame: pd.DataFrame, *, decisions: Sequence[str] = (), workers: Sequence[str] = (),
                need_levels: Sequence[str] = (), areas: Sequence[str] = (), text: str = "",
                search: pd.Series | None = None) -> pd.DataFrame:
    """The rows matching every filter given (an empty filter keeps everything).

    `search` is `search_text(frame)` kept from the run; without it the text is built here.
    """
    keep = pd.Series(True, index=frame.index)
    if decisions:
        keep &= frame["decision"].isin(decisions)
    if workers:
        keep &= frame["worker_id"].isin(workers)
    if need_levels:
        keep &= frame["need_level"].isin(need_levels)
    if areas:
        keep &= frame["area"].isin(areas)
    text = text.strip().lower()
    if text:
        if search is None:
            search = search_text(frame)
        keep &= search.str.contains(text, regex=False)
    return frame[keep]


def waiting_by_reason(summary: dict[str, Any]) -> pd.DataFrame:
    """Why clients still wait, the largest group first."""
    reasons = summary.get("waiting_by_reason") or {}
    frame = pd.DataFrame(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0])), columns=["reason", "clients"])
    return frame.astype({"clients": "int64"})


def caseload_frame(summary: dict[str, Any]) -> pd.DataFrame:
    """Each worker's caseload against target, as the optimizer's summary reports it."""
    rows = summary.get("workers") or []
    frame = pd.DataFrame(rows)
    if frame.empty:
        return pd.DataFrame(columns=["worker_id", "fte", "high", "low", "load", "target", "utilisation",
                                     "over_target"])
    return frame


def caseload_chart(summary: dict[str, Any], before: dict[str, Any] | None = None) -> go.Figure:
    """Caseload against target per worker, as a share of target (100% = the framework's full caseload).

    With `before`, the earlier plan's share is drawn as a marker on each bar, so a staffing change shows
    which caseloads it lightens or fills.
    """
    frame = caseload_frame(summary)
    fig = go.Figure()
    if frame.empty:
        fig.update_layout(title="No workers")
        return fig
    frame = frame.sort_values("worker_id")
    share = pd.to_numeric(frame["utilisation"], errors="coerce").fillna(0) * 100
    over = frame.get("over_target", pd.Series(False, index=frame.index)).fillna(False).astype(bool)
    colours = ["#c62828" if o else "#1565c0" for o in over]
    hover = [
        f"{w}<br>{h} high-need, {lo} low-need<br>load {ld:.2f} of target {t:.2f} (FTE {f:g})"
        for w, h, lo, ld, t, f in zip(frame["worker_id"], frame["high"], frame["low"], frame["load"],
                                      frame["target"], frame["fte"], strict=True)
    ]
    fig.add_bar(x=frame["worker_id"], y=share, marker_color=colours, name="caseload (after)" if before else
                "caseload", hovertext=hover, hoverinfo="text")
    if before is not None:
        prior = caseload_frame(before).set_index("worker_id")
        if not prior.empty:
            y = [float(prior["utilisation"].get(w, float("nan"))) * 100 for w in frame["worker_id"]]
            fig.add_scatter(x=frame["worker_id"], y=y, mode="markers", name="before",
                            marker={"symbol": "line-ew-open", "size": 18, "line": {"width": 3},
                                    "color": "#212121"})
    fig.add_hline(y=100, line_dash="dash", line_color="#616161", annotation_text="target",
                  annotation_position="top left")
    fig.update_layout(
        yaxis_title="caseload, % of target", xaxis_title="worker", bargap=0.15, height=380,
        margin={"l": 10, "r": 10, "t": 30, "b": 10}, showlegend=before is not None,
        xaxis={"type": "category"},
    )
    return fig


def _area_outlines(located: pd.DataFrame) -> list[go.Scatter]:
    """Each service area as the outline (convex hull) of its clients' homes, labelled with its code."""
    from scipy.spatial import ConvexHull, QhullError

    traces: list[go.Scatter] = []
    for area, part in located[located["area"] != ""].groupby("area", sort=True):
        points = part[["longitude", "latitude"]].drop_duplicates().to_numpy(dtype=float)
        if len(points) >= 3:
            try:
                ring = points[ConvexHull(points).vertices]
            except QhullError:  # all homes on one line: no outline, the label still shows
                ring = points[:0]
            if len(ring):
                ring = list(ring) + [ring[0]]
                traces.append(go.Scatter(
                    x=[p[0] for p in ring], y=[p[1] for p in ring], mode="lines", fill="toself",
                    fillcolor="rgba(120,144,156,0.10)", line={"color": "rgba(96,125,139,0.55)", "width": 1},
                    hoverinfo="skip", showlegend=False, legendgroup="areas",
                ))
        traces.append(go.Scatter(
            x=[float(part["longitude"].mean())], y=[float(part["latitude"].mean())], mode="text", text=[area],
            textfont={"size": 12, "color": "#455a64"}, hoverinfo="skip", showlegend=False, legendgroup="areas",
        ))
    return traces


def client_map(view: pd.DataFrame, agency: Agency) -> go.Figure:
    """Clients (coloured by decision), their service areas and the workers' offices, drawn with no map tiles.

    Agency machines are often offline or locked down, so the map needs nothing from the internet: areas are
    outlined from the clients' homes, on longitude/latitude axes scaled so that a kilometre is as long
    east-west as north-south. Client points are shown on the coordinator's page only.
    """
    fig = go.Figure()
    located = view.dropna(subset=["latitude", "longitude"])
    for trace in _area_outlines(located):
        fig.add_trace(trace)
    for decision in DECISION_ORDER:
        part = located[located["decision"] == decision]
        if part.empty:
            continue
        fig.add_trace(go.Scatter(
            x=part["longitude"], y=part["latitude"], mode="markers", name=f"{decision} ({len(part)})",
            marker={"size": 7, "color": DECISION_COLOURS[decision], "opacity": 0.75},
            text=part["client_id"] + " " + part["worker_id"], hoverinfo="text",
        ))
    offices = [w for w in agency.workers if w.has_location]
    if offices:
        fig.add_trace(go.Scatter(
            x=[w.longitude for w in offices], y=[w.latitude for w in offices], mode="markers",
            name="offices", marker={"size": 13, "color": "#212121", "symbol": "square",
                                    "line": {"color": "white", "width": 1.5}},
            text=[w.worker_id for w in offices], hoverinfo="text",
        ))
    latitudes = pd.concat([located["latitude"], pd.Series([w.latitude for w in offices], dtype=float)])
    middle = float(latitudes.mean()) if len(latitudes) else 45.0
    # A degree of latitude is 1 / cos(latitude) times as long as a degree of longitude.
    ratio = 1 / max(math.cos(math.radians(middle)), 0.05)
    fig.update_layout(height=520, margin={"l": 10, "r": 10, "t": 10, "b": 10}, plot_bgcolor="#fafafa",
                      legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 0.0},
                      xaxis={"title": "longitude", "showgrid": False, "zeroline": False},
                      yaxis={"title": "latitude", "showgrid": False, "zeroline": False, "scaleanchor": "x",
                             "scaleratio": ratio})
    return fig


def summary_frame(summary: dict[str, Any]) -> pd.DataFrame:
    """The run's headline figures as two columns (for the Excel export)."""
    keys = ("status", "placed", "waiting", "kept", "new", "moved", "placement_bound", "placement_gap",
            "wall_time_s")
    rows = [(k, summary[k]) for k in keys if k in summary]
    rows += [(f"objective: {k}", v) for k, v in (summary.get("objective") or {}).items()]
    rows += [("policy deviation", note) for note in summary.get("policy_deviations") or []]
    return pd.DataFrame(rows, columns=["figure", "value"]).astype({"value": str})


def assignments_csv(assignments: Iterable[Assignment]) -> bytes:
    """assignments.csv exactly as `caseload assign` writes it (formula-escaped, UTF-8)."""
    frame = escape_frame(assignments_frame(assignments))
    return frame.to_csv(index=False, lineterminator="\n").encode("utf-8")


def excel_bytes(sheets: dict[str, pd.DataFrame]) -> bytes:
    """An .xlsx workbook, one sheet per frame, with formula-like text made inert."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            escape_frame(frame).to_excel(writer, sheet_name=name[:31], index=False)
    return buffer.getvalue()


# --- staffing ----------------------------------------------------------------------------------------

EDITOR_BOOLEANS = ("french", "available")
EDITOR_NUMBERS = ("fte", "latitude", "longitude", "max_travel_km", "high_need_ratio", "low_need_ratio",
                  "max_new_per_week")


def editor_frame(workers: pd.DataFrame) -> pd.DataFrame:
    """The workers table with real booleans and numbers, so the editor shows checkboxes and number cells."""
    frame = workers.copy()
    for column in EDITOR_BOOLEANS:
        frame[column] = frame[column].astype(str).str.lower().isin(("true", "yes", "1", "y", "oui"))
    for column in EDITOR_NUMBERS:
        frame[column] = pd.to_numeric(frame[column].replace("", None), errors="coerce")
    return frame.reset_index(drop=True)


def _cell_text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def table_from_editor(frame: pd.DataFrame) -> Table:
    """The edited workers as a data-contract table, so the reader validates them like an uploaded file.

    Row numbers are spreadsheet rows (header = row 1) so an error points at the table row to fix.
    """
    columns = [c for c in WORKER_COLUMNS if c in frame.columns]
    rows = []
    for position, record in enumerate(frame[columns].itertuples(index=False, name=None), start=2):
        cells = {column: _cell_text(value) for column, value in zip(columns, record, strict=True)}
        if not any(cells.values()):
            continue  # an added row left blank
        rows.append((position, cells))
    return Table(file=EDITED_WORKERS_FILE, columns=columns, rows=rows)


def reason_diff(before: dict[str, Any], after: dict[str, Any]) -> pd.DataFrame:
    """Clients waiting by reason, before and after a staffing change."""
    b = before.get("waiting_by_reason") or {}
    a = after.get("waiting_by_reason") or {}
    reasons = sorted(set(b) | set(a), key=lambda r: (-max(b.get(r, 0), a.get(r, 0)), r))
    frame = pd.DataFrame(
        [(r, b.get(r, 0), a.get(r, 0), a.get(r, 0) - b.get(r, 0)) for r in reasons],
        columns=["reason", "before", "after", "change"],
    )
    return frame.astype({"before": "int64", "after": "int64", "change": "int64"})


def placement_changes(before: Iterable[Assignment], after: Iterable[Assignment]) -> pd.DataFrame:
    """Clients whose outcome differs: newly placed, newly waiting, or served by another worker."""
    prior = {a.client_id: a for a in before}
    rows = []
    for a in after:
        b = prior.get(a.client_id)
        was_waiting = b is None or b.decision == Decision.WAITING
        now_waiting = a.decision == Decision.WAITING
        if was_waiting and not now_waiting:
            change = "now placed"
        elif now_waiting and not was_waiting:
            change = "now waits"
        elif not now_waiting and b is not None and b.worker_id != a.worker_id:
            change = "other worker"
        else:
            continue
        rows.append({"client_id": a.client_id, "change": change, "worker_before": (b.worker_id if b else "") or "",
                     "worker_after": a.worker_id or "", "reason": a.reason or ""})
    frame = pd.DataFrame(rows, columns=["client_id", "change", "worker_before", "worker_after", "reason"])
    order = {"now placed": 0, "now waits": 1, "other worker": 2}
    return frame.sort_values(["change", "client_id"], key=lambda c: c.map(order) if c.name == "change" else c,
                             kind="stable").reset_index(drop=True)
