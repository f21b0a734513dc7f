"""Run the `caseload` CLI in a subprocess with the stand-in optimizer (see standin.py).

    python tests/store/cli_with_standin.py assign --db sqlite:///x.db

The kill and concurrency tests need a real process to SIGKILL or race, and a plan that does not depend on
the solver; this puts `standin_assign` in place of `optimizer.assign`, then hands over to the real CLI.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import optimizer  # noqa: E402
from tests.store.standin import standin_assign  # noqa: E402

optimizer.assign = standin_assign  # type: ignore[attr-defined]

from caseload.cli import app  # noqa: E402

if __name__ == "__main__":
    app(prog_name="caseload")
