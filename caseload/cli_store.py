"""The store's commands: `caseload import`, `history`, `export`, `db upgrade`, `user add`, and the body of
`caseload assign --db` (called from caseload.cli_assign).

The store is given with `--db URL` (any SQLAlchemy URL, or a path to a SQLite file); without it,
$CASELOAD_DB, else the SQLite file `caseload.db` in the working directory. A user mistake (bad input,
no store, someone else writing) exits with status 2 and a message, never a traceback.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from caseload.cli_assign import USER_ERROR, console, err_console, print_errors, print_summary
from caseload.validation import ValidationFailed

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from caseload.domain import Agency
    from caseload.store.runs import PlanLike

DB_HELP = "Store: a SQLAlchemy URL (postgresql+psycopg://...) or a SQLite file path (default: caseload.db)"
WAIT_HELP = "If another run or import is writing to the store, wait this many seconds for it (default: refuse)"
INTERNAL_ERROR = 1


def _fail(message: str, status: int = USER_ERROR) -> typer.Exit:
    err_console.print(f"[red]error:[/red] {message}", highlight=False)
    return typer.Exit(status)


def _say_waiting(wait: float) -> None:
    err_console.print(f"Another run or import is writing to the store: waiting for it (up to {wait:g} s)...",
                      highlight=False)


def _engine(db: str | None, *, create: bool) -> Engine:
    from caseload.store.database import StoreError, open_engine

    try:
        return open_engine(db, create=create)
    except StoreError as exc:
        raise _fail(str(exc)) from None


def assign_from_store(db: str, *, out: Path | None, as_of: date | None, seed: int, time_limit: float | None,
                      wait: float) -> None:
    """`caseload assign --db URL`: solve on the store's state and record the run in the same transaction."""
    from caseload.store.database import StoreError
    from caseload.store.runs import PlanRejected, get_run, run_and_record

    engine = _engine(db, create=False)
    try:
        with console.status("Solving the assignment...") as status:
            def solve(agency: Agency) -> PlanLike:
                from optimizer import assign as run_assignment

                return run_assignment(agency, time_limit_s=time_limit, seed=seed,
                                      progress=lambda message: status.update(message))

            result = run_and_record(engine, solve, as_of=as_of, seed=seed, time_limit_s=time_limit, wait_s=wait,
                                    on_wait=lambda: _say_waiting(wait))
        print_summary(result.summary)
        console.print(f"Recorded run {result.record.run_id} ({result.record.placed} placed, "
                      f"{result.record.moved} moved) in {_shown(engine)}")
        if out is not None:
            from caseload.store.export import write_run

            write_run(get_run(engine, result.record.run_id), out)
            console.print(f"Wrote {out / 'assignments.csv'} and {out / 'summary.json'}")
    except PlanRejected as exc:
        raise _fail(str(exc), INTERNAL_ERROR) from None
    except StoreError as exc:
        raise _fail(str(exc)) from None
    finally:
        engine.dispose()


def _shown(engine: Engine) -> str:
    from caseload.store.database import safe_url

    return safe_url(engine.url)


def register(app: typer.Typer) -> None:
    @app.command("import")
    def import_(
        data_dir: Annotated[Path, typer.Argument(help="Folder with clients.csv|xlsx, workers.csv|xlsx, policy.yaml")],
        db: Annotated[str | None, typer.Option("--db", help=DB_HELP)] = None,
        policy: Annotated[Path | None, typer.Option(help="Policy YAML (default: DATA_DIR/policy.yaml)")] = None,
        wait: Annotated[float, typer.Option("--wait", help=WAIT_HELP)] = 0.0,
    ) -> None:
        """Make a data-contract folder the store's current state: validated as a whole, all or nothing."""
        from caseload.reader import load_agency
        from caseload.store.database import StoreError
        from caseload.store.state import import_agency

        try:  # validate the whole folder before creating or touching any store
            agency = load_agency(data_dir, policy)
        except ValidationFailed as failure:
            print_errors(failure)
            raise typer.Exit(USER_ERROR) from None
        engine = _engine(db, create=True)
        try:
            result = import_agency(engine, agency, wait_s=wait, on_wait=lambda: _say_waiting(wait))
        except StoreError as exc:
            raise _fail(str(exc)) from None
        finally:
            engine.dispose()
        console.print(f"Imported {result.clients} clients ({result.waiting} waiting, {result.active} active) and "
                      f"{result.workers} workers into {_shown(engine)}")

    @app.command()
    def history(
        db: Annotated[str | None, typer.Option("--db", help=DB_HELP)] = None,
        limit: Annotated[int, typer.Option(help="Show at most this many runs (0: all)")] = 30,
    ) -> None:
        """List the recorded runs, newest first."""
        from caseload.store.runs import list_runs

        engine = _engine(db, create=False)
        try:
            runs = list_runs(engine, limit or None)
        finally:
            engine.dispose()
        if not runs:
            console.print("No runs yet: `caseload assign --db ...` records one.")
            return
        # Plain aligned lines rather than a table: cron mails and logs keep them whole at any width.
        typer.echo(f"Runs in {_shown(engine)}, newest first")
        typer.echo(f"{'run':>5}  {'started (UTC)':<16}  {'as of':<10}  {'status':<10} {'placed':>6} {'moved':>6} "
                   f"{'kept':>6} {'waiting':>7}  input")
        for r in runs:
            typer.echo(f"{r.run_id:>5}  {r.started_at:%Y-%m-%d %H:%M}  {r.as_of.isoformat():<10}  "
                       f"{r.solver_status:<10} {r.placed:>6} {r.moved:>6} {r.kept:>6} {r.waiting:>7}  "
                       f"{r.input_digest[:12]}")

    @app.command()
    def export(
        run_id: Annotated[str, typer.Argument(help="A run id from `caseload history`, or 'latest'")],
        out: Annotated[Path, typer.Option("--out", help="Folder to write the data-contract files into")],
        db: Annotated[str | None, typer.Option("--db", help=DB_HELP)] = None,
    ) -> None:
        """Write a recorded run back as data-contract files: its input, assignments.csv and summary.json."""
        from caseload.store.database import StoreError
        from caseload.store.export import export_run

        engine = _engine(db, create=False)
        try:
            paths = export_run(engine, run_id, out)
        except StoreError as exc:
            raise _fail(str(exc)) from None
        finally:
            engine.dispose()
        console.print("Wrote " + ", ".join(str(p) for p in paths))

    db_app = typer.Typer(help="The store's schema.", no_args_is_help=True)
    app.add_typer(db_app, name="db")

    @db_app.command("upgrade")
    def db_upgrade(db: Annotated[str | None, typer.Option("--db", help=DB_HELP)] = None) -> None:
        """Create the store, or bring its schema to the newest migration (import and assign do this too)."""
        from caseload.store.database import current_revision

        engine = _engine(db, create=True)
        try:
            with engine.connect() as connection:
                revision = current_revision(connection)
        finally:
            engine.dispose()
        console.print(f"{_shown(engine)} is at schema revision {revision}")

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
            raise _fail(str(exc)) from None
        if password_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
        else:
            password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
        path = file or auth_file()
        try:
            add_user(path, name, password, parsed_role)
        except AuthConfigError as exc:
            raise _fail(str(exc)) from None
        console.print(f"User {name} ({parsed_role.value}) saved in {path}")
