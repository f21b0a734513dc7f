"""`caseload validate` and `caseload assign`: the coordinator's nightly job, on files or on the store.

A user mistake (a bad file, a missing folder, an override that cannot hold) exits with status 2 and a
report of every error; it never prints a traceback and never writes a partial output.
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from caseload.cli_common import (
    INTERNAL_ERROR,
    USER_ERROR,
    USER_HELP,
    console,
    current_user,
    err_console,
    fail,
    load_or_exit,
    open_store,
    parse_as_of,
    print_errors,
    print_summary,
    refuse_broken_overrides,
    say_waiting,
    shown_url,
)
from caseload.validation import ValidationFailed

if TYPE_CHECKING:
    from caseload.domain import Agency
    from caseload.store.runs import PlanLike

log = logging.getLogger("caseload")

# Kept for the command modules written against cli_assign's names (cli_staff, cli_waitlist).
_parse_as_of = parse_as_of
__all__ = ["USER_ERROR", "console", "err_console", "load_or_exit", "print_errors", "print_summary", "register"]


def assign_from_store(db: str, *, out: Path | None, as_of: date | None, seed: int, time_limit: float | None,
                      wait: float, propose: bool = False, user: str | None = None,
                      start: Path | None = None) -> None:
    """`caseload assign --db URL`: solve on the store's state and record the run in the same transaction;
    with `propose`, record it as a proposal that `caseload approve RUN_ID` applies; with `start`, begin from
    that plan (checked against the store's clients and workers)."""
    from caseload.store.database import StoreError
    from caseload.store.runs import PlanRejected, get_run, run_and_record

    engine = open_store(db, create=False)
    try:
        with console.status("Solving the assignment...") as status:
            def solve(agency: Agency) -> PlanLike:
                from optimizer import assign as run_assignment

                refuse_broken_overrides(agency)
                start_from = _start_or_hint(start, agency)
                return run_assignment(agency, time_limit_s=time_limit, seed=seed, start_from=start_from,
                                      progress=lambda message: status.update(message))

            result = run_and_record(engine, solve, as_of=as_of, seed=seed, time_limit_s=time_limit, wait_s=wait,
                                    on_wait=lambda: say_waiting(wait), propose=propose, user=user)
        print_summary(result.summary)
        record = result.record
        what = "Proposed" if propose else "Recorded"
        console.print(f"{what} run {record.run_id} ({record.placed} placed, {record.moved} moved) in "
                      f"{shown_url(engine)}")
        if propose:
            console.print(f"No client changed yet: `caseload approve {record.run_id} --db ...` applies it.")
        if out is not None:
            from caseload.store.export import write_run

            write_run(get_run(engine, record.run_id), out)
            console.print(f"Wrote {out / 'assignments.csv'} and {out / 'summary.json'}")
    except ValidationFailed as failure:
        print_errors(failure)
        raise typer.Exit(USER_ERROR) from None
    except PlanRejected as exc:
        raise fail(str(exc), INTERNAL_ERROR) from None
    except StoreError as exc:
        raise fail(str(exc)) from None
    finally:
        engine.dispose()


def _start_or_hint(start: Path | None, agency: Agency) -> dict[str, str] | None:
    """The plan ``--start`` names, checked against the agency (a bad file raises ValidationFailed: every error,
    nothing run); without it, a hint when the workers include a staffing plan's hires."""
    from caseload.reader import load_start

    if start is not None:
        return load_start(start, agency)
    if any(w.worker_id.startswith("HIRE-") for w in agency.workers):
        console.print("These workers include a staffing plan's hires (HIRE-...): `--start STAFF_OUT` begins from "
                      "that plan, and then places at least what `caseload staff` promised.")
    return None


START_HELP = ("Begin from this plan: an assignments file (client_id, worker_id), e.g. `caseload staff`'s "
              "plan_with_hires.csv, or the folder holding it. The run places at least what the plan places "
              "under tonight's rules")


def register(app: typer.Typer) -> None:
    @app.command()
    def validate(
        data_dir: Annotated[Path, typer.Argument(help="Folder with clients.csv|xlsx, workers.csv|xlsx, policy.yaml")],
        policy: Annotated[Path | None, typer.Option(help="Policy YAML (default: DATA_DIR/policy.yaml)")] = None,
    ) -> None:
        """Check a data folder against the data contract and report every error."""
        agency = load_or_exit(data_dir, policy)
        try:
            refuse_broken_overrides(agency, file="overrides.csv")
        except ValidationFailed as failure:
            print_errors(failure)
            raise typer.Exit(USER_ERROR) from None
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
        propose: Annotated[bool, typer.Option("--propose", help=(
            "With --db: record the run as a proposal and change no client (`caseload approve RUN_ID` applies "
            "it)"))] = False,
        user: Annotated[str | None, typer.Option("--user", help=USER_HELP)] = None,
        start: Annotated[Path | None, typer.Option("--start", help=START_HELP)] = None,
    ) -> None:
        """Place waiting clients with workers tonight, keeping clients who already have one."""
        run_date = parse_as_of(as_of)
        if db is not None:
            if data_dir is not None or policy is not None:
                err_console.print("assign --db reads the store: load a folder with `caseload import DATA_DIR --db ...`")
                raise typer.Exit(USER_ERROR)
            assign_from_store(db, out=out, as_of=run_date, seed=seed, time_limit=time_limit, wait=wait,
                              propose=propose, user=current_user(user), start=start)
            return
        if propose:
            err_console.print("--propose records a proposal in the store: give --db URL")
            raise typer.Exit(USER_ERROR)
        if data_dir is None or out is None:
            err_console.print("assign needs DATA_DIR and --out (or --db URL to run on the store)")
            raise typer.Exit(USER_ERROR)
        from caseload.contract_io import write_assignments
        from optimizer import assign as run_assignment

        agency = load_or_exit(data_dir, policy, as_of=run_date)
        try:
            refuse_broken_overrides(agency, file="overrides.csv")
            start_from = _start_or_hint(start, agency)
        except ValidationFailed as failure:
            print_errors(failure)
            raise typer.Exit(USER_ERROR) from None
        with console.status("Solving the assignment...") as status:
            plan = run_assignment(agency, time_limit_s=time_limit, seed=seed, start_from=start_from,
                                  progress=lambda message: status.update(message))
        write_assignments(plan.assignments, plan.summary, out)
        print_summary(plan.summary)
        console.print(f"Wrote {out / 'assignments.csv'} and {out / 'summary.json'}")

