"""The lexicographic objective as sequential CP-SAT solves, one stage per part, in strict order.

Each stage optimises one part of the objective with every earlier part held at the value the earlier
stage reached (``>=`` for a maximised part, ``<=`` for a minimised one), starting from the previous
stage's solution as a hint. Stage 1 optimises the number of placements alone, so its best bound is a
proven upper bound on placements (for the model). Later stages can only keep or improve what the
earlier ones reached.

Each stage stops as soon as more time buys nothing (the time limit is a ceiling, not a target), and
records why (`StageResult.stop`):

- ``optimal``: CP-SAT proved the stage's optimum;
- ``gap``: a stage after placements is within ``gap`` (the policy's ``stage_gap``, default 0.5%) of its
  proven bound (CP-SAT's ``relative_gap_limit``); the placement stage gets no gap;
- ``stalled``: a slice of deterministic time (`stall_period`, scaling with the model's size) found
  nothing better. The stage runs as slices, each a fresh solve hinted with the best plan so far, and
  stops at the first slice without a gain (measured on the 480-client sample: every stage after
  placements finds its last gain within 0.3 of deterministic time, or not at all, and then ran on for
  2.4-7 of it: 30 s of the 45 s run);
- ``budget``: the stage's deterministic-time budget (its share of the time limit) is spent;
- ``time``: the wall-clock ceiling cut it.

Determinism: the search is deterministic for a seed (see `configure`); the slices and the budget are
counted in deterministic time (``max_deterministic_time``) with the wall-clock budget as a safety net.
Two runs with the same seed give the same plan unless the wall-clock safety net cuts a stage short.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from ortools.sat.python import cp_model

from optimizer.eligibility import WorkerCapacity
from optimizer.model import AssignmentModel

# Share of the time budget per stage; time a stage leaves unused passes to the next ones.
STAGE_SHARE = {
    "placements": 0.35, "priority_and_wait": 0.15, "moves": 0.1, "preferred_language": 0.1,
    "needs_matched": 0.1, "travel": 0.1, "load_spread": 0.1,
}
# CP-SAT's deterministic time per wall-clock second of budget, measured on this model (about 0.3-0.4 on
# an idle 2-core machine): the deterministic limit binds on a normal machine (reproducible plans), the
# wall-clock limit on a slow or busy one (bounded time).
DETERMINISTIC_PER_SECOND = 0.3


STALL_PER_VARIABLE = 5e-5   # a stage's stall period: this much deterministic time per model variable,
MIN_STALL = 0.05            # at least this, at most MAX_STALL. Measured (the same plan and objective parts
MAX_STALL = 10.0            # with 4e-4 / 0.3, 1.5e-4 / 0.1 and this; 0.01 loses a needs match on the sample):
                            # the 480-client sample's six stages 6.0 s -> 0.9 s, 1,000 clients 21.1 s -> 2.6 s
STOPS = ("optimal", "gap", "stalled", "budget", "time")


def stall_period(n_variables: int) -> float:
    """Deterministic time a stage may go without a better solution before it stops: larger models need
    longer for one improving move (their LP and propagation cost more per decision)."""
    return float(min(MAX_STALL, max(MIN_STALL, STALL_PER_VARIABLE * n_variables)))


INTERLEAVE_FROM_VARIABLES = 1500  # smaller models: the single LP-guided worker proves optimality sooner


def configure(p, *, seed: int, num_workers: int, budget_s: float, n_variables: int = INTERLEAVE_FROM_VARIABLES) -> None:
    """Solver parameters for one stage.

    The search is CP-SAT's interleaved portfolio (``interleave_search``) over ``num_workers`` subsolvers,
    which is deterministic for a seed; on small models (or with one worker) it is the single LP-guided
    search, also deterministic. Measured on a 6,000-client agency's first stage (restricted model, 20 s):
    interleaved with 2 workers 549 placements (model bound 554), single worker 545 (bound 570),
    CP-SAT's free-running 2-worker portfolio 532; on the 480-client sample, the single worker proves each
    stage optimal in 0.01-0.4 s where the interleaved search takes 1-2.5 s.
    Presolve is kept light: its probing and symmetry detection cost more than they save on these flat
    assignment models.
    """
    p.random_seed = seed
    if num_workers > 1 and n_variables >= INTERLEAVE_FROM_VARIABLES:
        p.num_workers = num_workers
        p.interleave_search = True
    else:
        p.num_workers = 1
    p.max_deterministic_time = max(0.01, budget_s * DETERMINISTIC_PER_SECOND)
    p.max_time_in_seconds = max(0.05, budget_s)
    p.max_presolve_iterations = 1
    p.cp_model_probing_level = 0
    p.symmetry_level = 0


@dataclass(slots=True)
class StageResult:
    """One stage (or placement phase, ``kind`` "placements") of a run: its solver status, value and bound,
    why it stopped (one of STOPS, or "held": its value was settled before it) and the time it took."""

    name: str
    status: str
    value: int | None
    bound: float | None
    wall_time_s: float
    stop: str = ""
    deterministic_time: float | None = None
    started_s: float | None = None   # seconds since the run began (set by `optimizer.solve`)
    kind: str = "stage"

    def as_dict(self) -> dict:
        out = {"name": self.name, "status": self.status, "value": self.value, "bound": self.bound,
               "wall_time_s": round(self.wall_time_s, 3), "stop": self.stop, "kind": self.kind}
        if self.deterministic_time is not None:
            out["deterministic_time"] = round(self.deterministic_time, 3)
        if self.started_s is not None:
            out["started_s"] = round(self.started_s, 3)
        return out


class StageRunner:
    """Runs the stages on one model, keeping the best solution as a flat array of variable values."""

    def __init__(self, am: AssignmentModel, cap: WorkerCapacity, *, seed: int, num_workers: int,
                 time_limit_s: float, progress: Callable[[str], None] | None = None, gap: float = 0.0,
                 origin: float | None = None):
        self.am = am
        self.origin = time.monotonic() if origin is None else origin  # results' started_s count from here
        self.gap = gap  # relative gap at which a stage after placements stops
        self.cap = cap
        self.seed = seed
        self.num_workers = max(1, num_workers)
        self.deadline = time.monotonic() + time_limit_s
        self.time_limit_s = time_limit_s
        self.progress = progress or (lambda _message: None)
        self.values: np.ndarray | None = None
        self.results: list[StageResult] = []

    def value(self, var: cp_model.IntVar) -> int:
        assert self.values is not None
        return int(self.values[var.index])

    def evaluate(self, expr: cp_model.LinearExprT) -> int:
        """Value of a linear expression under the current solution."""
        assert self.values is not None
        coeffs: dict[int, int] = {}
        offset = _collect(expr, coeffs)
        return offset + sum(c * int(self.values[i]) for i, c in coeffs.items())

    def hint(self, values: np.ndarray) -> None:
        model = self.am.model
        model.clear_hints()
        n = len(model.proto.variables)
        for index in range(min(n, len(values))):
            model.add_hint(model.get_int_var_from_proto_index(index), int(values[index]))

    def require(self, name: str, value: int) -> None:
        """Hold objective part ``name`` at ``value`` or better (reached before this model existed)."""
        sense, expr = self.am.objectives[name]
        self.am.model.add(expr >= value if sense == "max" else expr <= value)

    def run(self, hint: np.ndarray | None, only: tuple[str, ...] | None = None) -> None:
        """Run the stages in order (``only``: just these), each holding what the earlier ones reached."""
        names = [name for name in STAGE_SHARE if name in self.am.objectives or name == "load_spread"]
        if only is not None:
            names = [name for name in names if name in only]
        if hint is not None:
            self.values = hint
        for n, name in enumerate(names):
            remaining = self.deadline - time.monotonic()
            share = STAGE_SHARE[name] / sum(STAGE_SHARE[s] for s in names[n:])
            budget = max(0.05, remaining * share)
            self.progress(f"stage {n + 1}/{len(names)}: {name.replace('_', ' ')}")
            if name == "load_spread":
                sense, expr = "min", self._spread_expression()
                if expr is None:
                    continue
            else:
                sense, expr = self.am.objectives[name]
            if self._constant(expr):
                continue
            ok = self._solve(name, sense, expr, budget, gap=0.0 if name == "placements" else self.gap)
            if not ok and self.values is None:
                return  # no solution at all: nothing to build on
            if ok:
                self._hold(sense, expr)

    def _constant(self, expr: cp_model.LinearExprT) -> bool:
        if isinstance(expr, int):
            return True
        coeffs: dict[int, int] = {}
        _collect(expr, coeffs)
        return not any(coeffs.values())

    def _solve(self, name: str, sense: str, expr: cp_model.LinearExprT, budget: float, gap: float = 0.0) -> bool:
        """One stage, as slices of deterministic time from the best plan so far (see the module docstring);
        records its result and keeps its best solution. False when no solution was found."""
        model = self.am.model
        if sense == "max":
            model.maximize(expr)
        else:
            model.minimize(expr)
        n_variables = len(model.proto.variables)
        stall = stall_period(n_variables)
        total = max(0.01, budget * DETERMINISTIC_PER_SECOND)
        start = time.monotonic()
        deadline = start + max(0.05, budget)
        better = (lambda a, b: a > b) if sense == "max" else (lambda a, b: a < b)
        best = self.evaluate(expr) if self.values is not None else None
        bound: float | None = None
        spent = 0.0
        status_name, stop, found_any = "UNKNOWN", "", False
        while not stop:
            if self.values is not None:
                self.hint(self.values)
            solver = cp_model.CpSolver()
            configure(solver.parameters, seed=self.seed, num_workers=self.num_workers, budget_s=budget,
                      n_variables=n_variables)
            solver.parameters.max_deterministic_time = max(0.01, min(stall, total - spent))
            solver.parameters.max_time_in_seconds = max(0.05, deadline - time.monotonic())
            solver.parameters.relative_gap_limit = gap
            status = solver.solve(model)
            spent += solver.deterministic_time
            status_name = solver.status_name(status)
            if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
                stop = "infeasible" if status in (cp_model.INFEASIBLE, cp_model.MODEL_INVALID) else \
                    ("time" if time.monotonic() >= deadline else "stalled")
                break
            value = int(round(solver.objective_value))
            slice_bound = float(solver.best_objective_bound)
            bound = slice_bound if bound is None else (min if sense == "max" else max)(bound, slice_bound)
            improved = best is None or better(value, best)
            if improved or not found_any:  # the first slice's plan is taken whole (the hint may not be)
                self.values = np.array(solver.response_proto.solution, dtype=np.int64)
                best = value
            found_any = True
            if abs(best - bound) < 1.0 - 1e-9:  # an integer objective within less than one of its bound
                stop = "optimal"
            elif status == cp_model.OPTIMAL or abs(best - bound) <= gap * max(1.0, abs(best)):
                stop = "gap"  # CP-SAT reports OPTIMAL when it stops at relative_gap_limit
            elif time.monotonic() >= deadline - 1e-3:
                stop = "time"
            elif spent >= total - 1e-6:
                stop = "budget"
            elif not improved:
                stop = "stalled"
        wall = time.monotonic() - start
        if not found_any:
            self.results.append(StageResult(name, status_name, None, None, wall, stop, spent, start - self.origin))
            return False
        self.results.append(StageResult(name, "OPTIMAL" if stop == "optimal" else "FEASIBLE", best, bound, wall,
                                        stop, spent, start - self.origin))
        return True

    def _hold(self, sense: str, expr: cp_model.LinearExprT) -> None:
        reached = self.evaluate(expr)
        if sense == "max":
            self.am.model.add(expr >= reached)
        else:
            self.am.model.add(expr <= reached)

    def _spread_expression(self) -> cp_model.LinearExprT | None:
        """Sum over workers of |utilisation - mean utilisation|, in thousandths, for the current loads."""
        terms = self.am.spread_terms
        if len(terms) < 2 or self.values is None:
            return None
        cap = self.cap
        loads = {j: self.evaluate(load) for j, load in terms}
        total_fte_load = sum(loads[j] / cap.scale[j] for j, _ in terms)
        total_target = sum(cap.capacity[j] / cap.scale[j] for j, _ in terms)
        mean = int(round(1000 * total_fte_load / max(total_target, 1e-9)))
        devs = []
        model = self.am.model
        for j, load in terms:
            c = int(cap.capacity[j])
            if c <= 0:
                continue
            dev = model.new_int_var(0, 1_000_000, f"dev{j}")
            model.add(c * dev >= 1000 * load - mean * c)
            model.add(c * dev >= mean * c - 1000 * load)
            devs.append(dev)
        if self.values is not None:
            # extend the solution with the new deviation variables so the next hint stays complete
            extra = len(model.proto.variables) - len(self.values)
            if extra > 0:
                self.values = np.concatenate([self.values, np.zeros(extra, dtype=np.int64)])
                for dev, (j, _) in zip(devs, [t for t in terms if cap.capacity[t[0]] > 0], strict=True):
                    c = int(cap.capacity[j])
                    self.values[dev.index] = -(-abs(1000 * loads[j] - mean * c) // c)
        return cp_model.LinearExpr.sum(devs)


def _collect(expr: cp_model.LinearExprT, coeffs: dict[int, int]) -> int:
    """Flatten a linear expression into {variable index: coefficient}; returns the constant offset."""
    if isinstance(expr, int | np.integer):
        return int(expr)
    flat = cp_model.FlatIntExpr(expr)
    for var, coeff in zip(flat.vars, flat.coeffs, strict=True):
        coeffs[var.index] = coeffs.get(var.index, 0) + int(coeff)
    return int(flat.offset)
