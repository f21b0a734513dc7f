"""What every `caseload` command shares: the consoles, the exit codes, the error table, the store's engine.

The command modules (cli_assign, cli_store, cli_overrides, cli_staff...) import from here and never from
each other, so any of them can land or change on its own.
"""

from __future__ import annotations

import getpass
import os
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.table import Table

from caseload.domain import Agency
from caseload.reader import load_agency
from caseload.validation import ValidationFailed

if TYPE_CHECKING:
    from sqlalchemy import Engine

console = Console()
err_console = Console(stderr=True)

USER_ERROR = 2
INTERNAL_ERROR = 1
DB_HELP = "Store: a SQLAlchemy URL (postgresql+psycopg://...) or a SQLite file path (default: caseload.db)"
WAIT_HELP = "If another run or import is writing to the store, wait this many seconds for it (default: refuse)"
USER_HELP = "Who is doing this, for the store's history and audit trail (default: $USER)"


def print_errors(failure: ValidationFailed, limit: int = 200) -> None:
    """The error report as a table: one line per broken rule, so a coordinator can fix them all at once."""
    table = Table(title=f"{len(failure.errors)} error(s): nothing was loaded", title_justify="left")
    for column in ("file", "row", "column", "value", "rule"):
        table.add_column(column, overflow="fold")
    for error in failure.errors[:limit]:
        table.add_row(error.file, "" if error.row is None else str(error.row), error.column or "",
                      "" if error.value is None else error.value, error.rule)
    err_console.print(table)
    if len(failure.errors) > limit:
        err_console.print(f"... and {len(failure.errors) - limit} more")


def load_or_exit(data_dir: Path, policy: Path | None = None, as_of: date | None = None) -> Agency:
    """Load a data-contract folder; on bad input print every error and exit with status 2."""
    try:
        return load_agency(data_dir, policy, as_of=as_of)
    except ValidationFailed as failure:
        print_errors(failure)
        raise typer.Exit(USER_ERROR) from None


def refuse_broken_overrides(agency: Agency, file: str | None = None) -> None:
    """Overrides that cannot hold are bad input: raise `ValidationFailed` naming the rule (nothing runs)."""
    if not agency.overrides:
        return  # no need to load the optimizer (the store's tests run the CLI with a stand-in for it)
    from optimizer.overrides import refuse_overrides_that_cannot_hold

    refuse_overrides_that_cannot_hold(agency, file=file)


def parse_as_of(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        err_console.print(f"--as-of {text!r}: must be a date written YYYY-MM-DD")
        raise typer.Exit(USER_ERROR) from None


def print_summary(summary: dict[str, Any]) -> None:
    """The run's summary as the coordinator reads it: placed, waiting by reason, quality, caseloads."""
    head = Table(title="Nightly assignment", title_justify="left", show_header=False)
    head.add_column("figure")
    head.add_column("value", justify="right")
    for key, label in (("placed", "placed tonight"), ("waiting", "still waiting"), ("kept", "kept"),
                       ("moved", "moved"), ("placement_bound", "proven bound on placements"),
                       ("placement_gap", "gap to the bound"), ("status", "solver status"),
                       ("wall_time_s", "time (s)")):
        if key in summary:
            value = summary[key]
            if key == "placement_gap" and isinstance(value, int | float):
                value = f"{value:.2%}"
            elif isinstance(value, float):
                value = f"{value:.2f}"
            head.add_row(label, str(value))
    given = summary.get("start")
    if given:
        label = "begun from the given plan" if given.get("used") else "given plan (below the run's own start)"
        head.add_row(label, f"{given.get('placed', 0)} placed, {given.get('moved', 0)} moved, "
                            f"{given.get('dropped', 0)} dropped")
    console.print(head)
    reasons = summary.get("waiting_by_reason") or {}
    if reasons:
        why = Table(title="Why clients wait", title_justify="left")
        why.add_column("reason", overflow="fold")
        why.add_column("clients", justify="right")
        for reason, count in sorted(reasons.items(), key=lambda kv: -kv[1]):
            why.add_row(reason, str(count))
        console.print(why)
    parts = summary.get("objective") or {}
    if parts:
        obj = Table(title="Objective, in order of importance", title_justify="left")
        obj.add_column("part")
        obj.add_column("value", justify="right")
        for part, value in parts.items():
            obj.add_row(part, f"{value:g}" if isinstance(value, float) else str(value))
        console.print(obj)
    for note in summary.get("policy_deviations") or []:
        console.print(f"[yellow]policy differs from the IRCC framework:[/yellow] {note}")


def fail(message: str, status: int = USER_ERROR) -> typer.Exit:
    err_console.print(f"[red]error:[/red] {message}", highlight=False)
    return typer.Exit(status)


def say_waiting(wait: float) -> None:
    err_console.print(f"Another run or import is writing to the store: waiting for it (up to {wait:g} s)...",
                      highlight=False)


def open_store(db: str | None, *, create: bool) -> Engine:
    """The store's engine, or exit 2 with the store's message (no store there, bad URL...)."""
    from caseload.store.database import StoreError, open_engine

    try:
        return open_engine(db, create=create)
    except StoreError as exc:
        raise fail(str(exc)) from None


def shown_url(engine: Engine) -> str:
    from caseload.store.database import safe_url

    return safe_url(engine.url)


def current_user(given: str | None = None) -> str | None:
    """Who runs the command: --user, else $USER (or the login name), else nobody named."""
    if given:
        return given
    name = os.environ.get("USER") or os.environ.get("USERNAME")
    if name:
        return name
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return None
