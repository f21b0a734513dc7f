"""Solver calls that run side by side, each in a worker process: a native crash or a hang costs that one
call, never the run or the plan found so far.

Why: HiGHS 1.16 aborted the whole process (glibc "free(): invalid pointer", inside nested RENS and RINS
sub-MIPs) when two instances ran branch and cut in two threads of one process at once: seen twice in the
staffing benchmark's nightly assigns at 6,000 clients (`optimizer.mip_search` ran its neighbourhoods in
a thread pool), never in a short rerun. HiGHS shares a global task scheduler between the instances of a
process, and its maintainers have fixed thread-safety faults there more than once (ERGO-Code/HiGHS#3141,
#3305). Worker processes share no native state; a worker that dies is replaced, and one that outlives its
call's time (a solver that stops checking its clock) is killed and replaced.

Workers are started by forkserver (spawn where there is none): forking this process would copy HiGHS'
scheduler without its threads. The pool is kept for the life of the process, so a long-lived app or a
benchmark running many assigns starts its workers once. As with any spawned worker, a script that runs the
optimizer must do so under ``if __name__ == "__main__":`` (the workers import the main script); where it
does not, every call fails (`optimizer.mip_search` then solves its neighbourhoods in this process).
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any

FAILED = "failed"      # the call raised (its worker lives on)
CRASHED = "crashed"    # its worker process died
OVERRAN = "overran"    # it outlived its time; its worker was killed


@dataclass(slots=True)
class Outcome:
    """Each call's result, or None where it failed; ``failures`` names how each failed one failed."""

    results: list[Any]
    failures: dict[int, str] = field(default_factory=dict)


def _start_context() -> multiprocessing.context.BaseContext:
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


class SolverPool:
    """``processes`` worker processes that run one call each at a time and survive each other's failures."""

    def __init__(self, processes: int):
        self.processes = max(1, int(processes))
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(self.processes, mp_context=_start_context())
        return self._pool

    def _discard(self) -> None:
        """Kill every worker (one may hang in native code, which no signal to Python reaches) and forget
        the pool: the next call starts fresh ones."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        for process in list((getattr(pool, "_processes", None) or {}).values()):
            if process.is_alive():
                process.kill()
        pool.shutdown(wait=True, cancel_futures=True)

    def map(self, fn: Callable[..., Any], calls: Sequence[tuple], timeout_s: float) -> Outcome:
        """``fn(*call)`` for each call, side by side, results in the calls' order. A call that raises, whose
        worker dies, or that is still running ``timeout_s`` after the calls were handed out gives None and
        an entry in ``failures``; the others keep their results."""
        outcome = Outcome([None] * len(calls))
        if not calls:
            return outcome
        try:
            futures: list[Future] = [self._executor().submit(fn, *call) for call in calls]
        except BrokenProcessPool:  # a worker died between two maps: start afresh once
            self._discard()
            futures = [self._executor().submit(fn, *call) for call in calls]
        wait(futures, timeout=timeout_s)  # a dead worker fails every unfinished call at once: no wait for those
        broken = False
        for k, future in enumerate(futures):
            if not future.done():
                outcome.failures[k] = OVERRAN
                broken = True
            elif isinstance(future.exception(), BrokenProcessPool):
                outcome.failures[k] = CRASHED
                broken = True
            elif future.exception() is not None:
                outcome.failures[k] = FAILED
            else:
                outcome.results[k] = future.result()
        if broken:
            self._discard()
        return outcome

    def start(self) -> None:
        """Start the workers now, without waiting for them: a caller that knows it will need them soon (the
        nightly assign on a large agency, before its branch and cut rounds) hides their start-up (about a
        second: each imports numpy, scipy and HiGHS) behind its own work."""
        pool = self._executor()
        for _ in range(self.processes):
            pool.submit(int)

    def close(self) -> None:
        self._discard()


_SHARED: dict[int, SolverPool] = {}


def shared_pool(processes: int) -> SolverPool:
    """The process-wide pool of this many workers, started on its first call."""
    processes = max(1, int(processes))
    if processes not in _SHARED:
        _SHARED[processes] = SolverPool(processes)
    return _SHARED[processes]
