"""The store's commands: `caseload import`, `history`, `approve`, `export`, `db upgrade`, `user add`.

The store is given with `--db URL` (any SQLAlchemy URL, or a path to a SQLite file); without it,
$CASELOAD_DB, else the SQLite file `caseload.db` in the working directory. A user mistake (bad input,
no store, someone else writing) exits with status 2 and a message, never a traceback. (`caseload assign
--db` lives with `assign` in caseload.cli_assign; the shared helpers in caseload.cli_common.)
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from caseload.cli_common import (
    DB_HELP,
    USER_ERROR,
    USER_HELP,
    WAIT_HELP,
    console,
    current_user,
    fail,
    open_store,
    print_errors,
    refuse_broken_overrides,
    say_waiting,
    shown_url,
)
from caseload.validation import ValidationFailed


def register(app: typer.Typer) -> None:
    @app.command("import")
    def import_(
        data_dir: Annotated[Path, typer.Argument(help="Folder with clients.csv|xlsx, workers.csv|xlsx, policy.yaml")],
        db: Annotated[str | None, typer.Option("--db", help=DB_HELP)] = None,
        policy: Annotated[Path | None, typer.Option(help="Policy YAML (default: DATA_DIR/policy.yaml)")] = None,
        wait: Annotated[float, typer.Option("--wait", help=WAIT_HELP)] = 0.0,
        user: Annotated[str | None, typer.Option("--user", help=USER_HELP)] = None,
    ) -> None:
        """Make a data-contract folder the store's current state: validated as a whole, all or nothing.

        The folder's overrides.csv, when there is one, replaces the store's overrides; without one they stay.
        """
        from caseload.reader import load_agency
        from caseload.store.database import StoreError
        from caseload.store.state import has_overrides_file, import_agency

        try:  # validate the whole folder (overrides against the optimizer's rules too) before touching any store
            agency = load_agency(data_dir, policy)
            refuse_broken_overrides(agency, file="overrides.csv")
        except ValidationFailed as failure:
            print_errors(failure)
            raise typer.Exit(USER_ERROR) from None
        engine = open_store(db, create=True)
        try:
            result = import_agency(engine, agency, wait_s=wait, on_wait=lambda: say_waiting(wait),
                                   with_overrides=has_overrides_file(data_dir), user=current_user(user))
        except StoreError as exc:
            raise fail(str(exc)) from None
        finally:
            engine.dispose()
        console.print(f"Imported {result.clients} clients ({result.waiting} waiting, {result.active} active) and "
                      f"{result.workers} workers into {shown_url(engine)}")

    @app.command()
    def history(
        db: Annotated[str | None, typer.Option("--db", help=DB_HELP)] = None,
        limit: Annotated[int, typer.Option(help="Show at most this many runs (0: all)")] = 30,
    ) -> None:
        """List the recorded runs, newest first."""
        from caseload.store.runs import list_runs

        engine = open_store(db, create=False)
        try:
            runs = list_runs(engine, limit or None)
        finally:
            engine.dispose()
        if not runs:
            console.print("No runs yet: `caseload assign --db ...` records one.")
            return
        # Plain aligned lines rather than a table: cron mails and logs keep them whole at any width.
        typer.echo(f"Runs in {shown_url(engine)}, newest first")
        typer.echo(f"{'run':>5}  {'started (UTC)':<16}  {'as of':<10}  {'status':<10} {'run':<9} {'placed':>6} "
                   f"{'moved':>6} {'kept':>6} {'waiting':>7}  {'input':<12}  by")
        for r in runs:
            by = r.user or ""
            if r.approved_by:
                by += f" (approved by {r.approved_by})"
            typer.echo(f"{r.run_id:>5}  {r.started_at:%Y-%m-%d %H:%M}  {r.as_of.isoformat():<10}  "
                       f"{r.solver_status:<10} {r.status:<9} {r.placed:>6} {r.moved:>6} {r.kept:>6} {r.waiting:>7}  "
                       f"{r.input_digest[:12]}  {by}")

    @app.command()
    def approve(
        run_id: Annotated[int, typer.Argument(help="A proposed run's id (`caseload history` lists them)")],
        db: Annotated[str | None, typer.Option("--db", help=DB_HELP)] = None,
        user: Annotated[str | None, typer.Option("--user", help=USER_HELP)] = None,
        wait: Annotated[float, typer.Option("--wait", help=WAIT_HELP)] = 0.0,
    ) -> None:
        """Approve a proposed run: its plan becomes the clients' current workers (refused if the store changed)."""
        from caseload.store.database import StoreError
        from caseload.store.runs import approve_run

        engine = open_store(db, create=False)
        try:
            approve_run(engine, run_id, user=current_user(user), wait_s=wait, on_wait=lambda: say_waiting(wait))
        except StoreError as exc:
            raise fail(str(exc)) from None
        finally:
            engine.dispose()
        console.print(f"Run {run_id} approved: its plan is now the clients' current workers in {shown_url(engine)}")

    @app.command()
    def export(
        run_id: Annotated[str, typer.Argument(help="A run id from `caseload history`, or 'latest'")],
        out: Annotated[Path, typer.Option("--out", help="Folder to write the data-contract files into")],
        db: Annotated[str | None, typer.Option("--db", help=DB_HELP)] = None,
    ) -> None:
        """Write a recorded run back as data-contract files: its input, assignments.csv and summary.json."""
        from caseload.store.database import StoreError
        from caseload.store.export import export_run

        engine = open_store(db, create=False)
        try:
            paths = export_run(engine, run_id, out)
        except StoreError as exc:
            raise fail(str(exc)) from None
        finally:
            engine.dispose()
        console.print("Wrote " + ", ".join(str(p) for p in paths))

    db_app = typer.Typer(help="The store's schema.", no_args_is_help=True)
    app.add_typer(db_app, name="db")

    @db_app.command("upgrade")
    def db_upgrade(db: Annotated[str | None, typer.Option("--db", help=DB_HELP)] = None) -> None:
        """Create the store, or bring its schema to the newest migration (import and assign do this too)."""
        from caseload.store.database import current_revision

        engine = open_store(db, create=True)
        try:
            with engine.connect() as connection:
                revision = current_revision(connection)
        finally:
            engine.dispose()
        console.print(f"{shown_url(engine)} is at schema revision {revision}")

    user_app = typer.Typer(help="Who may sign in to the app, and what they see.", no_args_is_help=True)
    app.add_typer(user_app, name="user")

    @user_app.command("add")
    def user_add(
        name: Annotated[str, typer.Argument(help="User name to sign in with")],
        role: Annotated[str, typer.Option("--role", help="coordinator, manager or funder")],
        file: Annotated[Path | None, typer.Option(
            "--file", help="Auth file, .toml or .yaml (default: $CASELOAD_AUTH_FILE, else .streamlit/secrets.toml)",
        )] = None,
        password_stdin: Annotated[bool, typer.Option(
            "--password-stdin", help="Read the password from standard input instead of prompting",
        )] = False,
    ) -> None:
        """Add a user (or change their password and role) in the app's auth file; only a bcrypt hash is stored."""
        from caseload.auth import AuthConfigError, add_user, auth_file, parse_role

        try:
            parsed_role = parse_role(role)
        except AuthConfigError as exc:
            raise fail(str(exc)) from None
        if password_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
        else:
            password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
        path = file or auth_file()
        try:
            add_user(path, name, password, parsed_role)
        except AuthConfigError as exc:
            raise fail(str(exc)) from None
        console.print(f"User {name} ({parsed_role.value}) saved in {path}")
