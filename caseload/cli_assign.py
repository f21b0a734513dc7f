"""`caseload validate` and `caseload assign`: the coordinator's nightly job.

A user mistake (a bad file, a missing folder) exits with status 2 and a report of every error; it never
prints a traceback and never writes a partial output.
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from caseload.domain import Agency
from caseload.reader import load_agency
from caseload.validation import ValidationFailed

log = logging.getLogger("caseload")
console = Console()
err_console = Console(stderr=True)

USER_ERROR = 2


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


def register(app: typer.Typer) -> None:
    @app.command()
    def validate(
        data_dir: Annotated[Path, typer.Argument(help="Folder with clients.csv|xlsx, workers.csv|xlsx, policy.yaml")],
        policy: Annotated[Path | None, typer.Option(help="Policy YAML (default: DATA_DIR/policy.yaml)")] = None,
    ) -> None:
        """Check a data folder against the data contract and report every error."""
        agency = load_or_exit(data_dir, policy)
        console.print(
            f"OK: {len(agency.clients)} clients ({len(agency.waiting)} waiting, {len(agency.active)} active), "
            f"{len(agency.workers)} workers"
        )
        for note in agency.policy.deviations():
            console.print(f"[yellow]policy differs from the IRCC framework:[/yellow] {note}")

    @app.command()
    def assign(
        data_dir: Annotated[Path | None, typer.Argument(
            help="Folder with clients, workers and optional policy.yaml (not with --db)")] = None,
        out: Annotated[Path | None, typer.Option(
            "--out", help="Folder for assignments.csv and summary.json (optional with --db)")] = None,
        policy: Annotated[Path | None, typer.Option(help="Policy YAML (default: DATA_DIR/policy.yaml)")] = None,
        time_limit: Annotated[float | None, typer.Option("--time-limit", help="Solver budget in seconds")] = None,
        seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same plan")] = 0,
        as_of: Annotated[str | None, typer.Option("--as-of", help="Date of the run, YYYY-MM-DD (today)")] = None,
        db: Annotated[str | None, typer.Option("--db", help=(
            "Run on the store's state and record the run there: a SQLAlchemy URL or a SQLite file path"))] = None,
        wait: Annotated[float, typer.Option("--wait", help=(
            "With --db: if another run or import is writing, wait this many seconds (default: refuse)"))] = 0.0,
    ) -> None:
        """Place waiting clients with workers tonight, keeping clients who already have one."""
        run_date = _parse_as_of(as_of)
        if db is not None:
            if data_dir is not None or policy is not None:
                err_console.print("assign --db reads the store: load a folder with `caseload import DATA_DIR --db ...`")
                raise typer.Exit(USER_ERROR)
            from caseload.cli_store import assign_from_store

            assign_from_store(db, out=out, as_of=run_date, seed=seed, time_limit=time_limit, wait=wait)
            return
        if data_dir is None or out is None:
            err_console.print("assign needs DATA_DIR and --out (or --db URL to run on the store)")
            raise typer.Exit(USER_ERROR)
        from caseload.contract_io import write_assignments
        from optimizer import assign as run_assignment

        agency = load_or_exit(data_dir, policy, as_of=run_date)
        with console.status("Solving the assignment...") as status:
            plan = run_assignment(agency, time_limit_s=time_limit, seed=seed,
                                  progress=lambda message: status.update(message))
        write_assignments(plan.assignments, plan.summary, out)
        print_summary(plan.summary)
        console.print(f"Wrote {out / 'assignments.csv'} and {out / 'summary.json'}")


def _parse_as_of(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        err_console.print(f"--as-of {text!r}: must be a date written YYYY-MM-DD")
        raise typer.Exit(USER_ERROR) from None
