"""`caseload waitlist` and `caseload reviews`: where each waiting client stands, and who is due a conversation.

Both read a data folder (through the one reader) or the store (`--db`). `waitlist` needs tonight's plan:
from a folder it runs the optimizer; from the store it takes the latest recorded run, unless `--solve`
asks for a fresh one. A user mistake exits with status 2 and a message, never a traceback; output files
are written whole or not at all. Logs name clients by client_id only.
"""

from __future__ import annotations

import logging
import os
import tempfile
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from caseload.cli_common import (
    USER_ERROR,
    console,
    fail,
    load_or_exit,
    open_store,
    parse_as_of,
    print_errors,
    refuse_broken_overrides,
)
from caseload.validation import ValidationFailed

if TYPE_CHECKING:
    import pandas as pd

    from caseload.domain import Agency
    from optimizer.plan import Plan

log = logging.getLogger("caseload")
SORTS = ("position", "days_waiting")
HEAD_ROWS = 20


def _agency(command: str, data_dir: Path | None, policy: Path | None, db: str | None, as_of: date | None,
            solving: bool = False) -> Agency:
    """Today's state: from a data folder, or from the store with --db (its overrides were checked when set)."""
    if db is not None:
        if data_dir is not None or policy is not None:
            raise fail(f"{command} --db reads the store: give no DATA_DIR or --policy with it")
        from caseload.store.database import StoreError
        from caseload.store.state import store_agency

        try:
            agency = store_agency(open_store(db, create=False), as_of)
        except StoreError as exc:
            raise fail(str(exc)) from None
        if not agency.clients or not agency.workers:
            raise fail("the store has no clients or no workers: run `caseload import DATA_DIR --db ...` first")
        return agency
    if data_dir is None:
        raise fail(f"{command} needs DATA_DIR (or --db URL to read the store)")
    agency = load_or_exit(data_dir, policy, as_of=as_of)
    if solving:  # overrides that cannot hold are bad input, as for `caseload assign`
        try:
            refuse_broken_overrides(agency, file="overrides.csv")
        except ValidationFailed as failure:
            print_errors(failure)
            raise typer.Exit(USER_ERROR) from None
    return agency


def _stored_plan(db: str) -> tuple[Plan | None, str]:
    """The latest run recorded in the store as a Plan, and a line saying which run it is."""
    from caseload.store.database import StoreError
    from caseload.store.runs import get_run, latest_run_id
    from optimizer.plan import Plan

    engine = open_store(db, create=False)
    try:
        run_id = latest_run_id(engine)
        if run_id is None:
            return None, "no run in the store yet: solving tonight's plan"
        run = get_run(engine, run_id)
    except StoreError as exc:
        raise fail(str(exc)) from None
    status = getattr(run.record, "status", "committed")
    return Plan(assignments=list(run.assignments), summary=dict(run.summary)), \
        f"queue after run {run_id} of {run.record.as_of.isoformat()} ({status}; --solve for a fresh plan)"


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    """Write whole or not at all: a temporary file in the same folder, renamed over the target."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            frame.to_csv(handle, index=False, date_format="%Y-%m-%d")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def filter_queue(queue: pd.DataFrame, *, sort: str = "position", language: str | None = None,
                 area: str | None = None, reason: str | None = None) -> pd.DataFrame:
    """The CLI's filters: a language the client speaks (any of theirs, by primary subtag; a code or an English
    name), an area (case-insensitive), a reason containing the text; sorted by queue position or longest
    waiting first. An unknown language raises `caseload.languages.UnknownLanguage`."""
    from caseload.languages import normalise_language, primary

    keep = queue.index == queue.index
    if language:
        wanted = primary(normalise_language(language))
        keep &= queue["languages"].map(lambda v: wanted in {primary(t) for t in str(v).split(";") if t}).to_numpy()
    if area:
        keep &= (queue["area"].str.casefold() == area.strip().casefold()).to_numpy()
    if reason:
        keep &= queue["reason"].str.contains(reason, case=False, regex=False).to_numpy()
    shown = queue[keep]
    if sort == "days_waiting":
        shown = shown.sort_values(["days_waiting", "position"], ascending=[False, True], kind="stable")
    return shown.reset_index(drop=True)


def _day(value) -> str:
    import pandas as pd

    return "" if pd.isna(value) else pd.Timestamp(value).date().isoformat()


def print_queue(queue: pd.DataFrame, total: int, rows: int = HEAD_ROWS) -> None:
    """The head of the queue (the CSV has every column, next check-in included)."""
    table = Table(title=f"Waitlist: {len(queue)} of {total} waiting clients (first {min(rows, len(queue))})",
                  title_justify="left")
    for column, justify in (("pos", "right"), ("client", "left"), ("prio", "right"), ("days", "right"),
                            ("expected", "left"), ("80% range", "left")):
        table.add_column(column, justify=justify, no_wrap=True)
    table.add_column("why they wait", overflow="fold", min_width=16)
    for row in queue.head(rows).itertuples():
        median = _day(row.expected_placement)
        if median:
            span = f"{_day(row.expected_placement_early)}..{_day(row.expected_placement_late)}"
        else:
            median, span = "not expected", "within 5 years (see why)"
        table.add_row(str(row.position), row.client_id, str(row.priority), str(row.days_waiting), median, span,
                      row.reason)
    console.print(table)


def print_reviews(due: pd.DataFrame, due_within: int, graduations_within: int) -> None:
    from planning.reviews import reviews_per_worker

    per = reviews_per_worker(due)
    table = Table(title=f"Reviews per worker (reassessments and check-ins overdue or due within {due_within} "
                        f"days; graduations planned within {graduations_within} days)", title_justify="left")
    for column in ("worker", "reassessments", "check-ins", "overdue", "graduations"):
        table.add_column(column, justify="left" if column == "worker" else "right")
    for row in per.itertuples(index=False):
        table.add_row(row[0] or "(waitlist: coordinator)", *(str(int(v)) for v in row[1:]))
    console.print(table)


def register(app: typer.Typer) -> None:
    @app.command()
    def waitlist(
        data_dir: Annotated[Path | None, typer.Argument(
            help="Folder with clients, workers and optional policy.yaml (not with --db)")] = None,
        out: Annotated[Path | None, typer.Option("--out", help="Folder for waitlist.csv")] = None,
        sort: Annotated[str, typer.Option("--sort", help="position (queue order) or days_waiting "
                                                         "(longest first)")] = "position",
        language: Annotated[str | None, typer.Option("--language", help="Only clients who speak it")] = None,
        area: Annotated[str | None, typer.Option("--area", help="Only clients of this area")] = None,
        reason: Annotated[str | None, typer.Option("--reason", help="Only reasons containing this text")] = None,
        policy: Annotated[Path | None, typer.Option(help="Policy YAML (default: DATA_DIR/policy.yaml)")] = None,
        as_of: Annotated[str | None, typer.Option("--as-of", help="Date of the queue, YYYY-MM-DD (today)")] = None,
        db: Annotated[str | None, typer.Option("--db", help=(
            "Read the store (SQLAlchemy URL or SQLite file) and its latest run"))] = None,
        solve: Annotated[bool, typer.Option("--solve", help="With --db: solve tonight's plan instead of using "
                                                            "the latest run")] = False,
        seed: Annotated[int, typer.Option(help="Random seed (the plan and the dates' Monte Carlo)")] = 0,
        time_limit: Annotated[float | None, typer.Option("--time-limit", help="Solver budget, seconds")] = None,
        replications: Annotated[int, typer.Option("--replications", min=20, max=5000,
                                                  help="Monte Carlo replications for the dates")] = 200,
        rows: Annotated[int, typer.Option("--rows", min=0, help="How many rows of the queue to print")] = HEAD_ROWS,
    ) -> None:
        """The waitlist as a queue: position, why each client waits, expected placement and next check-in."""
        if sort not in SORTS:
            raise fail(f"--sort {sort!r}: must be one of {', '.join(SORTS)}")
        if out is None:
            raise fail("waitlist needs --out OUT_DIR (for waitlist.csv)")
        if language is not None:
            from caseload.languages import UnknownLanguage, normalise_language

            try:
                normalise_language(language)
            except UnknownLanguage as exc:
                raise fail(f"--language {language!r}: {exc}") from None
        agency = _agency("waitlist", data_dir, policy, db, parse_as_of(as_of), solving=True)
        plan, note = (None, "solving tonight's plan") if db is None or solve else _stored_plan(db)
        from planning.waitlist import waitlist as build

        with console.status("Building the queue...") as status:
            queue = build(agency, plan, seed=seed, replications=replications, time_limit_s=time_limit,
                          progress=lambda message: status.update(message))
        shown = filter_queue(queue, sort=sort, language=language, area=area, reason=reason)
        path = out / "waitlist.csv"
        _write_csv(shown, path)
        log.info("waitlist: %d waiting, %d written", len(queue), len(shown))
        console.print(note, highlight=False)
        if rows:
            print_queue(shown, len(queue), rows)
        console.print(f"Wrote {path} ({len(shown)} clients)")

    @app.command()
    def reviews(
        data_dir: Annotated[Path | None, typer.Argument(
            help="Folder with clients, workers and optional policy.yaml (not with --db)")] = None,
        out: Annotated[Path | None, typer.Option("--out", help="Folder for reviews.csv (optional)")] = None,
        policy: Annotated[Path | None, typer.Option(help="Policy YAML (default: DATA_DIR/policy.yaml)")] = None,
        as_of: Annotated[str | None, typer.Option("--as-of", help="Date of the lists, YYYY-MM-DD (today)")] = None,
        db: Annotated[str | None, typer.Option("--db", help="Read the store (SQLAlchemy URL or SQLite file)")] = None,
        due_within: Annotated[int, typer.Option("--due-within", min=0, max=365,
                                                help="Days ahead a reassessment or check-in counts as due")] = 14,
        graduations_within: Annotated[int, typer.Option("--graduations-within", min=0, max=730,
                                                        help="Days ahead for planned graduations")] = 90,
    ) -> None:
        """Reassessments and check-ins due (or overdue) and planned graduations, per worker."""
        from planning.reviews import reviews as build

        agency = _agency("reviews", data_dir, policy, db, parse_as_of(as_of))
        due = build(agency, due_within_days=due_within, graduation_within_days=graduations_within)
        print_reviews(due, due_within, graduations_within)
        if out is not None:
            path = out / "reviews.csv"
            _write_csv(due, path)
            console.print(f"Wrote {path} ({len(due)} rows)")
