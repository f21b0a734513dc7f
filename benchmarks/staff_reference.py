"""An independent reference optimum for the staffing planner: hires and placements in one HiGHS MIP.

Why a second model: the planner (`planning.staffing`, over `optimizer.opening`) builds its bound from the
same code as its plan; a mistake in how it opens a hire, prices it or counts its capacity would move both
together. This model reads the data contract afresh: the per-pair rules come from `scenarios.rules` (as in
`benchmarks/reference_mip.py`, whose family units, exact integer capacities and knapsack-hull facets it
reuses), nothing from `optimizer` or `planning`.

The question, as this module reads the issue: tonight, with existing clients kept where they are (no
moves, as the planner promises), which hires within the budget let the most waiting clients be placed?

* a unit is a family (one worker serves all of it; placed whole or not at all) or a single client; waiting
  members of a family with an active member may only join that member's worker;
* a unit goes to a worker who may serve every member (`scenarios.rules`), who is available and not over
  target; intake pacing (`max_new_per_week`, less last week's intakes) holds for today's workers;
* a hire is one copy of a candidate (`Candidate.hire(n)`); copy n may open only if copy n-1 did; an open
  copy takes units within its own targets, a closed one none; the open copies' yearly cost is within the
  budget; a candidate's `max_hires` caps its copies;
* every worker ends within `high/high_ratio + low/low_ratio <= fte`, in exact integers, with the facets of
  the integer hull of its room (a tighter LP, the same integer points).

Identical units are aggregated (same make-up, same eligible workers and candidates) into integer types:
exact, and free of the symmetry between interchangeable clients. Hire copies are kept apart (each packs
its own caseload), which keeps the model exact where a "hires x capacity" row would not be.

Objective: waiting clients placed (the planner's first objective). The cost of the reference's hires is
reported but not minimised.

The simple rule a manager follows without the planner is `planning.simple_rule.simple_rule_hires` (the
planner offers its hires as one of its starts, so it lives with the product).
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta

import highspy
import numpy as np

from benchmarks.reference_mip import _scaled_capacity, _units, knapsack_hull
from caseload.domain import Agency, Candidate, NeedLevel, Status, Worker
from scenarios.rules import eligible_workers


@dataclass
class StaffReference:
    """The reference's answer for one budget."""

    status: str  # "optimal", "time limit" or HiGHS's status text
    placed: int | None  # waiting clients placed in the best solution found
    bound: float  # proven upper bound on waiting clients placed
    hires: dict[str, int]  # candidate_id -> hires in the best solution
    cost: float  # yearly cost of those hires
    wall_time_s: float
    build_time_s: float
    n_types: int = 0
    n_copies: int = 0
    n_vars: int = 0
    n_rows: int = 0
    assignments: dict[str, str | None] = field(default_factory=dict)  # waiting client_id -> worker_id (None)

    @property
    def optimal(self) -> bool:
        return self.status == "optimal"

    @property
    def gap(self) -> float:
        if self.placed is None:
            return 1.0
        return (self.bound - self.placed) / self.bound if self.bound > 0 else 0.0


def _useful_copies(loads: np.ndarray, capacity: int) -> int:
    """How many hires of one kind could be busy at most: all the load it may take over one hire's room."""
    return int(math.ceil(float(loads.sum()) / capacity - 1e-9)) if capacity > 0 else 0


def solve_staffing_reference(agency: Agency, candidates: Sequence[Candidate], budget: float, *,
                             time_limit_s: float | None = 600.0, threads: int = 2,
                             progress: Callable[[str], None] | None = None,
                             verbose: bool = False) -> StaffReference:
    """Build and solve the hires-and-placements MIP for `budget`; the best count, its bound and the hires."""
    say = progress or (lambda _message: None)
    t0 = time.perf_counter()
    policy = agency.policy
    clients = [c for c in agency.clients if c.status in (Status.WAITING, Status.ACTIVE)]
    workers = list(agency.workers)
    m = len(workers)
    index = {w.worker_id: j for j, w in enumerate(workers)}
    probes = [c.hire(1) for c in candidates]
    all_workers = workers + probes
    eligible = eligible_workers(clients, all_workers)
    cap, high_w, low_w = _scaled_capacity(all_workers, agency)
    is_high = np.array([c.need_level == NeedLevel.HIGH for c in clients], dtype=bool)
    is_waiting = np.array([c.status == Status.WAITING for c in clients], dtype=bool)
    available = np.array([w.available for w in all_workers], dtype=bool)

    # Today's load (every active client), who may take anyone new, intake pacing.
    current_load = np.zeros(m, dtype=np.int64)
    for i, c in enumerate(clients):
        if c.status == Status.ACTIVE and c.worker_id in index:
            j = index[c.worker_id]
            current_load[j] += high_w[j] if is_high[i] else low_w[j]
    accepts_new = available[:m] & (current_load <= cap[:m])
    since = agency.as_of - timedelta(days=7)
    recent: dict[int, int] = defaultdict(int)
    for c in clients:
        if (c.status == Status.ACTIVE and c.worker_id in index and c.intake_date is not None
                and since < c.intake_date <= agency.as_of):
            recent[index[c.worker_id]] += 1
    allowance = np.array([-1 if w.max_new_per_week is None else max(0, w.max_new_per_week - recent[j])
                          for j, w in enumerate(workers)], dtype=np.int64)

    # Units: active ones stay (a forced one, whose worker may no longer serve it, leaves and is not counted:
    # the reference places waiting clients only); waiting ones, and waiting members joining their family's worker.
    base = np.zeros(m, dtype=np.int64)  # load that stays with each of today's workers
    types: dict[tuple, list[list[int]]] = defaultdict(list)
    keep_on_leave = policy.keep_on_leave
    for unit in _units(clients, index):
        waiting = [i for i in unit.members if is_waiting[i]]
        active = [i for i in unit.members if not is_waiting[i]]
        j0 = unit.current
        if j0 >= 0:
            stays = all(j0 in set(eligible[i].tolist()) for i in active) and (available[j0] or keep_on_leave)
            if stays:
                base[j0] += sum(int(high_w[j0] if is_high[i] else low_w[j0]) for i in active)
        if not waiting:
            continue
        common = eligible[waiting[0]]
        for i in waiting[1:]:
            common = np.intersect1d(common, eligible[i], assume_unique=True)
        if j0 >= 0:  # waiting members of a served family join its worker, or wait
            options = [j0] if (j0 in set(common.tolist()) and accepts_new[j0]) else []
            hire_options: list[int] = []
        else:
            options = [int(j) for j in common if j < m and accepts_new[j]]
            hire_options = [int(j) - m for j in common if j >= m]
        n_high = int(is_high[waiting].sum())
        key = (tuple(options), tuple(hire_options), n_high, len(waiting) - n_high)
        types[key].append(waiting)
    type_keys = [k for k in types if k[0] or k[1]]

    # Hire copies per candidate: within max_hires, the budget, and the load it could take at all.
    costs = [float(c.cost(policy)) for c in candidates]
    copies = []
    for k, c in enumerate(candidates):
        loads = np.array([len(types[t]) * (t[2] * high_w[m + k] + t[3] * low_w[m + k])
                          for t in type_keys if k in t[1]], dtype=float)
        n = _useful_copies(loads, int(cap[m + k])) if available[m + k] else 0
        if c.max_hires is not None:
            n = min(n, c.max_hires)
        if costs[k] > 0:
            n = min(n, int(math.floor(budget / costs[k] + 1e-9)))
        copies.append(max(0, n))
    copy_kind = [k for k, n in enumerate(copies) for _ in range(n)]
    copy_rank = [r for n in copies for r in range(n)]
    copies_of: dict[int, list[int]] = defaultdict(list)
    for q, k in enumerate(copy_kind):
        copies_of[k].append(q)
    n_copies = len(copy_kind)

    # Columns: x[type, worker or copy] (units of the type placed there), then open[copy].
    col_type: list[int] = []
    col_target: list[int] = []  # 0..m-1 today's workers, m + q hire copy q
    for t, key in enumerate(type_keys):
        for j in key[0]:
            col_type.append(t)
            col_target.append(j)
        for k in key[1]:
            for q in copies_of[k]:
                col_type.append(t)
                col_target.append(m + q)
    n_x = len(col_type)
    ct = np.array(col_type, dtype=np.int64)
    tg = np.array(col_target, dtype=np.int64)
    key_hl = np.array([[k[2], k[3]] for k in type_keys], dtype=np.int64).reshape(-1, 2)
    counts = np.array([len(types[k]) for k in type_keys], dtype=np.int64)
    th, tl = (key_hl[ct, 0], key_hl[ct, 1]) if n_x else (np.zeros(0, np.int64), np.zeros(0, np.int64))
    n_cols = n_x + n_copies
    open_col = n_x + np.arange(n_copies)

    rows: list[tuple[np.ndarray, np.ndarray, float]] = []

    def add_row(columns: np.ndarray, values: np.ndarray, upper: float) -> None:
        rows.append((np.asarray(columns, dtype=np.int64), np.asarray(values, dtype=float), float(upper)))

    # (a) each type's units placed at most once.
    order = np.argsort(ct, kind="stable")
    starts = np.searchsorted(ct[order], np.arange(len(type_keys) + 1))
    for t in range(len(type_keys)):
        cols = order[starts[t]:starts[t + 1]]
        add_row(cols, np.ones(len(cols)), counts[t])
    # (b) today's workers: room, hull facets, pacing.
    by_target = np.argsort(tg, kind="stable")
    t_starts = np.searchsorted(tg[by_target], np.arange(m + n_copies + 1))
    for j in range(m):
        cols = by_target[t_starts[j]:t_starts[j + 1]]
        if not len(cols):
            continue
        whj, wlj = int(high_w[j]), int(low_w[j])
        room = int(cap[j] - base[j])
        add_row(cols, whj * th[cols] + wlj * tl[cols], room)
        if room >= 0:
            for fa, fb, fc in knapsack_hull(whj, wlj, room):
                if not (fa * wlj == fb * whj and fa * room == fc * whj):
                    add_row(cols, fa * th[cols] + fb * tl[cols], fc)
        if allowance[j] >= 0:
            add_row(cols, th[cols] + tl[cols], allowance[j])
    # (c) hire copies: room only when open (hull facets scaled by open), copy n after copy n-1.
    for q, k in enumerate(copy_kind):
        cols = by_target[t_starts[m + q]:t_starts[m + q + 1]]
        whk, wlk, capk = int(high_w[m + k]), int(low_w[m + k]), int(cap[m + k])
        oc = np.array([open_col[q]])
        add_row(np.concatenate([cols, oc]), np.concatenate([whk * th[cols] + wlk * tl[cols], [-capk]]), 0)
        for fa, fb, fc in knapsack_hull(whk, wlk, capk):
            if not (fa * wlk == fb * whk and fa * capk == fc * whk):
                add_row(np.concatenate([cols, oc]), np.concatenate([fa * th[cols] + fb * tl[cols], [-fc]]), 0)
        if copy_rank[q] > 0:
            add_row(np.array([open_col[q], open_col[q - 1]]), np.array([1.0, -1.0]), 0)
    # (d) the budget.
    if n_copies:
        add_row(open_col, np.array([costs[k] for k in copy_kind]), budget + 1e-6)

    lp = highspy.HighsLp()
    lp.num_col_ = n_cols
    lp.num_row_ = len(rows)
    lp.col_cost_ = np.concatenate([(th + tl).astype(float), np.zeros(n_copies)])
    lp.col_lower_ = np.zeros(n_cols)
    lp.col_upper_ = np.concatenate([counts[ct].astype(float), np.ones(n_copies)])
    lp.row_lower_ = np.full(len(rows), -highspy.kHighsInf)
    lp.row_upper_ = np.array([r[2] for r in rows], dtype=float)
    if rows:
        r_idx = np.concatenate([np.full(len(r[0]), i) for i, r in enumerate(rows)])
        c_idx = np.concatenate([r[0] for r in rows])
        vals = np.concatenate([r[1] for r in rows])
    else:
        r_idx = c_idx = np.zeros(0, dtype=np.int64)
        vals = np.zeros(0)
    srt = np.lexsort((r_idx, c_idx))
    r_idx, c_idx, vals = r_idx[srt], c_idx[srt], vals[srt]
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = np.searchsorted(c_idx, np.arange(n_cols + 1)).astype(np.int32)
    lp.a_matrix_.index_ = r_idx.astype(np.int32)
    lp.a_matrix_.value_ = vals
    lp.integrality_ = [highspy.HighsVarType.kInteger] * n_cols
    lp.sense_ = highspy.ObjSense.kMaximize
    build = time.perf_counter() - t0
    say(f"staff reference: {len(type_keys)} types, {n_copies} hire copies, {n_cols} columns, {len(rows)} rows "
        f"built in {build:.1f}s")

    h = highspy.Highs()
    h.setOptionValue("output_flag", verbose)
    h.setOptionValue("threads", threads)
    h.setOptionValue("mip_rel_gap", 0.0)
    h.setOptionValue("mip_abs_gap", 0.99)  # integer objective: a gap below 1 proves optimality
    h.setOptionValue("random_seed", 0)
    if time_limit_s is not None:
        h.setOptionValue("time_limit", float(time_limit_s))
    h.passModel(lp)
    if n_cols:
        h.run()
        model_status = h.getModelStatus()
        info = h.getInfo()
        has_solution = info.primal_solution_status == 2
        values = np.rint(np.asarray(h.getSolution().col_value)) if has_solution else None
        bound = float(info.mip_dual_bound) if model_status != highspy.HighsModelStatus.kOptimal else float(
            info.objective_function_value)
        if model_status == highspy.HighsModelStatus.kOptimal:
            status = "optimal"
        elif model_status == highspy.HighsModelStatus.kTimeLimit:
            status = "time limit"
        else:
            status = h.modelStatusToString(model_status)
    else:
        values, bound, status = np.zeros(0), 0.0, "optimal"
    wall = time.perf_counter() - t0

    hires: dict[str, int] = {}
    placed = None
    assignments: dict[str, str | None] = {c.client_id: None for c in clients if c.status == Status.WAITING}
    if values is not None:
        placed = int(round(float(((th + tl) * values[:n_x]).sum()))) if n_x else 0
        opened = values[n_x:] > 0.5
        for q in np.flatnonzero(opened):
            cid = candidates[copy_kind[q]].candidate_id
            hires[cid] = hires.get(cid, 0) + 1
        names = [w.worker_id for w in workers] + [candidates[k].hire(copy_rank[q] + 1).worker_id
                                                  for q, k in enumerate(copy_kind)]
        taken: dict[int, int] = defaultdict(int)
        for col in np.flatnonzero(values[:n_x] > 0.5):
            t = int(ct[col])
            for _ in range(int(values[col])):
                members = types[type_keys[t]][taken[t]]
                taken[t] += 1
                for i in members:
                    assignments[clients[i].client_id] = names[int(tg[col])]
        bound = max(bound, float(placed))
    cost = sum(costs[[c.candidate_id for c in candidates].index(cid)] * n for cid, n in hires.items())
    return StaffReference(status=status, placed=placed, bound=math.floor(bound + 1e-6), hires=hires, cost=cost,
                          wall_time_s=wall, build_time_s=build, n_types=len(type_keys), n_copies=n_copies,
                          n_vars=n_cols, n_rows=len(rows), assignments=assignments)


def with_hires(agency: Agency, candidates: Sequence[Candidate], hires: dict[str, int]) -> Agency:
    """The agency with each hire added as a worker (`HIRE-<candidate_id>-<n>`, as the data contract names them)."""
    by_id = {c.candidate_id: c for c in candidates}
    extra: list[Worker] = [by_id[cid].hire(n) for cid, k in hires.items() for n in range(1, k + 1)]
    return replace(agency, workers=list(agency.workers) + extra)
