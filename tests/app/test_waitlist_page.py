"""The Waitlist page shows `planning.waitlist`'s queue and `planning.reviews`' lists, filtered and sorted.

A small hand-built agency where workers' room runs out, so that clients of three languages and two areas
wait for different reasons; the page's rows are compared with the library's answer for the same agency.
"""

from __future__ import annotations

import pytest

from tests.app.conftest import frame_with, no_exception
from tests.conftest import write_folder

pytest.importorskip("planning.waitlist")
pytest.importorskip("planning.reviews")

WORKERS = """worker_id,fte,languages,french,areas,latitude,longitude
w1,0.2,ar;en,false,K1A,45.42,-75.69
w2,0.2,fr;en,true,K1N,45.43,-75.68
"""


def clients_csv() -> str:
    rows = ["client_id,need_level,languages,status,worker_id,referral_date,intake_date,area,priority,"
            "latitude,longitude"]
    for i in range(5):  # more Arabic speakers in K1A than w1 has room for
        rows.append(f"a{i},high,ar,waiting,,2026-0{i + 1}-15,,K1A,{1 if i == 4 else 0},45.40,-75.7{i}")
    for i in range(5):  # more French speakers in K1N than w2 has room for
        rows.append(f"f{i},high,fr,waiting,,2026-0{i + 3}-10,,K1N,0,45.44,-75.6{i}")
    rows.append("t0,low,ti,waiting,,2026-02-01,,K1A,0,45.41,-75.70")  # nobody speaks Tigrinya
    rows.append("x0,low,en,active,w1,2025-11-01,2025-12-01,K1A,0,45.41,-75.71")
    return "\n".join(rows) + "\n"


@pytest.fixture
def folder(tmp_path):
    return write_folder(tmp_path / "agency", clients=clients_csv(), workers=WORKERS)


def open_waitlist(at, folder):
    from caseload.reader import load_agency

    at.run()
    at.radio[0].set_value("upload").run()
    at.file_uploader[0].set_value([
        ("clients.csv", (folder / "clients.csv").read_bytes(), "text/csv"),
        ("workers.csv", (folder / "workers.csv").read_bytes(), "text/csv"),
    ]).run()
    no_exception(at)
    at.switch_page("app_pages/waitlist.py").run()
    no_exception(at)
    return load_agency(folder)


def test_the_queue_is_the_librarys_and_filters_and_sorts(open_app, folder):
    from planning.waitlist import waitlist

    at = open_app
    agency = open_waitlist(at, folder)
    expected = waitlist(agency)
    assert len(expected) >= 3
    queue = frame_with(at, "position", "client_id", "days_waiting", "reason")
    assert queue["client_id"].tolist() == expected.sort_values("position")["client_id"].tolist()
    assert queue["position"].tolist() == sorted(expected["position"].tolist())
    assert "expected_range" in queue.columns and "next_review" in queue.columns

    at.multiselect(key="queue_languages").set_value(["ti"]).run()
    no_exception(at)
    assert frame_with(at, "position", "client_id")["client_id"].tolist() == ["t0"]
    at.multiselect(key="queue_languages").set_value([]).run()

    at.multiselect(key="queue_areas").set_value(["K1N"]).run()
    shown = frame_with(at, "position", "client_id")
    assert set(shown["client_id"]) == set(expected.loc[expected["area"] == "K1N", "client_id"])
    at.multiselect(key="queue_areas").set_value([]).run()

    reason = expected["reason"].iloc[0]
    at.multiselect(key="queue_reasons").set_value([reason]).run()
    assert set(frame_with(at, "position", "client_id")["client_id"]) == set(
        expected.loc[expected["reason"] == reason, "client_id"])
    at.multiselect(key="queue_reasons").set_value([]).run()

    at.selectbox(key="queue_sort").set_value("days waiting (longest first)").run()
    no_exception(at)
    days = frame_with(at, "position", "days_waiting")["days_waiting"].tolist()
    assert days == sorted(days, reverse=True) and len(days) == len(expected)


def test_the_review_lists_are_the_librarys(open_app, folder):
    from planning.reviews import reviews

    at = open_app
    agency = open_waitlist(at, folder)
    expected = reviews(agency)
    assert {"check-in", "reassessment"} <= set(expected["kind"])  # waiting clients and x0 are all due
    listed = frame_with(at, "client_id", "kind", "due")
    assert sorted(zip(listed["client_id"], listed["kind"], strict=True)) == sorted(
        zip(expected["client_id"], expected["kind"], strict=True))
    per_worker = frame_with(at, "worker_id", "total")
    assert int(per_worker["total"].sum()) == len(expected)
    assert int(per_worker.loc[per_worker["worker_id"] == "w1", "total"].iloc[0]) == int(
        (expected["worker_id"] == "w1").sum())
    at.multiselect(key="review_workers").set_value(["w1"]).run()
    no_exception(at)
    assert set(frame_with(at, "client_id", "kind", "due")["client_id"]) == set(
        expected.loc[expected["worker_id"] == "w1", "client_id"])


def test_overrides_need_the_store(open_app, folder):
    at = open_app
    open_waitlist(at, folder)
    assert any("Read the store" in i.value for i in at.info)
    assert not [b for b in at.button if b.label == "Add override"]
