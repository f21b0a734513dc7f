"""Fixtures for the app's tests: the app under Streamlit's AppTest, and the library's own answers.

Each page test compares what the page shows with what the library returns for the same input, so the
library's results are computed here, once per session, independently of the app.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

REPO = Path(__file__).resolve().parents[2]
APP = REPO / "app" / "streamlit_app.py"
SAMPLE = REPO / "scenarios" / "sample"
# Generous: a run is a solve or a simulation; AppTest's default of 3 s is for scripts that draw only.
RUN_TIMEOUT_S = 300
# The solver budgets the pages are given in the tests, and the library calls they compare with. The
# optimizer is deterministic for a seed and a budget (CP-SAT's deterministic time), so both agree.
NIGHTLY_LIMIT_S = 10.0
STAFFING_LIMIT_S = 5.0


def element_texts(at: AppTest) -> list[str]:
    """Every text a user can read on the page (for privacy checks)."""
    texts: list[str] = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "text", "info", "warning", "error",
                 "success"):
        texts += [str(e.value) for e in getattr(at, kind)]
    texts += [f"{m.label} {m.value}" for m in at.metric]
    for frame in at.dataframe:
        texts += [str(c) for c in frame.value.columns]
        texts += [str(v) for v in frame.value.to_numpy().ravel()]
    texts += [chart.proto.spec for chart in at.get("plotly_chart")]  # the figures' data, as sent to the browser
    return texts


def no_exception(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


@pytest.fixture
def open_app(monkeypatch, tmp_path) -> AppTest:
    """The app with no sign-in configured (no auth file in the working directory or the environment)."""
    monkeypatch.delenv("CASELOAD_AUTH_FILE", raising=False)
    monkeypatch.delenv("CASELOAD_DB", raising=False)
    monkeypatch.chdir(tmp_path)
    return AppTest.from_file(str(APP), default_timeout=RUN_TIMEOUT_S)


@pytest.fixture(scope="session")
def sample_agency():
    from caseload.reader import load_agency

    return load_agency(SAMPLE)


class LibraryCalls:
    """Every `optimizer.assign` call the app makes: the agency and options it passed, the plan it got.

    The optimizer's result can differ by a placement between two runs of the same input when a stage is
    cut by its wall-clock safety net, so the page is checked against the plan the library returned to
    it, and the call against what the page should have asked (this agency, this budget, this seed).
    """

    def __init__(self) -> None:
        self.calls: list[tuple[Any, dict[str, Any], Any]] = []

    def call_for(self, plan: Any) -> tuple[Any, dict[str, Any]]:
        for agency, options, returned in self.calls:
            if returned is plan:
                return agency, options
        raise AssertionError("this plan did not come from optimizer.assign")


@pytest.fixture(scope="package")
def library() -> Iterator[LibraryCalls]:
    """Records the app's optimizer calls while the app's tests run (and only then)."""
    import optimizer

    real = optimizer.assign
    calls = LibraryCalls()

    def recording(agency, **options):
        plan = real(agency, **options)
        calls.calls.append((agency, {k: v for k, v in options.items() if k not in ("progress", "on_placements")},
                            plan))
        return plan

    patch = pytest.MonkeyPatch()
    patch.setattr(optimizer, "assign", recording)
    yield calls
    patch.undo()


def shown_plan(at: AppTest):
    """The plan behind the nightly page's figures (from the app's job store)."""
    from app import state

    loaded = at.session_state[state.LOADED]
    planned = state.job_store().result(at.session_state["plans"][loaded.key])
    assert planned is not None
    return planned


def button(at: AppTest, label: str):
    matches = [b for b in at.button if b.label == label]
    assert matches, f"no button {label!r}: {[b.label for b in at.button]}"
    return matches[0]


def frame_with(at: AppTest, *columns: str):
    """The first table on the page that has these columns."""
    for frame in at.dataframe:
        if all(c in frame.value.columns for c in columns):
            return frame.value
    raise AssertionError(f"no table with columns {columns}")
