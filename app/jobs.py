"""Heavy work (a solve, a simulation) runs once per input and is shared by every rerun of every page.

Streamlit reruns the whole page on each click, so an optimizer run or a simulation must not live in the
page script: it runs on a worker thread of a process-wide `JobStore` keyed by a digest of its inputs.
A rerun (a changed filter, a page switch, a second browser tab) finds the finished result at once, or
attaches to the job still running instead of starting another. The page thread polls the job and draws
the progress bar itself, because library progress callbacks may arrive on solver threads where Streamlit
calls are not allowed.

`st.cache_data` cannot hold these: the progress display lives outside the cached function, and replaying
elements created outside a cached function is refused by Streamlit.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

MAX_RESULTS = 24


@dataclass
class Job:
    """One run of heavy work: its latest progress message and fraction, and the future result."""

    key: str
    future: Future
    started: float = field(default_factory=time.monotonic)
    message: str = ""
    fraction: float | None = None
    partial: Any = None  # a provisional result the page may show while the job still runs

    def report(self, message: str | None = None, fraction: float | None = None) -> None:
        if message is not None:
            self.message = message
        if fraction is not None:
            self.fraction = max(0.0, min(1.0, fraction))

    def offer(self, partial: Any, message: str | None = None) -> None:
        """A provisional result (e.g. a plan whose placements are final while later stages still polish it)."""
        self.partial = partial
        self.report(message)

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started


class JobStore:
    """Results by key (least recently used dropped past `max_results`) and the jobs still running."""

    def __init__(self, max_results: int = MAX_RESULTS, workers: int = 2):
        self._lock = threading.Lock()
        self._results: OrderedDict[str, Any] = OrderedDict()
        self._running: dict[str, Job] = {}
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="caseload-job")
        self.max_results = max_results

    def result(self, key: str) -> Any | None:
        """The finished result for `key`, or None (a finished job's error is raised here, once)."""
        with self._lock:
            if key in self._results:
                self._results.move_to_end(key)
                return self._results[key]
            job = self._running.get(key)
        if job is not None and job.future.done():
            return self._collect(job)
        return None

    def put(self, key: str, value: Any) -> None:
        with self._lock:
            self._results[key] = value
            self._results.move_to_end(key)
            while len(self._results) > self.max_results:
                self._results.popitem(last=False)

    def start(self, key: str, work: Callable[[Job], Any]) -> Job:
        """Start `work(job)` for `key` unless it is already running; the job reports its own progress."""
        with self._lock:
            job = self._running.get(key)
            if job is not None:
                return job
            future: Future = Future()
            job = Job(key, future)
            self._running[key] = job

        def run() -> None:
            try:
                value = work(job)
            except BaseException as exc:  # handed to the page that waits for it
                future.set_exception(exc)
            else:
                self.put(key, value)
                future.set_result(value)

        self._pool.submit(run)
        return job

    def running(self, key: str) -> Job | None:
        with self._lock:
            return self._running.get(key)

    def wait(self, job: Job, show: Callable[[Job], None], poll_s: float = 0.15) -> Any:
        """Block the page until the job ends, calling `show(job)` on the page thread as it goes."""
        while not job.future.done():
            show(job)
            time.sleep(poll_s)
        show(job)
        return self._collect(job)

    def _collect(self, job: Job) -> Any:
        with self._lock:
            if self._running.get(job.key) is job:
                del self._running[job.key]
        return job.future.result()

    def clear(self) -> None:
        with self._lock:
            self._results.clear()
