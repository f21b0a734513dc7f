"""Sign-in and pages by role (a funder sees only Scenarios), and reading tonight's agency from the store."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.app.conftest import APP, RUN_TIMEOUT_S, SAMPLE, button, no_exception

PASSWORD = "correct horse battery"


@pytest.fixture
def auth_app(tmp_path, monkeypatch) -> AppTest:
    from caseload.auth import add_user

    auth = tmp_path / "auth.yaml"
    add_user(auth, "amira", PASSWORD, "coordinator")
    add_user(auth, "fatima", PASSWORD, "funder")
    monkeypatch.setenv("CASELOAD_AUTH_FILE", str(auth))
    monkeypatch.chdir(tmp_path)
    return AppTest.from_file(str(APP), default_timeout=RUN_TIMEOUT_S)


def sign_in(at: AppTest, name: str, password: str = PASSWORD) -> AppTest:
    at.run()
    at.text_input[0].input(name)
    at.text_input[1].input(password)
    button(at, "Sign in").click().run()
    no_exception(at)
    return at


def test_sign_in_comes_first_and_a_wrong_password_is_refused(auth_app):
    at = auth_app.run()
    no_exception(at)
    assert [t.label for t in at.text_input] == ["User name", "Password"]
    assert not at.metric and not at.dataframe
    sign_in(at, "amira", "wrong password")
    assert [e.value for e in at.error] == ["Wrong user name or password."]
    assert [t.value for t in at.title] == ["caseload"]


def test_a_funder_sees_only_the_scenarios_page(auth_app):
    at = sign_in(auth_app, "fatima")
    assert at.title[0].value == "Scenarios"
    assert any("fatima" in c.value and "funder" in c.value for c in at.sidebar.caption)
    for page in ("app_pages/assignment.py", "app_pages/waitlist.py", "app_pages/history.py",
                 "app_pages/staffing.py"):
        with pytest.raises(ValueError, match="navigation page"):
            at.switch_page(page)


def test_a_coordinator_sees_every_page(auth_app):
    at = sign_in(auth_app, "amira")
    assert at.title[0].value == "Nightly assignment"
    for page, title in (("app_pages/history.py", "History"), ("app_pages/staffing.py", "Staffing"),
                        ("app_pages/scenarios.py", "Scenarios")):
        at.switch_page(page).run()
        no_exception(at)
        assert at.title[0].value == title


def test_a_page_run_on_its_own_still_asks_for_sign_in(auth_app):
    """Each page checks the role itself: run without the entry script, it shows nothing of the agency."""
    for page in ("assignment.py", "waitlist.py", "history.py", "staffing.py", "scenarios.py"):
        at = AppTest.from_file(str(APP.parent / "app_pages" / page), default_timeout=RUN_TIMEOUT_S).run()
        no_exception(at)
        assert [e.value for e in at.error] == ["This page is not available: sign in with a role that may see it."]
        assert not at.dataframe and not at.metric and not at.button


def test_a_broken_auth_file_keeps_the_app_closed(tmp_path, monkeypatch):
    auth = tmp_path / "auth.yaml"
    auth.write_text("app:\n  auth:\n    users:\n      x: {password_hash: plain, role: coordinator}\n")
    monkeypatch.setenv("CASELOAD_AUTH_FILE", str(auth))
    at = AppTest.from_file(str(APP), default_timeout=RUN_TIMEOUT_S).run()
    assert at.error and "broken" in at.error[0].value
    assert not at.text_input and not at.metric


def test_tonights_agency_can_come_from_the_store(open_app, tmp_path, sample_agency):
    pytest.importorskip("caseload.store.state")
    from caseload.store.database import open_engine
    from caseload.store.state import import_folder

    url = f"sqlite:///{tmp_path / 'nightly.db'}"
    engine = open_engine(url)
    import_folder(engine, SAMPLE)
    engine.dispose()
    at = open_app.run()
    at.radio[0].set_value("store").run()
    at.text_input[0].set_value(url)
    button(at, "Read the store").click().run()
    no_exception(at)
    agency = sample_agency
    assert any(f"{len(agency.clients):,} clients ({len(agency.waiting):,} waiting" in c.value for c in at.caption)
    button(at, "Run the nightly assignment")


def test_an_empty_or_missing_store_says_what_to_do(open_app, tmp_path):
    pytest.importorskip("caseload.store.state")
    at = open_app.run()
    at.radio[0].set_value("store").run()
    at.text_input[0].set_value(f"sqlite:///{tmp_path / 'nothing-here.db'}")
    button(at, "Read the store").click().run()
    no_exception(at)
    assert any("caseload import" in str(v) for v in at.dataframe[0].value["rule"])
