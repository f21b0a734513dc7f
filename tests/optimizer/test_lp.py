"""The LP relaxation (`optimizer.lp`): its bound holds however column generation stops, each round gets
its own time from HiGHS."""

from __future__ import annotations

import highspy
import numpy as np
import pytest

import optimizer.lp as lp_module
from optimizer.lp import _matrix, lp_relaxation
from tests.optimizer.generate import random_agency
from tests.optimizer.test_mip import _classes


def _full_lp(cl, cap) -> float:
    """The relaxation over every column at once, for comparison (placements, maximised)."""
    matrix, rhs, upper = _matrix(cl, cap, True)
    highs = lp_module._new_highs()
    lp_module._add_rows(highs, rhs)
    c = cl.columns
    lp_module._add_columns(highs, matrix, lp_module.placement_cost(c), upper, np.arange(len(c)))
    highs.run()
    assert highs.getModelStatus() == highspy.HighsModelStatus.kOptimal
    return -highs.getInfo().objective_function_value


@pytest.mark.parametrize("close_enough", [0.0, 0.05])
def test_the_bound_holds_when_column_generation_stops_close_to_the_optimum(monkeypatch, close_enough):
    cap, cl = _classes(random_agency(400, 12, seed=3))
    monkeypatch.setattr(lp_module, "START_PER_CLASS", 1)
    monkeypatch.setattr(lp_module, "ADD_PER_ROUND", 50)
    monkeypatch.setattr(lp_module, "CLOSE_ENOUGH", close_enough)
    relaxation = lp_relaxation(cl, cap, time_limit_s=60)
    optimum = _full_lp(cl, cap)
    assert relaxation.objective >= optimum - 1e-6
    if close_enough == 0.0:
        assert relaxation.converged and relaxation.objective == pytest.approx(optimum, abs=1e-6)


def test_each_round_of_column_generation_gets_its_own_time(monkeypatch):
    """HiGHS counts its time limit over every run of one instance: a round that set only the time left
    would be stopped at once after earlier rounds used more than that."""
    limits: list[tuple[float, float]] = []
    real = lp_module._new_highs

    class Clocked:
        def __init__(self):
            self.highs = real()

        def getRunTime(self):  # noqa: N802 (HiGHS' name)
            return self.highs.getRunTime() + 1000.0  # as if earlier runs had used 1,000 s

        def setOptionValue(self, name, value):  # noqa: N802
            if name == "time_limit":
                limits.append((value, self.getRunTime()))
            return self.highs.setOptionValue(name, value)

        def __getattr__(self, name):
            return getattr(self.highs, name)

    monkeypatch.setattr(lp_module, "_new_highs", Clocked)
    monkeypatch.setattr(lp_module, "START_PER_CLASS", 1)
    monkeypatch.setattr(lp_module, "ADD_PER_ROUND", 20)
    monkeypatch.setattr(lp_module, "CLOSE_ENOUGH", 0.0)
    cap, cl = _classes(random_agency(400, 12, seed=3))
    lp_relaxation(cl, cap, time_limit_s=30)
    assert len(limits) >= 2
    assert all(limit >= used + 1.0 for limit, used in limits)
