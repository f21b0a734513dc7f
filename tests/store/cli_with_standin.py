"""Run the `caseload` CLI in a subprocess with the stand-in optimizer (see standin.py).

    python tests/store/cli_with_standin.py assign --db sqlite:///x.db

The kill and concurrency tests need a real process to SIGKILL or race, and a plan that does not depend on
the solver; this puts `standin_assign` in place of `optimizer.assign`, then hands over to the real CLI.
"""

from __future__ import annotations

import sys
import types
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.store.standin import standin_assign  # noqa: E402

# Only the name the CLI imports (`from optimizer import assign`), so the subprocess does not load OR-Tools.
stand_in = types.ModuleType("optimizer", "the stand-in of tests/store/standin.py")
stand_in.assign = standin_assign  # type: ignore[attr-defined]
sys.modules["optimizer"] = stand_in

from caseload.cli import app  # noqa: E402

if __name__ == "__main__":
    app(prog_name="caseload")
