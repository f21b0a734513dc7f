"""The job store: one run per input however many reruns ask, errors handed to the page, bounded memory."""

from __future__ import annotations

import threading

import pytest

from app.jobs import JobStore


def test_a_second_request_joins_the_running_job_instead_of_starting_another():
    store = JobStore()
    release = threading.Event()
    calls = []

    def work(job):
        calls.append(1)
        job.report("half way", 0.5)
        release.wait(10)
        return 42

    first = store.start("k", work)
    second = store.start("k", work)
    assert first is second
    seen = []
    release.set()
    assert store.wait(first, lambda j: seen.append((j.message, j.fraction))) == 42
    assert calls == [1]
    assert store.result("k") == 42 and store.running("k") is None
    assert seen[-1] == ("half way", 0.5)


def test_a_failed_job_raises_on_the_page_and_is_not_cached():
    store = JobStore()

    def work(job):
        raise ValueError("bad input")

    job = store.start("k", work)
    with pytest.raises(ValueError, match="bad input"):
        store.wait(job, lambda j: None)
    assert store.result("k") is None and store.running("k") is None


def test_oldest_results_are_dropped_past_the_limit():
    store = JobStore(max_results=2)
    for key in "abc":
        store.put(key, key.upper())
    assert store.result("a") is None
    assert (store.result("b"), store.result("c")) == ("B", "C")
