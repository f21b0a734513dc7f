"""One writer at a time: the store's write lock, taken by every run and every import.

A run reads today's state, solves, and writes the plan back in ONE transaction that holds the lock from
its first statement to its COMMIT, so no import or other run can change the state between the read and
the write (which would leave a mixed result), and a process killed at any moment leaves nothing behind:
the database rolls the transaction back and the lock goes with it.

- PostgreSQL: a transaction-level advisory lock, `pg_try_advisory_xact_lock`, polled until the wait ends.
  It is released by COMMIT, ROLLBACK, or the server noticing that the client is gone.
- SQLite: `BEGIN IMMEDIATE`, which takes the database's write lock (readers carry on), with SQLite's busy
  timeout as the wait. The operating system drops the file lock when the process dies; the next opener
  rolls back the left-over journal.

A second writer that cannot get the lock within `wait_s` gets `StoreBusy`, a clear message, and exit
status 2 from the CLI; it never runs on a state that another writer is changing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from caseload.store.database import StoreError

PG_WRITE_KEY = 0x6361_7365_6C6F_6D02  # "caselom" + 2: the write lock (01 is the schema-upgrade lock)
POLL_S = 0.2


class StoreBusy(StoreError):
    """Another run or import holds the store's write lock."""

    def __init__(self, wait_s: float):
        waited = f" after waiting {wait_s:g} s" if wait_s > 0 else ""
        super().__init__(
            "another caseload run or import is writing to this store" + waited + "; nothing was changed. "
            "Try again when it has finished, or pass --wait SECONDS to wait for it."
        )


def _begin(engine: Engine, wait_s: float) -> Session | None:
    """A session in a transaction that holds the lock, or None when the lock stayed taken for `wait_s`."""
    session = Session(engine, expire_on_commit=False)
    try:
        connection = session.connection(
            execution_options={"caseload_write": True, "caseload_wait_ms": int(max(wait_s, 0) * 1000)}
        )
        if connection.dialect.name == "postgresql":
            # A run solves inside its transaction: a server-wide idle timeout must not end it half-way.
            connection.execute(text("SET LOCAL idle_in_transaction_session_timeout = 0"))
            deadline = time.monotonic() + max(wait_s, 0)
            while not connection.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": PG_WRITE_KEY}):
                if time.monotonic() >= deadline:
                    session.close()
                    return None
                time.sleep(POLL_S)
    except OperationalError as exc:
        session.close()
        message = str(exc.orig).lower()
        if "locked" in message or "busy" in message:
            return None
        raise
    except BaseException:
        session.close()
        raise
    return session


@contextmanager
def write_session(engine: Engine, wait_s: float = 0.0,
                  on_wait: Callable[[], None] | None = None) -> Iterator[Session]:
    """A session whose transaction holds the store's write lock; commit inside, or everything rolls back.

    When the lock is taken, `on_wait` is called once (the CLI says "waiting for ...") and the lock is
    waited for up to `wait_s` seconds; then `StoreBusy`.
    """
    session = _begin(engine, 0)
    if session is None:
        if wait_s <= 0:
            raise StoreBusy(0)
        if on_wait is not None:
            on_wait()
        session = _begin(engine, wait_s)
        if session is None:
            raise StoreBusy(wait_s)
    try:
        yield session
    finally:
        session.close()  # rolls back whatever was not committed, which releases the lock
