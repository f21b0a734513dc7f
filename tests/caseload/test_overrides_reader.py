"""overrides.csv through the one validator: every error at once (file, row, column, value, rule), the
coordinator's reason never echoed, and (hypothesis) whatever it accepts keeps every override rule."""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from caseload.cli import app
from caseload.domain import OverrideAction, Status
from caseload.reader import load_agency
from caseload.validation import HIDDEN, ValidationFailed
from tests.conftest import write_folder

CLIENTS = """client_id,need_level,languages,status,worker_id,referral_date
c1,high,ar;en,waiting,,2026-10-01
c2,low,fr,active,w2,2026-01-05
c3,low,ti,waiting,,2026-09-01
c4,low,en,graduated,w1,2025-01-05
"""
WORKERS = "worker_id,fte,languages,french\nw1,1,ar;en,false\nw2,0.5,fr;en,true\n"
HEADER = "client_id,action,worker_id,reason,set_by,until\n"
runner = CliRunner()


def folder(tmp: Path, overrides: str) -> Path:
    path = write_folder(tmp, CLIENTS, WORKERS)
    (path / "overrides.csv").write_text(overrides, encoding="utf-8")
    return path


def test_a_good_file_sets_the_agencys_overrides(tmp_path: Path) -> None:
    agency = load_agency(folder(tmp_path, HEADER + "c1,pin,w1,knows the family,alice,2026-12-31\n"
                                          "c2,keep,,stays,,\nc3,hold,,awaiting consent,,\nc1,forbid,w2,x,,\n"))
    assert [(o.client_id, o.action, o.worker_id) for o in agency.overrides] == [
        ("c1", OverrideAction.PIN, "w1"), ("c2", OverrideAction.KEEP, None), ("c3", OverrideAction.HOLD, None),
        ("c1", OverrideAction.FORBID, "w2")]
    assert agency.overrides[0].set_by == "alice" and agency.overrides[0].until.isoformat() == "2026-12-31"


def test_every_error_is_reported_at_once_and_the_reason_is_never_shown(tmp_path: Path) -> None:
    with pytest.raises(ValidationFailed) as failure:
        load_agency(folder(tmp_path, HEADER + "c1,pin,,private words,,\nc3,hold,,=cmd|' /C calc'!A0,,\n"
                                              "c1,sometimes,w1,private words,,\n"))
    found = {(e.row, e.column) for e in failure.value.errors}
    assert found == {(2, "worker_id"), (3, "reason"), (4, "action")}
    report = failure.value.report()
    assert "private words" not in report and "calc" not in report
    assert next(e for e in failure.value.errors if e.column == "reason").value == HIDDEN


def test_a_pin_a_rule_forbids_is_refused_naming_the_rule(tmp_path: Path) -> None:
    data = folder(tmp_path, HEADER + "c3,pin,w1,knows the family,,\n")  # c3 speaks ti, w1 does not
    load_agency(data)  # the files alone are consistent; the optimizer's rule is what breaks
    result = runner.invoke(app, ["validate", str(data)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "language_shared" in result.output and "overrides.csv" in result.output
    result = runner.invoke(app, ["assign", str(data), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2 and not (tmp_path / "out").exists()


ROW = st.fixed_dictionaries({
    "client_id": st.sampled_from(["c1", "c2", "c3", "c4", "c9", ""]),
    "action": st.sampled_from(["pin", "forbid", "hold", "keep", "PIN", "", "move"]),
    "worker_id": st.sampled_from(["", "w1", "w2", "w9"]),
    "reason": st.sampled_from(["awaiting consent", "", "=1+1", "knows the family"]),
    "set_by": st.sampled_from(["", "alice"]),
    "until": st.sampled_from(["", "2099-01-01", "2000-01-01", "01/01/2099"]),
})


@st.composite
def overrides_csv(draw) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=HEADER.strip().split(","), lineterminator="\n")
    writer.writeheader()
    writer.writerows(draw(st.lists(ROW, min_size=0, max_size=5)))
    return out.getvalue()


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=overrides_csv())
def test_what_the_validator_accepts_keeps_every_override_rule(text: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        try:
            agency = load_agency(folder(Path(tmp), text))
        except ValidationFailed as failure:
            assert failure.errors and all(e.file == "overrides.csv" and e.rule for e in failure.errors)
            return
    clients = {c.client_id: c for c in agency.clients}
    live = agency.live_overrides
    pins: dict[str, str] = {}
    for o in live:
        client = clients[o.client_id]
        assert client.status in (Status.WAITING, Status.ACTIVE) and o.reason
        assert (o.worker_id is not None) == (o.action in (OverrideAction.PIN, OverrideAction.FORBID))
        assert o.worker_id is None or o.worker_id in {w.worker_id for w in agency.workers}
        if o.action == OverrideAction.KEEP:
            assert client.status == Status.ACTIVE
        if o.action == OverrideAction.HOLD:
            assert client.status == Status.WAITING
        if o.action == OverrideAction.PIN:
            assert o.client_id not in pins, "two pins for one client"
            pins[o.client_id] = o.worker_id
    for o in live:
        if o.action == OverrideAction.FORBID:
            assert pins.get(o.client_id) != o.worker_id, "pin and forbid of one pair"
        if o.action == OverrideAction.HOLD:
            assert o.client_id not in pins, "hold and pin"
