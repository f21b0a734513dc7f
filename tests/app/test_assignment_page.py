"""The nightly assignment page shows the library's plan: the same counts, reasons, rows and exports."""

from __future__ import annotations

from collections import Counter

from app import frames, runs, state
from caseload.contract_io import assignments_frame
from caseload.reader import load_agency
from caseload.validation import ValidationFailed
from tests.app.conftest import NIGHTLY_LIMIT_S, button, frame_with, no_exception
from tests.conftest import CLIENTS_CSV, WORKERS_CSV, write_folder


def run_nightly(at):
    at.run()
    no_exception(at)
    at.number_input(key="nightly_time_limit").set_value(NIGHTLY_LIMIT_S)
    button(at, "Run the nightly assignment").click().run()
    no_exception(at)
    return at


def test_counts_reasons_and_rows_equal_the_library_plan(open_app, sample_plan):
    at = run_nightly(open_app)
    summary = sample_plan.summary
    shown = {m.label: m.value for m in at.metric}
    assert shown["Placed tonight"] == f"{summary['placed']:,}"
    assert shown["Moved"] == f"{summary['moved']:,}"
    assert shown["Still waiting"] == f"{summary['waiting']:,}"
    assert shown["Kept"] == f"{summary['kept']:,}"
    if summary["waiting_by_reason"]:
        reasons = frame_with(at, "reason", "clients")
        assert dict(zip(reasons["reason"], reasons["clients"], strict=True)) == summary["waiting_by_reason"]
    table = frame_with(at, "client_id", "decision", "worker_id")
    assert len(table) == len(sample_plan.assignments)
    expected = assignments_frame(sample_plan.assignments).set_index("client_id")
    got = table.set_index("client_id")
    assert (got["decision"] == expected.loc[got.index, "decision"]).all()
    assert (got["worker_id"] == expected.loc[got.index, "worker_id"]).all()
    assert [b.label for b in at.download_button] == ["Download assignments (CSV)", "Download assignments (Excel)"]
    assert len(at.get("plotly_chart")) >= 2  # caseload against target and the map


def test_filters_and_search_slice_the_plan(open_app, sample_plan):
    at = run_nightly(open_app)
    busiest, count = Counter(a.worker_id for a in sample_plan.assignments if a.worker_id).most_common(1)[0]
    at.multiselect[1].set_value([busiest]).run()
    no_exception(at)
    assert f"{count:,} of {len(sample_plan.assignments):,} clients" in [c.value for c in at.caption]
    at.multiselect[1].set_value([]).run()
    waiting = [a for a in sample_plan.assignments if a.decision.value == "waiting"]
    at.multiselect[0].set_value(["waiting"]).run()
    assert set(frame_with(at, "client_id", "decision")["client_id"]) == {a.client_id for a in waiting}
    at.multiselect[0].set_value([]).run()
    one = sample_plan.assignments[0].client_id
    at.text_input[0].input(one.lower()).run()
    assert list(frame_with(at, "client_id", "decision")["client_id"]) == [one]


def test_downloads_are_the_plan_as_caseload_assign_writes_it(open_app, sample_plan):
    at = run_nightly(open_app)
    loaded = at.session_state[state.LOADED]
    key = at.session_state["plans"][loaded.key]
    planned = state.job_store().result(key)
    assert planned is not None and key == runs.plan_key(loaded.key, 0, NIGHTLY_LIMIT_S)
    assert planned.csv_bytes() == frames.assignments_csv(sample_plan.assignments)
    import io

    import pandas as pd

    book = pd.read_excel(io.BytesIO(planned.excel_bytes()), sheet_name=None)
    assert set(book) == {"assignments", "summary", "caseloads", "waiting by reason"}
    assert len(book["assignments"]) == len(sample_plan.assignments)


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
