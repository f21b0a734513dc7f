"""optimizer.opening: optional workers gated by an `open` variable, ordered copies and a budget row, over the
nightly rows (so every nightly rule holds for an opened worker)."""

from __future__ import annotations

import numpy as np
import pytest

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


def _random_model(seed: int) -> OpeningModel:
    """A small agency with waiting clients of three languages in two places and optional hires of several
    kinds (two copies each) at different costs: hires compete for the budget and for the clients."""
    rng = np.random.default_rng(seed)
    places = [(45.42, -75.69), (45.50, -73.57)]
    clients = []
    for n in range(int(rng.integers(15, 35))):
        lat, lon = places[int(rng.integers(2))]
        clients.append(client(f"C{n}", languages=(str(rng.choice(["ti", "ar", "so"])),),
                              need_level=NeedLevel.HIGH if rng.random() < 0.5 else NeedLevel.LOW,
                              latitude=lat, longitude=lon))
    workers = [worker("W1", fte=0.3, languages=("ti", "ar"))]
    optional, kinds, costs = [], [], []
    for k in range(4):
        lat, lon = places[k % 2]
        lang = ["ti", "ar", "so", "so"][k]
        fte = float(rng.choice([0.3, 0.5]))
        for copy in range(2):
            optional.append(len(workers))
            kinds.append(k)
            costs.append(float(rng.integers(5, 15)))
            workers.append(worker(f"O{k}-{copy}", fte=fte, languages=(lang,), latitude=lat, longitude=lon,
                                  max_travel_km=30.0))
        costs[-1] = costs[-2]  # copies of a kind cost the same
    return _model(clients, workers, optional, kinds, costs)


@pytest.mark.parametrize("seed", range(6))
def test_the_relaxations_bound_holds_against_the_proven_optimum_and_screening_never_exceeds_it(seed):
    """The bound a large model reports (the relaxation by column generation, its LP kept from budget to budget,
    budgets visited up and down) is never below the optimum proven by branch and cut over every column; a
    solve over the screened columns stays within it, keeps its start, and claims no bound of its own."""
    model = _random_model(seed)
    for budget in (40.0, 10.0, 25.0, 0.0, 60.0):
        best = model.solve(budget, time_limit_s=10, stages=("placements",))
        assert best.status == "Optimal"
        relaxed = model.relaxation(budget, time_limit_s=10)
        assert relaxed.converged and relaxed.bound is not None
        assert relaxed.bound >= best.placed
        start = model.start_from(np.zeros(model.n_x))
        screened = model.solve(budget, start=start, columns=model.screen(relaxed, start), time_limit_s=10,
                               stages=("placements",))
        assert screened.bound is None and screened.placed <= relaxed.bound
        assert model.feasible(model.start_from(screened.values, screened.opened), budget)


def test_screening_keeps_copies_in_order_and_the_starts_hires():
    clients = [client(f"H{n}", need_level=NeedLevel.HIGH, languages=("ti",)) for n in range(40)]
    copies = [worker(f"O{n}", languages=("ti",)) for n in range(3)] + [worker("S1", languages=("so",))]
    model = _model(clients, [worker("W1"), *copies], [1, 2, 3, 4], [0, 0, 0, 1], [10.0, 10.0, 10.0, 10.0])
    relaxed = model.relaxation(15.0, time_limit_s=5)
    assert relaxed.bound == 22  # 1.5 copies open in the relaxation
    keep = model.screen(relaxed, model.start_from(np.zeros(model.n_x), np.array([False, False, True, False])))
    assert keep[model.n_x:].tolist() == [True, True, True, True]  # the start's third copy brings the first two
    kept = model.screen(relaxed)
    assert kept[model.n_x:][:3].tolist() == [True, True, True]  # 1.5 rounded up, and one more
    c = model.cl.columns
    assert kept[:model.n_x][c.worker == 1].all()  # a kept hire comes with every column it has
    result = model.solve(15.0, columns=kept, time_limit_s=5)
    assert result.placed == 15 and result.bound is None


@pytest.mark.parametrize("seed", range(4))
def test_a_wider_screen_holds_the_narrower_one_and_never_places_fewer_from_its_plan(seed):
    """`OpeningModel.screen(widen=n)`: every column of the narrower screen (same relaxation and start) and more
    copies per kind the LP opens; branch and cut from the narrower screen's plan places at least as many."""
    model = _random_model(seed)
    relaxed = model.relaxation(25.0, time_limit_s=10)
    start = model.start_from(np.zeros(model.n_x))
    narrow = model.screen(relaxed, start)
    first = model.solve(25.0, start=start, columns=narrow, time_limit_s=10, stages=("placements",))
    from_plan = model.start_from(first.values, first.opened)
    wider = model.screen(relaxed, from_plan, widen=1)
    assert not np.any(narrow & ~wider)
    assert wider[model.n_x:].sum() >= narrow[model.n_x:].sum()
    again = model.solve(25.0, start=from_plan, columns=wider, time_limit_s=10, stages=("placements",))
    assert again.placed >= first.placed and again.placed <= relaxed.bound
