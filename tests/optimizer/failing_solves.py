"""Solver stand-ins that fail the way native code can, for `optimizer.isolated`'s worker processes (which
import them by name, so they live in a module of their own)."""

from __future__ import annotations

import os
import time


def die(*_args: object) -> None:
    """A worker that dies mid-call, as HiGHS' abort did."""
    os._exit(70)


def hang(*_args: object) -> None:
    """A call that never returns (a solver that stopped checking its clock)."""
    time.sleep(3600)


def pid_plus(value: int) -> tuple[int, int]:
    """Which worker ran the call, and a result to check."""
    return os.getpid(), value + 1
