"""The nightly assignment page shows the library's plan: the same counts, reasons, rows and exports."""

from __future__ import annotations

import io
from collections import Counter

import pandas as pd

from app import frames
from caseload.contract_io import assignments_frame
from caseload.reader import load_agency
from caseload.validation import ValidationFailed
from tests.app.conftest import (
    NIGHTLY_LIMIT_S,
    SAMPLE,
    button,
    element_texts,
    frame_with,
    no_exception,
    shown_plan,
)
from tests.conftest import CLIENTS_CSV, WORKERS_CSV, write_folder


def run_nightly(at):
    at.run()
    no_exception(at)
    at.number_input(key="nightly_time_limit").set_value(NIGHTLY_LIMIT_S)
    button(at, "Run the nightly assignment").click().run()
    no_exception(at)
    return at


def test_counts_reasons_and_rows_are_the_library_plan_of_the_sample(open_app, library):
    at = run_nightly(open_app)
    plan = shown_plan(at).plan
    agency, options = library.call_for(plan)
    assert agency == load_agency(SAMPLE)
    assert options == {"time_limit_s": NIGHTLY_LIMIT_S, "seed": 0}
    summary = plan.summary
    shown = {m.label: m.value for m in at.metric}
    assert shown["Placed tonight"] == f"{summary['placed']:,}"
    assert shown["Moved"] == f"{summary['moved']:,}"
    assert shown["Still waiting"] == f"{summary['waiting']:,}"
    assert shown["Kept"] == f"{summary['kept']:,}"
    assert summary["placed"] > 0 and summary["waiting"] > 0  # the sample is built to leave some waiting
    reasons = frame_with(at, "reason", "clients")
    assert dict(zip(reasons["reason"], reasons["clients"], strict=True)) == summary["waiting_by_reason"]
    table = frame_with(at, "client_id", "decision", "worker_id")
    expected = assignments_frame(plan.assignments)
    assert table["client_id"].tolist() == expected["client_id"].tolist()
    assert table["decision"].tolist() == expected["decision"].tolist()
    assert table["worker_id"].tolist() == expected["worker_id"].tolist()
    assert [b.label for b in at.download_button] == ["Download assignments (CSV)", "Download assignments (Excel)"]
    assert len(at.get("plotly_chart")) == 2  # caseload against target, the map
    assert plan.assignments[0].client_id in " ".join(element_texts(at))  # clients are shown on this page


def test_filters_and_search_slice_the_plan(open_app, library):
    at = run_nightly(open_app)
    plan = shown_plan(at).plan
    busiest, count = Counter(a.worker_id for a in plan.assignments if a.worker_id).most_common(1)[0]
    at.multiselect[1].set_value([busiest]).run()
    no_exception(at)
    assert f"{count:,} of {len(plan.assignments):,} clients" in [c.value for c in at.caption]
    at.multiselect[1].set_value([]).run()
    at.multiselect[0].set_value(["waiting"]).run()
    waiting = {a.client_id for a in plan.assignments if a.decision.value == "waiting"}
    assert set(frame_with(at, "client_id", "decision")["client_id"]) == waiting
    at.multiselect[0].set_value([]).run()
    one = plan.assignments[0].client_id
    at.text_input[0].input(one.lower()).run()
    assert frame_with(at, "client_id", "decision")["client_id"].tolist() == [one]


def test_downloads_are_the_plan_as_caseload_assign_writes_it(open_app, library):
    at = run_nightly(open_app)
    planned = shown_plan(at)
    assert planned.csv_bytes() == frames.assignments_csv(planned.plan.assignments)
    book = pd.read_excel(io.BytesIO(planned.excel_bytes()), sheet_name=None)
    assert set(book) == {"assignments", "summary", "caseloads", "waiting by reason"}
    assert book["assignments"]["client_id"].tolist() == [a.client_id for a in planned.plan.assignments]


def test_uploaded_files_with_errors_show_every_row_to_fix(open_app, tmp_path):
    bad_clients = CLIENTS_CSV.replace("c1,high", "c1,urgent").replace("active,w2", "active,w9")
    folder = write_folder(tmp_path / "bad", clients=bad_clients)
    try:
        load_agency(folder)
    except ValidationFailed as failure:
        expected = [(e.file, e.row, e.column, e.rule) for e in failure.errors]
    at = open_app
    at.run()
    at.radio[0].set_value("upload").run()
    at.file_uploader[0].set_value([("clients.csv", bad_clients.encode(), "text/csv"),
                                   ("workers.csv", WORKERS_CSV.encode(), "text/csv")]).run()
    no_exception(at)
    errors = frame_with(at, "file", "row", "column", "value", "rule")
    got = [(f, int(r), c, rule) for f, r, c, rule in zip(errors["file"], errors["row"], errors["column"],
                                                         errors["rule"], strict=True)]
    assert got == expected and len(got) >= 2
    assert not [b for b in at.button if b.label == "Run the nightly assignment"]


def test_uploaded_good_files_become_tonights_agency(open_app):
    at = open_app
    at.run()
    at.radio[0].set_value("upload").run()
    at.file_uploader[0].set_value([("Clients.csv", CLIENTS_CSV.encode(), "text/csv"),
                                   ("workers.csv", WORKERS_CSV.encode(), "text/csv")]).run()
    no_exception(at)
    assert any("2 clients (1 waiting, 1 active), 2 workers" in c.value for c in at.caption)
    button(at, "Run the nightly assignment")


def test_one_workbook_with_both_sheets_and_a_policy_that_departs_from_the_framework(open_app, tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    for title, text in (("clients", CLIENTS_CSV), ("workers", WORKERS_CSV)):
        sheet = book.create_sheet(title)
        for line in text.strip().splitlines():
            sheet.append(line.split(","))
    del book["Sheet"]
    path = tmp_path / "agency export.xlsx"
    book.save(path)
    at = open_app
    at.run()
    at.radio[0].set_value("upload").run()
    at.file_uploader[0].set_value([
        ("agency export.xlsx", path.read_bytes(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ("policy.yaml", b"targets:\n  high_need_ratio: 25\n", "application/x-yaml"),
    ]).run()
    no_exception(at)
    assert any("2 clients (1 waiting, 1 active), 2 workers" in c.value for c in at.caption)
    assert any("outside the framework's range" in w.value for w in at.warning)
