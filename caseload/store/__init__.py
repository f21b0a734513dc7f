"""The store: today's agency and the history of nightly runs, in SQLite (the default) or PostgreSQL.

Modules, by what they hold:
- `models`: the tables (clients, workers, policy, overrides, audit; runs, run_assignments, and each run's
  input).
- `database`: the URL (`--db`, $CASELOAD_DB, else `caseload.db`), engines, Alembic upgrades.
- `lock`: the write lock every run and import takes (one writer at a time; a second refuses or waits).
- `state`: `import_folder`/`import_agency` (all or nothing) and `store_agency` (read today's state).
- `runs`: `run_and_record` (solve and apply in one transaction, or only propose), `approve_run`,
  `compare_runs`, `list_runs`, `get_run`; the move budget over the policy's moves_window_days.
- `overrides`: the coordinator's overrides (`list_overrides`, `add_override`, `remove_override`),
  `set_priority`, and the `audit_trail` of who changed what, when and why.
- `export`: a run written back as data-contract files.
- `convert`: domain types to rows and back, and the input digest.
- `pause`: the documented test hook that pauses a write at a named point (CASELOAD_TEST_PAUSE_AT).

For the app and the simulation, reading today's state is:

    from caseload.store.database import open_engine
    from caseload.store.state import store_agency
    agency = store_agency(open_engine(url, create=False))
"""
