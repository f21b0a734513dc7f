"""`caseload overrides list|add|remove --db URL`: the coordinator's overrides in the store, from the shell.

The same calls the app's Waitlist page makes (`caseload.store.overrides`): an override is validated like any
input against the store's clients and workers and against the optimizer's rules and capacity (exit 2 with
the error table, nothing stored), and every change goes into the audit trail with the user and the reason.
"""

from __future__ import annotations

from datetime import date
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
    shown_url,
)
from caseload.domain import Override, OverrideAction
from caseload.validation import ValidationFailed


def _date(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise fail(f"{option} {text!r}: must be a date written YYYY-MM-DD") from None


def register(app: typer.Typer) -> None:
    overrides_app = typer.Typer(help="The coordinator's overrides (pin, forbid, hold, keep) in the store.",
                                no_args_is_help=True)
    app.add_typer(overrides_app, name="overrides")

    @overrides_app.command("list")
    def list_(
        db: Annotated[str | None, typer.Option("--db", help=DB_HELP)] = None,
        all_: Annotated[bool, typer.Option("--all", help="Also the lapsed ones (past their until date)")] = False,
    ) -> None:
        """The overrides in force, oldest first."""
        from caseload.store.overrides import list_overrides

        engine = open_store(db, create=False)
        try:
            stored = list_overrides(engine, include_lapsed=all_)
        finally:
            engine.dispose()
        if not stored:
            console.print(f"No override in force in {shown_url(engine)}.")
            return
        typer.echo(f"{'id':>4}  {'client':<14} {'action':<7} {'worker':<12} {'until':<10}  {'set by':<14} "
                   f"{'set at (UTC)':<16}  reason")
        for s in stored:
            typer.echo(f"{s.override_id:>4}  {s.client_id:<14} {s.action:<7} {s.worker_id or '':<12} "
                       f"{s.until.isoformat() if s.until else '':<10}  {s.set_by or '':<14} "
                       f"{s.set_at:%Y-%m-%d %H:%M}  {s.reason}")

    @overrides_app.command("add")
    def add(
        client_id: Annotated[str, typer.Argument(help="A waiting or active client")],
        action: Annotated[OverrideAction, typer.Argument(help="pin, forbid, hold or keep")],
        reason: Annotated[str, typer.Option("--reason", help="Why, in your words (required; shown in the plan)")],
        worker: Annotated[str | None, typer.Option("--worker", help="The worker, for pin and forbid")] = None,
        until: Annotated[str | None, typer.Option("--until", help="Last day it applies, YYYY-MM-DD")] = None,
        db: Annotated[str | None, typer.Option("--db", help=DB_HELP)] = None,
        user: Annotated[str | None, typer.Option("--user", help=USER_HELP)] = None,
        wait: Annotated[float, typer.Option("--wait", help=WAIT_HELP)] = 0.0,
    ) -> None:
        """Add an override; it applies from the next run."""
        from caseload.store.database import StoreError
        from caseload.store.overrides import add_override
        from optimizer.overrides import check_overrides

        who = current_user(user)
        override = Override(client_id=client_id, action=action, reason=reason, worker_id=worker, set_by=who,
                            until=_date(until, "--until"))
        engine = open_store(db, create=False)
        try:
            override_id = add_override(engine, override, user=who, check=check_overrides, wait_s=wait)
        except ValidationFailed as failure:
            print_errors(failure)
            raise typer.Exit(USER_ERROR) from None
        except StoreError as exc:
            raise fail(str(exc)) from None
        finally:
            engine.dispose()
        console.print(f"Override {override_id} saved ({action.value} {client_id}); it applies from the next run.")

    @overrides_app.command("remove")
    def remove(
        override_id: Annotated[int, typer.Argument(help="An id from `caseload overrides list`")],
        reason: Annotated[str, typer.Option("--reason", help="Why it is removed (required)")],
        db: Annotated[str | None, typer.Option("--db", help=DB_HELP)] = None,
        user: Annotated[str | None, typer.Option("--user", help=USER_HELP)] = None,
        wait: Annotated[float, typer.Option("--wait", help=WAIT_HELP)] = 0.0,
    ) -> None:
        """Remove an override from the next run on (the audit trail keeps it)."""
        from caseload.store.database import StoreError
        from caseload.store.overrides import remove_override

        engine = open_store(db, create=False)
        try:
            remove_override(engine, override_id, user=current_user(user), reason=reason, wait_s=wait)
        except ValidationFailed as failure:
            print_errors(failure)
            raise typer.Exit(USER_ERROR) from None
        except StoreError as exc:
            raise fail(str(exc)) from None
        finally:
            engine.dispose()
        console.print(f"Override {override_id} removed; it stops applying from the next run.")

    @overrides_app.command("audit")
    def audit(
        db: Annotated[str | None, typer.Option("--db", help=DB_HELP)] = None,
        limit: Annotated[int, typer.Option(help="Show at most this many entries (0: all)")] = 50,
    ) -> None:
        """The audit trail: who changed which override, priority or approval, when and why (newest first)."""
        from caseload.store.overrides import audit_trail

        engine = open_store(db, create=False)
        try:
            entries = audit_trail(engine, limit or None)
        finally:
            engine.dispose()
        for e in entries:
            typer.echo(f"{e.at:%Y-%m-%d %H:%M}  {e.user:<14} {e.action:<18} {e.client_id:<14} {e.detail}"
                       + (f"  ({e.reason})" if e.reason else ""))
