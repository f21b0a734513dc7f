"""The Erlang formulas the model is checked against, checked themselves against textbook values."""

from __future__ import annotations

import math

import pytest

from simulation.queueing import erlang_b, erlang_c, mmc_mean_queue, mmc_mean_wait


def erlang_c_direct(c: int, a: float) -> float:
    """The closed form, summed term by term (fine for small c)."""
    top = a**c / math.factorial(c) * c / (c - a)
    return top / (sum(a**k / math.factorial(k) for k in range(c)) + top)


@pytest.mark.parametrize(("c", "a"), [(1, 0.5), (2, 1.0), (5, 4.0), (15, 12.75), (30, 27.0)])
def test_erlang_c_matches_the_closed_form(c: int, a: float) -> None:
    assert erlang_c(c, a) == pytest.approx(erlang_c_direct(c, a), rel=1e-10)


def test_textbook_values() -> None:
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3)
    assert erlang_b(1, 1.0) == pytest.approx(0.5)
    # M/M/1: Wq = rho / (mu - lambda)
    assert mmc_mean_wait(0.8, 1.0, 1) == pytest.approx(0.8 / 0.2)
    assert mmc_mean_queue(0.8, 1.0, 1) == pytest.approx(0.64 / 0.2)


def test_many_servers_are_stable_numerically() -> None:
    assert 0 < erlang_c(2000, 1900.0) < 1


def test_unstable_queue_is_refused() -> None:
    with pytest.raises(ValueError, match="unstable"):
        mmc_mean_wait(15.0, 1.0, 15)
