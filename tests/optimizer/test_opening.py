"""optimizer.opening: optional workers gated by an `open` variable, ordered copies and a budget row, over the
nightly rows (so every nightly rule holds for an opened worker)."""

from __future__ import annotations

import numpy as np

from caseload.domain import NeedLevel
from optimizer.classes import build_classes
from optimizer.eligibility import compute_eligibility, worker_capacity
from optimizer.opening import OpeningModel, Openings
from optimizer.units import ranked, rule_family_one_worker
from tests.optimizer.agencies import agency, client, worker


def _model(clients, workers, optional: list[int], kinds: list[int], costs: list[float]) -> OpeningModel:
    a = agency(clients, workers, max_moves_share=0.0)
    el = compute_eligibility(a)
    cap = worker_capacity(a, el)
    units = rule_family_one_worker(a, el)
    cl = build_classes(a, el, cap, units, ranked(units))
    return OpeningModel(cl, cap, Openings(np.array(optional), np.array(kinds), np.array(costs, dtype=float)))


def _on(model: OpeningModel, values: np.ndarray, j: int) -> int:
    c = model.cl.columns
    return int(values[c.worker == j] @ c.size[c.worker == j])


def test_a_closed_worker_takes_nobody_and_an_opened_one_keeps_the_nightly_capacity():
    clients = [client(f"H{n}", need_level=NeedLevel.HIGH, languages=("ti",)) for n in range(20)]
    model = _model(clients, [worker("W1"), worker("O1", languages=("ti",))], [1], [0], [100.0])
    closed = model.solve(99.0, time_limit_s=5)
    assert (closed.placed, closed.opened.tolist(), closed.cost) == (0, [False], 0.0)
    opened = model.solve(100.0, time_limit_s=5)
    assert opened.opened.tolist() == [True] and opened.cost == 100.0
    assert opened.placed == _on(model, opened.values, 1) == 15  # 15 high-need clients per FTE
    assert opened.bound == 15 and opened.proven


def test_ordered_copies_open_in_order_and_the_budget_row_holds():
    clients = [client(f"H{n}", need_level=NeedLevel.HIGH, languages=("ti",)) for n in range(40)]
    copies = [worker(f"O{n}", languages=("ti",)) for n in range(3)]
    model = _model(clients, [worker("W1"), *copies], [1, 2, 3], [0, 0, 0], [10.0, 10.0, 10.0])
    two = model.solve(25.0, time_limit_s=5)
    assert two.opened.tolist() == [True, True, False]
    assert two.placed == 30 and two.cost == 20.0
    start = model.start_from(np.zeros(model.n_x), np.array([False, False, True]))
    assert start[model.n_x:].tolist() == [1.0, 1.0, 1.0]  # an open copy opens the ones before it


def test_a_family_goes_whole_to_an_opened_worker_or_not_at_all():
    family = [client(f"F{n}", need_level=NeedLevel.HIGH, languages=("ti",), family_id="FAM") for n in range(3)]
    small = worker("O1", languages=("ti",), fte=0.1)  # room for one high-need client, not three
    model = _model(family, [worker("W1"), small], [1], [0], [1.0])
    result = model.solve(1.0, time_limit_s=5)
    assert result.placed == 0


def test_fixed_open_forces_a_worker_open_and_the_plan_never_falls_below_its_start():
    clients = [client(f"L{n}", languages=("ti",)) for n in range(5)]
    model = _model(clients, [worker("W1"), worker("O1", languages=("ti",)), worker("O2", languages=("ti",))],
                   [1, 2], [0, 1], [1.0, 1.0])
    result = model.solve(1.0, fixed_open=np.array([np.nan, 1.0]), time_limit_s=5)
    assert result.opened.tolist() == [False, True] and result.placed == 5
    start = model.start_from(result.values, result.opened)
    again = model.solve(1.0, start=start, fixed_open=np.array([np.nan, 1.0]), time_limit_s=5)
    assert again.placed >= result.placed and again.opened.tolist() == [False, True]


def test_the_lp_bound_holds_for_any_plan_and_follows_the_budget():
    clients = [client(f"H{n}", need_level=NeedLevel.HIGH, languages=("ti",)) for n in range(40)]
    copies = [worker(f"O{n}", languages=("ti",)) for n in range(3)]
    model = _model(clients, [worker("W1"), *copies], [1, 2, 3], [0, 0, 0], [10.0, 10.0, 10.0])
    assert model.lp_bound(25.0) == 37  # 2.5 copies open in the relaxation: 37.5 clients, rounded down
    assert model.lp_bound(25.0) >= model.solve(25.0, time_limit_s=5).placed == 30
    assert model.lp_bound(30.0) == 40
    assert model.lp_bound(30.0, fixed_open=np.array([np.nan, np.nan, 0.0])) == 30  # a closed copy stays closed
    assert model.lp_bound(30.0, fixed_open=np.array([0.0, np.nan, np.nan])) == 0  # ... and the later copies too


def test_fixed_columns_hold_their_values():
    clients = [client(f"L{n}", languages=("ti",)) for n in range(5)]
    model = _model(clients, [worker("W1"), worker("O1", languages=("ti",)), worker("O2", languages=("ti",))],
                   [1, 2], [0, 1], [1.0, 1.0])
    c = model.cl.columns
    fixed = np.where(c.worker == 1, 2.0, np.nan)  # O1 takes exactly two
    result = model.solve(2.0, fixed_columns=fixed, time_limit_s=5)
    assert _on(model, result.values, 1) == 2 and result.placed == 5
