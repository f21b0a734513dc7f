"""Property tests: the validator never crashes, and what it accepts survives a write/read round trip."""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from caseload.contract_io import write_agency
from caseload.reader import load_agency
from caseload.validation import ValidationFailed
from tests.conftest import WORKERS_CSV, write_folder

CELL_VALUES = {
    "client_id": st.sampled_from(["c1", "c2", "c3", "", "=1+1", "c 4"]),
    "need_level": st.sampled_from(["high", "low", "LOW", "", "medium"]),
    "languages": st.sampled_from(["ar", "Arabic;English", "ti", "xx", "", "fa-AF;en", "Dari", "; ;"]),
    "status": st.sampled_from(["waiting", "active", "graduated", "", "gone"]),
    "worker_id": st.sampled_from(["", "w1", "w2", "w9"]),
    "latitude": st.sampled_from(["", "45.4", "-91", "abc", "1e3"]),
    "longitude": st.sampled_from(["", "-75.7", "200", "nan"]),
    "referral_date": st.sampled_from(["", "2026-01-31", "31/01/2026", "2026-13-01"]),
    "priority": st.sampled_from(["", "0", "3", "-1", "1.5", "x"]),
}
COLUMNS = list(CELL_VALUES)


@st.composite
def clients_csv(draw) -> str:
    rows = draw(st.lists(st.fixed_dictionaries(CELL_VALUES), min_size=0, max_size=6))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=clients_csv())
def test_reader_accepts_or_reports_never_crashes(text: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_folder(Path(tmp), clients=text, workers=WORKERS_CSV)
        try:
            agency = load_agency(folder)
        except ValidationFailed as failure:
            assert failure.errors
            assert all(e.file and e.rule for e in failure.errors)
            return
        # Accepted: the write/read round trip gives the same clients and workers.
        again = Path(tmp) / "again"
        write_agency(agency, again)
        reloaded = load_agency(again, as_of=agency.as_of)
        assert reloaded.clients == agency.clients
        assert reloaded.workers == agency.workers


@settings(max_examples=150, deadline=None)
@given(data=st.binary(max_size=400))
def test_arbitrary_bytes_never_crash_the_reader(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_folder(Path(tmp))
        (folder / "clients.csv").write_bytes(data)
        try:
            load_agency(folder)
        except ValidationFailed as failure:
            assert all(e.rule for e in failure.errors)
