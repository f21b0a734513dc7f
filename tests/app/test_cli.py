"""`caseload app` starts Streamlit headless with this interpreter on the port asked for."""

from __future__ import annotations

import sys

from typer.testing import CliRunner

import app.cli as app_cli
from caseload.cli import app
from tests.app.conftest import REPO


def test_caseload_app_runs_streamlit_headless_on_the_port(monkeypatch):
    seen = {}

    def fake_call(command):
        seen["command"] = command
        return 0

    def fake_exec(path, command):
        assert path == command[0]
        seen["command"] = command
        raise SystemExit(0)

    monkeypatch.setattr(app_cli.subprocess, "call", fake_call)
    monkeypatch.setattr(app_cli.os, "execv", fake_exec)
    result = CliRunner().invoke(app, ["app", "--port", "8765"])
    assert result.exit_code == 0, result.output
    command = seen["command"]
    assert command[:4] == [sys.executable, "-m", "streamlit", "run"]
    assert command[4].endswith("app/streamlit_app.py")
    assert command[command.index("--server.headless") + 1] == "true"
    assert command[command.index("--server.port") + 1] == "8765"


def test_readme_shows_the_nightly_page():
    """The README's picture is a committed copy of the browser test's screenshot (see copy_for_readme)."""
    assert (REPO / "docs" / "screenshots" / "nightly-assignment.png").is_file()
    assert "](docs/screenshots/nightly-assignment.png)" in (REPO / "README.md").read_text(encoding="utf-8")
