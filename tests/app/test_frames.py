"""The tables and figures behind the pages: built from library objects, checked without a browser."""

from __future__ import annotations

import io
from datetime import date

import pandas as pd
import pytest

from app import frames
from app.state import with_workers
from caseload.contract_io import workers_frame
from caseload.domain import Agency, Assignment, Client, Decision, NeedLevel, Status, Worker
from caseload.reader import load_agency, workers_from_table
from caseload.validation import InputError


@pytest.fixture
def agency(good_folder) -> Agency:
    return load_agency(good_folder, as_of=date(2026, 11, 1))


def plan_of(agency: Agency) -> list[Assignment]:
    return [
        Assignment("c1", "w1", Decision.NEW, "", 2.345, "ar"),
        Assignment("c2", "w2", Decision.KEPT, "", 1.0, "fr"),
    ]


def test_view_has_one_row_per_client_with_what_the_coordinator_filters_on(agency):
    view = frames.assignment_view(agency, plan_of(agency))
    assert list(view["client_id"]) == ["c1", "c2"]
    first = view.iloc[0]
    assert tuple(first[["decision", "worker_id", "need_level", "language"]]) == ("new", "w1", "high", "ar")
    assert first["days_waiting"] == (date(2026, 11, 1) - date(2026, 10, 1)).days
    assert first["travel_km"] == 2.3
    assert view.iloc[1]["french_service"]
    assert pd.isna(view.iloc[1]["days_waiting"])  # an active client is not waiting


def test_filters_combine_and_search_ignores_case(agency):
    view = frames.assignment_view(agency, plan_of(agency))
    search = frames.search_text(view)
    assert list(frames.filter_view(view, decisions=["kept"])["client_id"]) == ["c2"]
    assert list(frames.filter_view(view, text="W1", search=search)["client_id"]) == ["c1"]
    assert list(frames.filter_view(view, text="fr")["client_id"]) == ["c2"]  # the language used
    assert frames.filter_view(view, decisions=["new"], workers=["w2"]).empty
    assert len(frames.filter_view(view)) == 2


def test_waiting_reasons_largest_first():
    summary = {"waiting_by_reason": {"no Tigrinya-speaking worker": 2, "no French-capable capacity in area M1B": 5}}
    table = frames.waiting_by_reason(summary)
    assert list(table["reason"]) == ["no French-capable capacity in area M1B", "no Tigrinya-speaking worker"]
    assert list(table["clients"]) == [5, 2]
    assert frames.waiting_by_reason({}).empty


def test_edited_workers_table_reads_back_as_the_same_workers(agency):
    """The staffing editor's table goes through the reader: an unedited table must give the same workers."""
    edited = frames.editor_frame(workers_frame(agency.workers))
    assert edited["french"].dtype == bool and edited["fte"].dtype == float
    errors: list[InputError] = []
    workers = workers_from_table(frames.table_from_editor(edited), errors)
    assert errors == []
    assert workers == agency.workers


def test_edited_workers_errors_name_the_table_row(agency):
    edited = frames.editor_frame(workers_frame(agency.workers))
    edited.loc[1, "fte"] = 2.0
    blank = pd.DataFrame([{c: None for c in edited.columns}]).astype(object)
    edited = pd.concat([edited.astype(object), blank], ignore_index=True)  # a blank added row is ignored
    errors: list[InputError] = []
    workers_from_table(frames.table_from_editor(edited), errors)
    assert [(e.file, e.row, e.column) for e in errors] == [(frames.EDITED_WORKERS_FILE, 3, "fte")]


def test_removing_a_worker_returns_their_active_clients_to_the_waitlist(agency):
    changed, returned = with_workers(agency, [w for w in agency.workers if w.worker_id != "w2"])
    assert returned == ["c2"]
    c2 = next(c for c in changed.clients if c.client_id == "c2")
    assert (c2.status, c2.worker_id) == (Status.WAITING, None)
    assert [w.worker_id for w in changed.workers] == ["w1"]


def test_staffing_diff_names_who_is_placed_and_who_waits():
    before = [Assignment("a", None, Decision.WAITING, "no room"), Assignment("b", "w1", Decision.KEPT),
              Assignment("c", "w1", Decision.NEW)]
    after = [Assignment("a", "w2", Decision.NEW), Assignment("b", "w2", Decision.MOVED, "w1 removed"),
             Assignment("c", None, Decision.WAITING, "no room")]
    changes = frames.placement_changes(before, after)
    assert changes.set_index("client_id")["change"].to_dict() == {"a": "now placed", "b": "other worker",
                                                                   "c": "now waits"}
    diff = frames.reason_diff({"waiting_by_reason": {"no room": 1}},
                              {"waiting_by_reason": {"no room": 1, "no Dari-speaking worker": 2}})
    assert diff.to_dict("records") == [
        {"reason": "no Dari-speaking worker", "before": 0, "after": 2, "change": 2},
        {"reason": "no room", "before": 1, "after": 1, "change": 0},
    ]


def test_exports_are_formula_escaped(agency):
    assignments = [Assignment("=cmd()", "w1", Decision.NEW, "", None, "ar")]
    csv_text = frames.assignments_csv(assignments).decode()
    assert "'=cmd()" in csv_text
    book = pd.read_excel(io.BytesIO(frames.excel_bytes({"assignments": pd.DataFrame({"client_id": ["=cmd()"]})})))
    assert book["client_id"].tolist() == ["'=cmd()"]


def test_charts_draw_without_data_or_location():
    summary = {"workers": [{"worker_id": "w1", "fte": 1.0, "high": 3, "low": 10, "load": 0.4, "target": 1.0,
                            "utilisation": 0.4, "over_target": False}]}
    fig = frames.caseload_chart(summary, before=summary)
    assert [t.type for t in fig.data] == ["bar", "scatter"]
    assert list(fig.data[0].y) == [40.0]
    assert not frames.caseload_chart({}).data
    agency = Agency(clients=[Client("c", NeedLevel.LOW, ("en",))], workers=[Worker("w", 1.0, ("en",))])
    view = frames.assignment_view(agency, [Assignment("c", None, Decision.WAITING, "x")])
    assert [t.type for t in frames.client_map(view, agency).data] == []  # nothing located: an empty map


def test_the_map_needs_no_tiles_and_outlines_areas():
    """Offline agency machines: plain axes (no map tiles to fetch), areas outlined from the homes."""
    clients = [Client(f"c{i}", NeedLevel.LOW, ("en",), latitude=43.6 + 0.01 * (i % 3), longitude=-79.4 + 0.01 * i,
                      area="M1B") for i in range(4)]
    workers = [Worker("w", 1.0, ("en",), latitude=43.65, longitude=-79.38)]
    agency = Agency(clients=clients, workers=workers)
    view = frames.assignment_view(agency, [Assignment(c.client_id, "w", Decision.NEW, "") for c in clients])
    fig = frames.client_map(view, agency)
    assert {t.type for t in fig.data} == {"scatter"}
    assert not fig.layout.map.style and "map" not in fig.to_dict()["layout"]
    outline, label = fig.data[0], fig.data[1]
    assert outline.fill == "toself" and len(outline.x) >= 4 and list(label.text) == ["M1B"]
    assert [t.name for t in fig.data[2:]] == ["new (4)", "offices"]
    assert fig.layout.yaxis.scaleanchor == "x" and fig.layout.yaxis.scaleratio > 1.3  # 1/cos(43.6 deg)

