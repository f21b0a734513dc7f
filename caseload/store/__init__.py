"""The store: today's agency and the history of nightly runs, in SQLite (default) or PostgreSQL."""
