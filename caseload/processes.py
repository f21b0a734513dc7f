"""Whether this process can start worker processes by spawn or forkserver, which re-import the main script
in each worker. Shared by the simulation's replications and the optimizer's side-by-side solves."""

from __future__ import annotations

import sys
from pathlib import Path


def main_is_importable() -> bool:
    """False from stdin or a REPL (no main script a worker could re-import): callers then work in this process."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if path is not None:
        return Path(path).exists()
    return getattr(main, "__spec__", None) is not None  # python -m package
