"""The store keeps the coordinator's overrides with who set them and when, validates each like any input,
hands the live ones to the next run, and writes every change (and priority change) to the audit trail."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from caseload.domain import Override, OverrideAction
from caseload.store.database import StoreError
from caseload.store.overrides import (
    add_override,
    audit_trail,
    list_overrides,
    remove_override,
    set_priority,
)
from caseload.store.state import import_folder, store_agency
from caseload.validation import ValidationFailed
from optimizer.overrides import check_overrides
from tests.store.conftest import CLIENTS, write_agency

TODAY = date(2026, 11, 24)
HOLD, PIN, FORBID, KEEP = OverrideAction.HOLD, OverrideAction.PIN, OverrideAction.FORBID, OverrideAction.KEEP


@pytest.fixture
def stored(engine, agency_dir: Path):  # noqa: ANN201
    import_folder(engine, agency_dir)
    return engine


def test_an_override_is_kept_with_who_and_when_and_reaches_the_next_run(stored) -> None:
    override_id = add_override(stored, Override("c05", HOLD, "awaiting consent"), user="alice", as_of=TODAY)
    (listed,) = list_overrides(stored, as_of=TODAY)
    assert (listed.override_id, listed.client_id, listed.action, listed.set_by) == (override_id, "c05", "hold", "alice")
    assert listed.reason == "awaiting consent" and listed.set_at.tzinfo is not None
    agency = store_agency(stored, as_of=TODAY)
    assert agency.live_overrides == [Override("c05", HOLD, "awaiting consent", set_by="alice")]
    (entry,) = audit_trail(stored)
    assert (entry.user, entry.action, entry.client_id, entry.reason) == ("alice", "override added", "c05",
                                                                         "awaiting consent")


def test_a_lapsed_override_stops_applying(stored) -> None:
    add_override(stored, Override("c05", HOLD, "awaiting consent", until=TODAY + timedelta(days=6)), user="a",
                 as_of=TODAY)
    assert len(list_overrides(stored, as_of=TODAY + timedelta(days=6))) == 1
    later = TODAY + timedelta(days=7)
    assert list_overrides(stored, as_of=later) == []
    assert len(list_overrides(stored, as_of=later, include_lapsed=True)) == 1
    assert store_agency(stored, as_of=later).live_overrides == []


@pytest.mark.parametrize(("override", "column", "rule"), [
    (Override("c05", HOLD, "  "), "reason", "is required"),
    (Override("nobody", HOLD, "x"), "client_id", "unknown client"),
    (Override("c10", HOLD, "x"), "client_id", "graduated"),
    (Override("c05", PIN, "x", worker_id="w-none"), "worker_id", "unknown worker"),
    (Override("c05", KEEP, "x"), "action", "keep applies to an active client"),
    (Override("c03", HOLD, "x"), "action", "hold applies to a waiting client"),
    (Override("c09", PIN, "x", worker_id="w-ar"), "worker_id", "rule language_shared"),
    (Override("c01", PIN, "x", worker_id="w-leave"), "worker_id", "rule unavailable_takes_no_one_new"),
])
def test_an_override_that_cannot_hold_is_refused_and_nothing_is_stored(stored, override, column, rule) -> None:
    with pytest.raises(ValidationFailed) as failure:
        add_override(stored, override, user="alice", check=check_overrides, as_of=TODAY)
    assert any(e.column == column and rule in e.rule for e in failure.value.errors), failure.value.report()
    assert list_overrides(stored, include_lapsed=True) == [] and audit_trail(stored) == []


def test_conflicting_overrides_are_refused_naming_the_first(stored) -> None:
    add_override(stored, Override("c05", PIN, "knows the family", worker_id="w-es"), user="a", as_of=TODAY)
    for second, rule in ((Override("c05", FORBID, "x", worker_id="w-es"), "pin and forbid"),
                         (Override("c05", HOLD, "x"), "hold and pin"),
                         (Override("c05", PIN, "x", worker_id="w-ar"), "a second pin")):
        with pytest.raises(ValidationFailed, match=rule):
            add_override(stored, second, user="a", as_of=TODAY)
    assert len(list_overrides(stored, as_of=TODAY)) == 1


def test_a_pin_over_target_names_capacity(engine, tmp_path) -> None:
    # w-es has 0.2 FTE: three high-need clients are its target at 15 per FTE; a fourth pin would put it over
    import_folder(engine, write_agency(tmp_path / "agency", clients=CLIENTS + "c11,high,es,no,,,,,waiting,,"
                                                                              "2026-08-18,,0,,,\n"))
    for client_id in ("c05", "c06", "c07"):
        add_override(engine, Override(client_id, PIN, "x", worker_id="w-es"), user="a", check=check_overrides,
                     as_of=TODAY)
    with pytest.raises(ValidationFailed) as failure:
        add_override(engine, Override("c11", PIN, "x", worker_id="w-es"), user="a", check=check_overrides,
                     as_of=TODAY)
    (error,) = failure.value.errors
    assert (error.column, error.value) == ("worker_id", "w-es") and "over target" in error.rule
    assert len(list_overrides(engine, as_of=TODAY)) == 3


def test_removing_an_override_is_audited_and_cannot_happen_twice(stored) -> None:
    override_id = add_override(stored, Override("c05", HOLD, "awaiting consent"), user="alice", as_of=TODAY)
    with pytest.raises(ValidationFailed, match="reason"):
        remove_override(stored, override_id, user="bob", reason="")
    remove_override(stored, override_id, user="bob", reason="consent signed")
    assert list_overrides(stored, include_lapsed=True) == []
    assert store_agency(stored).overrides == []
    newest = audit_trail(stored, limit=1)[0]
    assert (newest.user, newest.action, newest.reason) == ("bob", "override removed", "consent signed")
    with pytest.raises(StoreError, match=f"no override {override_id}"):
        remove_override(stored, override_id, user="bob", reason="again")


def test_a_priority_change_is_stored_and_audited(stored) -> None:
    set_priority(stored, "c09", 5, user="alice", reason="housing deadline")
    assert next(c for c in store_agency(stored).clients if c.client_id == "c09").priority == 5
    entry = audit_trail(stored)[0]
    assert (entry.action, entry.client_id, entry.detail, entry.reason) == ("priority set", "c09", "priority 0 -> 5",
                                                                          "housing deadline")
    for client_id, priority, reason in (("c09", -1, "x"), ("c09", 2, ""), ("nobody", 1, "x")):
        with pytest.raises(ValidationFailed):
            set_priority(stored, client_id, priority, user="alice", reason=reason)
    assert len(audit_trail(stored)) == 1


def test_an_import_with_overrides_csv_replaces_them_and_without_keeps_those_still_valid(engine, tmp_path) -> None:
    folder = write_agency(tmp_path / "agency")
    (folder / "overrides.csv").write_text("client_id,action,worker_id,reason,set_by\n"
                                          "c05,hold,,awaiting consent,alice\nc03,keep,,stays,alice\n")
    import_folder(engine, folder, user="cron")
    assert [(o.client_id, o.action, o.set_by) for o in list_overrides(engine)] == [("c05", "hold", "alice"),
                                                                                 ("c03", "keep", "alice")]
    # No overrides.csv: the stored ones stay, except one whose client has since graduated
    (folder / "overrides.csv").unlink()
    write_agency(folder, clients=CLIENTS.replace("c03,low,fr,yes,45.403,-75.703,K1N,,active",
                                                 "c03,low,fr,yes,45.403,-75.703,K1N,,graduated"))
    import_folder(engine, folder, user="cron")
    assert [(o.client_id, o.action) for o in list_overrides(engine)] == [("c05", "hold")]
    dropped = audit_trail(engine, limit=1)[0]
    assert dropped.client_id == "c03" and "no longer applies" in dropped.reason and "graduated" in dropped.reason
