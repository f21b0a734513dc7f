"""A documented test hook: pause a store write at a named point, so a test can kill or race the process.

Set `CASELOAD_TEST_PAUSE_AT` to one of `PAUSE_POINTS` and `CASELOAD_TEST_PAUSE_MARKER` to a file path.
When the process reaches that point it writes the marker file (the point's name and its pid) and sleeps
while the marker exists, for at most `CASELOAD_TEST_PAUSE_S` seconds (default 300). A test polls for the
marker, then either kills the process (SIGKILL) or deletes the marker to let it go on. Without a marker
path, it just sleeps for `CASELOAD_TEST_PAUSE_S`. With the variables unset (always, in production) each
pause point is a dictionary look-up and nothing else.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

ENV_POINT = "CASELOAD_TEST_PAUSE_AT"
ENV_MARKER = "CASELOAD_TEST_PAUSE_MARKER"
ENV_SECONDS = "CASELOAD_TEST_PAUSE_S"

PAUSE_POINTS = (
    "locked",   # a run holds the store's write lock and has read today's state; nothing solved yet
    "solved",   # the optimizer has returned; nothing written yet
    "applied",  # clients' new workers are written (not committed); the run row is not
    "commit",   # everything is written inside the transaction; COMMIT is next
    "import",   # an import has replaced the current state inside its transaction; COMMIT is next
    "approving",  # an approval has written the proposal's new workers (not committed); the run is still proposed
    "approve",    # an approval has written everything inside its transaction; COMMIT is next
)


def pause_point(name: str) -> None:
    """Pause here if the test hook asks for this point; otherwise return at once."""
    if os.environ.get(ENV_POINT) != name:
        return
    seconds = float(os.environ.get(ENV_SECONDS, "300"))
    marker = os.environ.get(ENV_MARKER)
    deadline = time.monotonic() + seconds
    if not marker:
        time.sleep(seconds)
        return
    path = Path(marker)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(f"{name} {os.getpid()}\n", encoding="utf-8")
    os.replace(tmp, path)  # the marker appears whole: a test never reads half of it
    while path.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
