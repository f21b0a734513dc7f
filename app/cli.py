"""`caseload app`: start the Streamlit app on this machine.

It runs `python -m streamlit run app/streamlit_app.py` with the same interpreter, so the app sees the
same installed caseload as the command line, and headless so that it works on a server without a desktop.
On POSIX the command becomes the Streamlit process (exec), so a service manager's stop signal reaches
the server itself and no orphan is left behind.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer

APP_SCRIPT = Path(__file__).resolve().parent / "streamlit_app.py"


def streamlit_command(port: int, address: str | None = None, extra: list[str] | None = None) -> list[str]:
    command = [sys.executable, "-m", "streamlit", "run", str(APP_SCRIPT), "--server.headless", "true",
               "--server.port", str(port), "--browser.gatherUsageStats", "false", "--client.toolbarMode", "viewer"]
    if address:
        command += ["--server.address", address]
    return command + list(extra or [])


def register(app: typer.Typer) -> None:
    @app.command("app")
    def run_app(
        port: Annotated[int, typer.Option(help="Port to serve the app on")] = 8501,
        address: Annotated[str | None, typer.Option(
            help="Address to listen on (default: all; use 127.0.0.1 to keep the app on this machine)")] = None,
    ) -> None:
        """Start the caseload app (nightly assignment, staffing, funding scenarios) in the browser."""
        typer.echo(f"caseload app on http://localhost:{port} (Ctrl+C to stop)")
        command = streamlit_command(port, address)
        sys.stdout.flush()
        if os.name == "posix":
            os.execv(command[0], command)
        try:
            code = subprocess.call(command)
        except KeyboardInterrupt:
            code = 0
        raise typer.Exit(code)
