"""An independent reference optimum of tonight's placement count, solved as a MIP by HiGHS.

Why a second model: the optimizer's own `placement_bound` comes from the same code that builds its model, so
a mistake in its eligibility or capacity rules would move the plan and the bound together. This model reads
the data contract afresh (rules from `scenarios.rules`, not from `optimizer`), formulates only objective (1)
— the number of waiting clients placed — and lets HiGHS prove it optimal (or report its own gap).

The rules, as this module reads the contract:

* a unit is a family (clients sharing a family_id; one worker serves all of them) or a single client; a
  waiting family is placed whole or not at all;
* a unit may go to a worker who may serve every member (`scenarios.rules.can_serve`); a worker takes no one
  new when on leave or already over target (`current load > target`);
* an active unit stays with its worker, or moves to another; optional moves of active clients are at most
  `floor(max_moves_share * active clients)`; an active unit whose worker may no longer serve it (or is on
  leave without `keep_on_leave`) must move and is re-placed like a waiting unit, outside that limit;
* every worker who receives anyone ends within `high/high_ratio + low/low_ratio <= fte`, computed in exact
  integers;
* a worker with `max_new_per_week` receives at most that many new clients tonight, less the active clients
  whose intake_date falls in the 7 days ending on the run date.

To stay small at 50,000 clients, identical units are aggregated: units with the same current worker, the same
make-up (high/low, waiting/active) and the same set of eligible workers become one integer "type" with a
count, and `y[type, worker]` says how many of them go to that worker. This is exact (the units of a type are
interchangeable) and removes symmetry that would otherwise slow the branch and bound.

Its LP relaxation is solved by column generation (`_relaxation_by_pricing`), since nearly all columns are
optional moves; see `solve_reference` for the two phases and benchmarks/README.md for the measurements.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from fractions import Fraction

import highspy
import numpy as np
import scipy.sparse as sp

from caseload.domain import Agency, Client, NeedLevel, Status, Worker
from scenarios.rules import eligible_workers


@dataclass
class ReferenceResult:
    """The reference's answer: its best placement count, HiGHS's proven bound, and how it got there."""

    status: str
    placed: int | None  # waiting clients placed in the best solution found
    bound: float  # proven upper bound on waiting clients placed
    gap: float  # (bound - placed) / bound, 0 when optimal
    wall_time_s: float
    build_time_s: float
    moves: int = 0
    forced_replaced: int = 0
    n_units: int = 0
    n_types: int = 0
    n_vars: int = 0
    n_rows: int = 0
    assignments: dict[str, str | None] = field(default_factory=dict)  # client_id -> worker_id (None waits)
    lp_bound: float | None = None  # the LP relaxation's value (phase 1), when it was solved
    start_placed: int | None = None  # waiting clients placed by the start offered to HiGHS
    start_accepted: bool | None = None

    @property
    def optimal(self) -> bool:
        return self.status == "optimal"


FULL_MODEL_MAX_COLUMNS = 200_000  # above this the full model's root does not finish in the limit (see phase 1)
PRICING_BATCH = 20_000  # column generation: at most this many columns join per round, those pricing best,
PRICING_START_PER_TYPE = 2  # ... from this many per type to start with, to the roomiest workers
PHASE1_MAX_PLACEMENT_COLUMNS = 150_000  # phase 1's MIP keeps every placement column up to this many; beyond,
PHASE1_PER_TYPE = 10  # each type's this many best-priced ones (50,000 clients: 280,000 placement columns, and
                      # HiGHS was still in that MIP's root 300 s past its limit)


@dataclass
class _Relaxation:
    values: np.ndarray | None  # per column, the last restricted LP's solution (None: none solved)
    bound: float  # proven upper bound on the objective from that LP's duals (inf: none)
    converged: bool  # no column prices out: the values are optimal for the whole LP
    rounds: int
    columns: int  # columns the restricted LP ended with
    reduced: np.ndarray | None = None  # per column, its reduced cost at those duals (minimising: < 0 improves)


@dataclass
class _Unit:
    members: list[int]  # client indices into the decided clients
    current: int  # worker index of the active members, -1 for a waiting unit
    forced: bool  # active, but the current worker may no longer serve it


def _scaled_capacity(workers: list[Worker], agency: Agency) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(capacity, high weight, low weight) per worker as exact integers (Fractions, one common scale each)."""
    cap = np.zeros(len(workers), dtype=np.int64)
    high_w = np.zeros(len(workers), dtype=np.int64)
    low_w = np.zeros(len(workers), dtype=np.int64)
    for j, w in enumerate(workers):
        high, low = agency.policy.ratios_for(w)
        fh, fl, fte = (Fraction(str(float(high))), Fraction(str(float(low))), Fraction(str(float(w.fte))))
        wh, wl = 1 / fh, 1 / fl
        scale = math.lcm(wh.denominator, wl.denominator, fte.denominator)
        high_w[j], low_w[j], cap[j] = int(wh * scale), int(wl * scale), int(fte * scale)
    return cap, high_w, low_w


def knapsack_hull(high_weight: int, low_weight: int, capacity: int) -> list[tuple[int, int, int]]:
    """Facets ``a*high + b*low <= c`` of the convex hull of a worker's feasible (high, low) caseloads.

    The feasible caseloads are the integer points with ``high*high_weight + low*low_weight <= capacity``;
    their hull is bounded by the staircase of the largest low count for each high count, so its upper-right
    chain (computed here with a monotone-chain scan) gives every facet but the axes.
    """
    if capacity < 0:
        return [(1, 0, -1)]  # infeasible: no caseload fits (never for a worker who accepts new clients)
    h_max = capacity // high_weight
    points = [(h, (capacity - h * high_weight) // low_weight) for h in range(h_max + 1)]
    if points[-1][1] > 0:
        points.append((h_max, 0))
    chain: list[tuple[int, int]] = []
    for p in points:
        # keep the chain concave (clockwise turns only)
        while len(chain) >= 2:
            (x1, y1), (x2, y2) = chain[-2], chain[-1]
            if (x2 - x1) * (p[1] - y1) - (y2 - y1) * (p[0] - x1) >= 0:
                chain.pop()
            else:
                break
        chain.append(p)
    facets = []
    for (x1, y1), (x2, y2) in zip(chain, chain[1:], strict=False):
        a, b = y1 - y2, x2 - x1
        g = math.gcd(a, b)
        a, b = a // g, b // g
        facets.append((a, b, a * x1 + b * y1))
    if not facets:  # a single point: (0, 0)
        facets.append((1, 1, 0))
    return facets


def _units(clients: list[Client], index: dict[str, int]) -> list[_Unit]:
    """Families (by family_id) and singles; a family's active members with different workers split by worker."""
    groups: dict[tuple, list[int]] = defaultdict(list)
    for i, c in enumerate(clients):
        key = ("family", c.family_id) if c.family_id else ("single", i)
        groups[key].append(i)
    units: list[_Unit] = []
    for members in groups.values():
        by_worker: dict[int, list[int]] = defaultdict(list)
        waiting = []
        for i in members:
            c = clients[i]
            if c.status == Status.ACTIVE and c.worker_id in index:
                by_worker[index[c.worker_id]].append(i)
            else:
                waiting.append(i)
        if len(by_worker) == 1:  # waiting members join their family's worker (or the family moves)
            (j, active), = by_worker.items()
            units.append(_Unit(active + waiting, j, False))
        else:
            units.extend(_Unit(active, j, False) for j, active in by_worker.items())
            if waiting:
                units.append(_Unit(waiting, -1, False))
    return units


def solve_reference(agency: Agency, *, time_limit_s: float | None = 600.0, threads: int = 2,
                    progress: Callable[[str], None] | None = None, verbose: bool = False,
                    highs_options: dict[str, object] | None = None,
                    start_plan: dict[str, str | None] | None = None,
                    warm_phase_share: float = 0.3) -> ReferenceResult:
    """Build and solve the reference MIP; returns the best count, the bound and the plan it found.

    `start_plan` (client_id -> worker_id or None, e.g. the optimizer's plan) is offered to HiGHS as a first
    solution. It only helps the search: HiGHS checks it against this model and ignores it if it breaks
    any rule here (`start_accepted` says which), and the bound is proven from this model alone.
    """
    say = progress or (lambda _message: None)
    t0 = time.perf_counter()
    clients = [c for c in agency.clients if c.status in (Status.WAITING, Status.ACTIVE)]
    workers = list(agency.workers)
    index = {w.worker_id: j for j, w in enumerate(workers)}
    m = len(workers)
    eligible = eligible_workers(clients, workers)
    cap, high_w, low_w = _scaled_capacity(workers, agency)
    is_high = np.array([c.need_level == NeedLevel.HIGH for c in clients], dtype=bool)
    is_waiting = np.array([c.status == Status.WAITING for c in clients], dtype=bool)
    available = np.array([w.available for w in workers], dtype=bool)
    keep_on_leave = agency.policy.keep_on_leave

    units = _units(clients, index)
    # Current load of every worker (all its active clients), and who is over target tonight.
    current_load = np.zeros(m, dtype=np.int64)
    for i, c in enumerate(clients):
        if c.status == Status.ACTIVE and c.worker_id in index:
            j = index[c.worker_id]
            current_load[j] += high_w[j] if is_high[i] else low_w[j]
    accepts_new = available & (current_load <= cap)
    since = agency.as_of - timedelta(days=7)
    recent: dict[int, int] = defaultdict(int)
    for c in clients:
        if (c.status == Status.ACTIVE and c.worker_id in index and c.intake_date is not None
                and since < c.intake_date <= agency.as_of):
            recent[index[c.worker_id]] += 1
    allowance = np.array([-1 if w.max_new_per_week is None else max(0, w.max_new_per_week - recent[j])
                          for j, w in enumerate(workers)], dtype=np.int64)
    n_active = sum(c.status == Status.ACTIVE for c in clients)
    move_budget = math.floor(agency.policy.max_moves_share * n_active + 1e-9)

    # Each unit's options: workers who may serve all members; the current one only if it still may.
    types: dict[tuple, list[int]] = defaultdict(list)
    base_high = np.zeros(m, dtype=np.int64)  # active clients who stay unless moved (forced units leave)
    base_low = np.zeros(m, dtype=np.int64)
    unit_options: list[np.ndarray] = []
    for u, unit in enumerate(units):
        common = eligible[unit.members[0]]
        for i in unit.members[1:]:
            common = np.intersect1d(common, eligible[i], assume_unique=True)
        j0 = unit.current
        stays_ok = j0 >= 0 and j0 in set(common.tolist()) and (available[j0] or keep_on_leave)
        unit.forced = j0 >= 0 and not stays_ok
        options = common[accepts_new[common]]
        if j0 >= 0:
            options = options[options != j0]
        unit_options.append(options)
        active = [i for i in unit.members if not is_waiting[i]]
        waiting = [i for i in unit.members if is_waiting[i]]
        if j0 >= 0 and not unit.forced:
            n_high = int(is_high[active].sum())
            base_high[j0] += n_high
            base_low[j0] += len(active) - n_high
        key = (j0 if not unit.forced else -2, int(is_high[active].sum()), len(active) - int(is_high[active].sum()),
               int(is_high[waiting].sum()), len(waiting) - int(is_high[waiting].sum()),
               options.tobytes())
        types[key].append(u)
    build_types = time.perf_counter() - t0
    say(f"reference: {len(units)} units in {len(types)} types, eligibility and types in {build_types:.1f}s")

    # Columns: y[type, worker] (how many units of the type go there; for an active type, moved there).
    col_type: list[int] = []
    col_worker: list[int] = []
    type_keys = list(types)
    for t, key in enumerate(type_keys):
        options = unit_options[types[key][0]]
        col_type.extend([t] * len(options))
        col_worker.extend(options.tolist())
        j0 = key[0]
        n_waiting = key[3] + key[4]
        if j0 >= 0 and n_waiting and accepts_new[j0]:  # a mixed family's waiting members join its worker
            col_type.append(t)
            col_worker.append(j0)
    col_type_a = np.array(col_type, dtype=np.int64)
    col_worker_a = np.array(col_worker, dtype=np.int64)
    n_cols = len(col_type_a)
    key_arr = np.array([[k[0], k[1], k[2], k[3], k[4]] for k in type_keys], dtype=np.int64).reshape(-1, 5)
    counts = np.array([len(types[k]) for k in type_keys], dtype=np.int64)
    cur = key_arr[:, 0][col_type_a] if n_cols else np.zeros(0, dtype=np.int64)
    ah, al, wh, wl = (key_arr[:, k][col_type_a] for k in (1, 2, 3, 4))
    joins = cur == col_worker_a  # mixed family joining its own worker: only the waiting members arrive
    arriving_high = np.where(joins, wh, ah + wh)
    arriving_low = np.where(joins, wl, al + wl)
    moved_active = np.where(joins | (cur < 0), 0, ah + al)  # forced (-2) and waiting (-1) are not optional moves
    objective = (wh + wl).astype(float)  # waiting clients placed

    rows_i: list[np.ndarray] = []
    rows_j: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    lower: list[float] = []
    upper: list[float] = []
    cols = np.arange(n_cols)
    # (a) each type: how many of its units are placed or moved is at most its count.
    rows_i.append(col_type_a)
    rows_j.append(cols)
    vals.append(np.ones(n_cols))
    lower += [-highspy.kHighsInf] * len(type_keys)
    upper += counts.astype(float).tolist()
    row = len(type_keys)
    # (b) capacity of every worker who receives anyone: stays + arrivals - departures within target.
    # The knapsack row alone has a weak LP: it fills the last sliver of every worker's room with a fraction
    # of a client, and on 150 workers those fractions add up to dozens of phantom placements that HiGHS
    # then needs hours of branching to remove. So each worker also gets the facets a*high + b*low <= c of
    # the integer hull of the arrivals that fit its room (`knapsack_hull`). Departures (optional moves out)
    # enlarge the room, so each facet is relaxed by rho * (load freed) + K * d_j, where rho = max(a/wh, b/wl),
    # K = rho * room - c and d_j is 1 when anyone leaves worker j: valid, because with room R + D the
    # arrivals give a*high + b*low <= rho * (R + D) = c + K + rho * D.
    receiving = np.unique(col_worker_a)
    leaving = (cur >= 0) & ~joins
    in_cols = np.argsort(col_worker_a, kind="stable")
    in_start = np.searchsorted(col_worker_a[in_cols], np.arange(m + 1))
    out_sel = np.flatnonzero(leaving)
    out_cols = out_sel[np.argsort(cur[out_sel], kind="stable")]
    out_start = np.searchsorted(cur[out_cols], np.arange(m + 1))
    departs_col: dict[int, int] = {}  # worker -> index of its binary "someone leaves" column

    def add_row(columns: np.ndarray, values: np.ndarray, upper_bound: float) -> None:
        nonlocal row
        rows_i.append(np.full(len(columns), row))
        rows_j.append(columns)
        vals.append(values.astype(float))
        lower.append(-highspy.kHighsInf)
        upper.append(float(upper_bound))
        row += 1

    for j in receiving.tolist():
        cin = in_cols[in_start[j]:in_start[j + 1]]
        cout = out_cols[out_start[j]:out_start[j + 1]]
        whj, wlj = int(high_w[j]), int(low_w[j])
        room = int(cap[j] - whj * base_high[j] - wlj * base_low[j])
        freed = (ah[cout] * whj + al[cout] * wlj).astype(float)
        add_row(np.concatenate([cin, cout]),
                np.concatenate([whj * arriving_high[cin] + wlj * arriving_low[cin], -freed]), room)
        d_cols = np.zeros(0, dtype=np.int64)
        if len(cout):
            d = n_cols + len(departs_col)
            departs_col[j] = d
            d_cols = np.array([d])
            most = min(int(base_high[j] + base_low[j]), max(move_budget, 0))
            add_row(np.concatenate([cout, d_cols]),
                    np.concatenate([(ah[cout] + al[cout]).astype(float), [-float(most)]]), 0)
            # and d_j only when someone leaves: otherwise the LP would relax every worker's facets for free
            add_row(np.concatenate([cout, d_cols]),
                    np.concatenate([-(ah[cout] + al[cout]).astype(float), [1.0]]), 0)
        for fa, fb, fc in knapsack_hull(whj, wlj, room):
            if fa * wlj == fb * whj and fa * room == fc * whj:
                continue  # the knapsack row itself
            rho = max(fa / whj, fb / wlj)
            slack = rho * room - fc
            add_row(np.concatenate([cin, cout, d_cols]),
                    np.concatenate([fa * arriving_high[cin] + fb * arriving_low[cin], -rho * freed,
                                    [-slack] * len(d_cols)]), fc)
    if departs_col:
        d_all = np.array(sorted(departs_col.values()))
        add_row(d_all, np.ones(len(d_all)), max(move_budget, 0))
    n_extra = len(departs_col)
    # (c) optional moves of active clients.
    if move_budget >= 0 and (moved_active > 0).any():
        sel = moved_active > 0
        rows_i.append(np.full(int(sel.sum()), row))
        rows_j.append(cols[sel])
        vals.append(moved_active[sel].astype(float))
        lower.append(-highspy.kHighsInf)
        upper.append(float(move_budget))
        row += 1
    # (d) intake pacing: new clients per worker tonight.
    paced = np.flatnonzero(allowance >= 0)
    pace_row = np.full(m, -1, dtype=np.int64)
    pace_row[paced] = row + np.arange(len(paced))
    sel = pace_row[col_worker_a] >= 0
    rows_i.append(pace_row[col_worker_a[sel]])
    rows_j.append(cols[sel])
    vals.append((arriving_high + arriving_low)[sel].astype(float))
    lower += [-highspy.kHighsInf] * len(paced)
    upper += allowance[paced].astype(float).tolist()
    row += len(paced)
    n_rows = row

    # Forced units must be re-placed when they can: count them in the objective with a small premium over
    # nothing (they are first in line), but report waiting clients placed separately.
    objective = objective + np.where(cur == -2, ah + al, 0) * 1.0

    r = np.concatenate(rows_i) if rows_i else np.zeros(0, dtype=np.int64)
    c_ = np.concatenate(rows_j) if rows_j else np.zeros(0, dtype=np.int64)
    v = np.concatenate(vals) if vals else np.zeros(0)
    order = np.lexsort((r, c_))
    r, c_, v = r[order], c_[order], v[order]
    n_total = n_cols + n_extra
    col_start = np.searchsorted(c_, np.arange(n_total + 1))

    lp = highspy.HighsLp()
    lp.num_col_ = n_total
    lp.num_row_ = n_rows
    lp.col_cost_ = np.concatenate([objective, np.zeros(n_extra)])
    lp.col_lower_ = np.zeros(n_total)
    lp.col_upper_ = np.concatenate([counts[col_type_a].astype(float), np.ones(n_extra)])
    lp.row_lower_ = np.array(lower, dtype=float)
    lp.row_upper_ = np.array(upper, dtype=float)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = col_start.astype(np.int32)
    lp.a_matrix_.index_ = r.astype(np.int32)
    lp.a_matrix_.value_ = v
    lp.integrality_ = [highspy.HighsVarType.kInteger] * n_total
    lp.sense_ = highspy.ObjSense.kMaximize
    build_time = time.perf_counter() - t0
    say(f"reference: MIP with {n_cols} integer columns and {n_rows} rows built in {build_time:.1f}s; solving")

    h = highspy.Highs()
    h.setOptionValue("output_flag", verbose)
    h.setOptionValue("threads", threads)
    h.setOptionValue("mip_rel_gap", 0.0)
    h.setOptionValue("mip_abs_gap", 0.99)  # integer objective: a gap below 1 proves optimality
    h.setOptionValue("random_seed", 0)
    if time_limit_s is not None:
        h.setOptionValue("time_limit", float(time_limit_s))
    for name, value in (highs_options or {}).items():
        h.setOptionValue(name, value)
    h.passModel(lp)
    start_placed = start_accepted = None
    best_start: np.ndarray | None = None
    if start_plan is not None and n_cols:
        start_values, start_placed = _encode_start(start_plan, units, types, type_keys, col_type_a, col_worker_a,
                                                   clients, index, is_waiting)
        if start_values is not None:
            departs = np.zeros(n_extra, dtype=np.int64)
            for j, d in departs_col.items():
                cout = out_cols[out_start[j]:out_start[j + 1]]
                departs[d - n_cols] = int(start_values[cout].sum() > 0)
            start_values = np.concatenate([start_values, departs])
            start_accepted = _start_feasible(lp, start_values)
            if start_accepted:
                best_start = start_values.astype(float)
        else:
            start_accepted = False
    # Phase 1 (the reference's own warm start): solve the LP relaxation, then the MIP restricted to the
    # optional moves the LP makes (every placement column kept, plus the offered start's columns). With
    # a hundred candidate moves instead of tens of thousands it is about as easy as the model without
    # moves, and it finds the moves HiGHS's own heuristics miss. Its plan is only a start for phase 2,
    # the full model, whose bound alone is reported.
    skip_full = False
    lp_bound = math.inf  # the LP relaxation's value: a valid bound even if phase 2 never finishes its root
    if warm_phase_share > 0 and n_cols and time_limit_s is not None:
        say("reference: phase 1, the LP relaxation (column generation over the optional moves)")
        lp_start = time.perf_counter()
        # start from each type's columns to the roomiest workers (and the offered start's); the rest join
        # as they price out
        room = (cap - high_w * base_high - low_w * base_low)[col_worker_a]
        by_room = np.lexsort((-room, col_type_a))
        first = np.ones(n_total, dtype=bool)
        first[:n_cols] = False
        first[by_room[_rank_within_type(by_room, col_type_a, len(type_keys)) < PRICING_START_PER_TYPE]] = True
        if best_start is not None:
            first |= best_start > 0
        relaxation = _relaxation_by_pricing(lp, first, float(time_limit_s) * warm_phase_share, threads,
                                            highs_options or {})
        lp_time = time.perf_counter() - lp_start
        say(f"reference: phase 1, LP relaxation {'converged' if relaxation.converged else 'NOT converged'} in "
            f"{lp_time:.1f}s, {relaxation.rounds} rounds, {relaxation.columns:,} of {n_total:,} columns, "
            f"bound {relaxation.bound:.1f}")
        # The full model's root (presolve, its own LP over every column, cuts) does not finish within the
        # limit on the largest agencies (20,000 clients: its LP alone took 140 s by simplex; 50,000: HiGHS
        # ran 17 minutes past a 1,200 s limit inside it): there phase 1 gets all the time and the LP's
        # bound is reported. An LP not even solved in its share says so all the more.
        skip_full = n_total > FULL_MODEL_MAX_COLUMNS or relaxation.values is None
        if relaxation.values is not None:
            relaxed = relaxation.values
            lp_bound = relaxation.bound
            keep = relaxed > 1e-7
            placements = moved_active == 0
            if placements.sum() <= PHASE1_MAX_PLACEMENT_COLUMNS:
                keep[:n_cols] |= placements  # every placement column; only the moves the LP makes
            else:  # each type's best-priced placement columns (ties: the roomiest workers first)
                priced = np.lexsort((-room, relaxation.reduced[:n_cols], col_type_a))
                rank = _rank_within_type(priced, col_type_a, len(type_keys))
                best = priced[(rank < PHASE1_PER_TYPE) & placements[priced]]
                keep[best] = True
            keep[n_cols:] = True
            if best_start is not None:
                keep |= best_start > 0
            dropped = np.flatnonzero(~keep).astype(np.int32)
            upper_bounds = np.array(lp.col_upper_)
            h.changeColsBounds(len(dropped), dropped, np.zeros(len(dropped)), np.zeros(len(dropped)))
            say(f"reference: phase 1, MIP over {int(keep.sum()):,} columns, with the "
                f"{int((keep[:n_cols] & (moved_active > 0)).sum())} moves the LP uses "
                f"(LP bound {lp_bound:.1f})")
            if best_start is not None:
                _offer(h, best_start)
            phase1_end = float(time_limit_s) * (1.0 if skip_full else warm_phase_share)
            h.setOptionValue("time_limit", max(1.0, phase1_end - (time.perf_counter() - t0)))
            h.run()
            if h.getInfo().primal_solution_status == 2:
                phase1 = np.array(h.getSolution().col_value)
                if best_start is None or float(phase1 @ lp.col_cost_) > float(best_start @ lp.col_cost_):
                    best_start = phase1
            h.changeColsBounds(len(dropped), dropped, np.zeros(len(dropped)), upper_bounds[dropped])
        h.setOptionValue("time_limit", max(1.0, float(time_limit_s) - (time.perf_counter() - t0)))
        found = 0 if best_start is None else round(float(best_start @ lp.col_cost_))
        if skip_full and lp_bound < math.inf:
            say(f"reference: no time left for the full model's root; best {found}, LP bound {lp_bound:.1f}")
        elif skip_full:
            say(f"reference: the LP relaxation is unsolved after {lp_time:.0f}s, so the full model cannot finish "
                f"its root; best {found} (the offered start), bound: the clients it could place at most")
        else:
            say(f"reference: phase 2, the full model (starting from {found} placed)")
    if skip_full:
        phase2_values = best_start
    else:
        if best_start is not None:
            _offer(h, best_start)
        h.run()
        phase2_values = None
    wall = time.perf_counter() - t0
    model_status = h.getModelStatus()
    info = h.getInfo()
    status = {highspy.HighsModelStatus.kOptimal: "optimal",
              highspy.HighsModelStatus.kTimeLimit: "time_limit"}.get(model_status, h.modelStatusToString(model_status))
    if skip_full:  # h holds phase 1's restricted model: its status and bound say nothing about the full one
        status = "time_limit"
    if n_cols == 0:
        status = "optimal"
    if skip_full:
        has_solution = phase2_values is not None
        values = (np.round(phase2_values[:n_cols]).astype(np.int64) if has_solution  # type: ignore[index]
                  else np.zeros(n_cols, dtype=np.int64))
    else:
        has_solution = n_cols == 0 or info.primal_solution_status == 2
        values = (np.round(np.array(h.getSolution().col_value)[:n_cols]).astype(np.int64)
                  if n_cols and has_solution else np.zeros(n_cols, dtype=np.int64))
    placed = int((values * (wh + wl)).sum()) if has_solution else None
    total_obj = float((values * objective).sum())
    if status == "optimal":
        bound_total = total_obj
    elif skip_full:  # the LP's bound, or with no LP, every client the objective counts placed
        most = int(is_waiting.sum()) + sum(int((~is_waiting[u.members]).sum()) for u in units if u.forced)
        bound_total = lp_bound if lp_bound < math.inf else float(most)
    else:
        bound_total = min(float(info.mip_dual_bound), lp_bound)
    forced_replaced = int((values * np.where(cur == -2, ah + al, 0)).sum())
    # The bound on waiting clients placed: the objective's bound less the forced clients that cannot exceed
    # their own count (a safe, if loose, subtraction only when nothing was forced).
    bound = bound_total - forced_replaced if status == "optimal" else bound_total
    assignments = _disaggregate(values, col_type_a, col_worker_a, type_keys, types, units, clients, workers)
    moves = int((values * moved_active).sum())
    gap = 0.0 if placed is None or bound <= 0 else max(0.0, (bound - placed) / bound)
    return ReferenceResult(status=status, placed=placed, bound=math.floor(bound + 1e-6), gap=gap,
                           wall_time_s=wall, build_time_s=build_time, moves=moves,
                           forced_replaced=forced_replaced, n_units=len(units), n_types=len(type_keys),
                           n_vars=n_total, n_rows=n_rows, assignments=assignments, start_placed=start_placed,
                           start_accepted=start_accepted, lp_bound=None if lp_bound == math.inf else lp_bound)


def _relaxation_by_pricing(lp: highspy.HighsLp, first: np.ndarray, time_limit_s: float, threads: int,
                           options: dict[str, object], max_rounds: int | None = None) -> _Relaxation:
    """The LP relaxation of the whole model, over a growing subset of its columns (column generation).

    Why: nearly all columns are optional moves (50,000 clients: 2.2 million columns), and HiGHS on all of
    them at once did not solve the LP in 180 s, by simplex or interior point. Few columns matter, so: solve
    over ``first`` (a few per type, see phase 1), price every other column against the duals, add those that
    would raise the LP most, and repeat until none would. Each round's duals prove a bound by weak duality
    with the column bounds (every row is ``<=``), so the bound holds even when time runs out first.
    """
    n_rows, n = lp.num_row_, lp.num_col_
    a = sp.csc_matrix((np.asarray(lp.a_matrix_.value_), np.asarray(lp.a_matrix_.index_),
                       np.asarray(lp.a_matrix_.start_)), shape=(n_rows, n))
    cost = -np.asarray(lp.col_cost_)  # minimise minus the objective: the duals of <= rows are then <= 0
    upper = np.asarray(lp.col_upper_)
    rhs = np.asarray(lp.row_upper_)
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", threads)
    for name, value in options.items():
        h.setOptionValue(name, value)
    h.addRows(n_rows, np.asarray(lp.row_lower_), rhs, 0, np.zeros(n_rows, dtype=np.int32),
              np.zeros(0, dtype=np.int32), np.zeros(0))
    deadline = time.perf_counter() + time_limit_s
    inside: list[np.ndarray] = []
    entering = np.flatnonzero(first)
    result = _Relaxation(None, math.inf, False, 0, 0)
    while True:
        sub = a[:, entering]
        h.addCols(len(entering), cost[entering], np.zeros(len(entering)), upper[entering], sub.nnz,
                  sub.indptr[:-1].astype(np.int32), sub.indices.astype(np.int32), sub.data)
        inside.append(entering)
        # HiGHS' time limit counts every run of one instance: each round gets the time still left
        h.setOptionValue("time_limit", h.getRunTime() + max(0.0, deadline - time.perf_counter()))
        h.run()
        result.rounds += 1
        status = h.getModelStatus()
        if status not in (highspy.HighsModelStatus.kOptimal, highspy.HighsModelStatus.kModelEmpty):
            break
        solution = h.getSolution()
        duals = np.asarray(solution.row_dual) if status == highspy.HighsModelStatus.kOptimal else np.zeros(n_rows)
        y = np.minimum(duals, 0.0)
        reduced = cost - a.T @ y
        result.reduced = reduced
        result.bound = min(result.bound, -float(rhs @ y + np.minimum(reduced, 0.0) @ upper))
        columns = np.concatenate(inside)
        result.values = np.zeros(n)
        result.values[columns] = np.asarray(solution.col_value)
        result.columns = len(columns)
        out = np.ones(n, dtype=bool)
        out[columns] = False
        entering = np.flatnonzero(out & (reduced < -1e-7))
        if not len(entering):
            result.converged = True
            break
        if time.perf_counter() >= deadline or result.rounds == max_rounds:
            break
        entering = entering[np.argsort(reduced[entering], kind="stable")[:PRICING_BATCH]]
    return result


def _rank_within_type(order: np.ndarray, col_type: np.ndarray, n_types: int) -> np.ndarray:
    """Each position's rank among its type's columns in ``order`` (a permutation sorted by type first)."""
    starts = np.searchsorted(col_type[order], np.arange(n_types))
    return np.arange(len(order)) - np.repeat(starts, np.diff(np.append(starts, len(order))))


def _offer(h: highspy.Highs, values: np.ndarray) -> None:
    solution = highspy.HighsSolution()
    solution.col_value = values.astype(float).tolist()
    solution.value_valid = True
    h.setSolution(solution)


def _encode_start(plan: dict[str, str | None], units: list[_Unit], types: dict[tuple, list[int]],
                  type_keys: list[tuple], col_type: np.ndarray, col_worker: np.ndarray, clients: list[Client],
                  index: dict[str, int], is_waiting: np.ndarray) -> tuple[np.ndarray | None, int]:
    """A plan as this model's type counts; None when it uses an option the model does not have."""
    column = {(int(t), int(j)): n for n, (t, j) in enumerate(zip(col_type, col_worker, strict=True))}
    values = np.zeros(len(col_type), dtype=np.int64)
    placed = 0
    ok = True
    for t, key in enumerate(type_keys):
        for u in types[key]:
            unit = units[u]
            destinations = {plan.get(clients[i].client_id) for i in unit.members}
            if len(destinations) != 1:
                ok = False  # a family split, or part of it waiting: not a plan of this model
                continue
            worker_id = destinations.pop()
            if worker_id is None:
                continue
            j = index.get(worker_id, -1)
            if j == unit.current and not unit.forced and not any(is_waiting[i] for i in unit.members):
                continue  # an active unit that stays
            placed += sum(bool(is_waiting[i]) for i in unit.members)
            n = column.get((t, j))
            if n is None:
                ok = False
                continue
            values[n] += 1
    return (values if ok else None), placed


def _start_feasible(lp: highspy.HighsLp, values: np.ndarray) -> bool:
    """Whether the start satisfies every row and bound of the model (so HiGHS will take it)."""
    x = values.astype(float)
    if (x < np.array(lp.col_lower_) - 1e-9).any() or (x > np.array(lp.col_upper_) + 1e-9).any():
        return False
    start, index, value = (np.array(lp.a_matrix_.start_), np.array(lp.a_matrix_.index_),
                           np.array(lp.a_matrix_.value_))
    activity = np.zeros(lp.num_row_)
    cols = np.repeat(np.arange(lp.num_col_), np.diff(start))
    np.add.at(activity, index, value * x[cols])
    return bool((activity <= np.array(lp.row_upper_) + 1e-9).all()
                and (activity >= np.array(lp.row_lower_) - 1e-9).all())


def _disaggregate(values: np.ndarray, col_type: np.ndarray, col_worker: np.ndarray, type_keys: list[tuple],
                  types: dict[tuple, list[int]], units: list[_Unit], clients: list[Client],
                  workers: list[Worker]) -> dict[str, str | None]:
    """Turn type counts back into a client -> worker plan (the first units of a type take the moves)."""
    out: dict[str, str | None] = {}
    for unit in units:
        j0 = unit.current
        for i in unit.members:
            stays = j0 >= 0 and not unit.forced and clients[i].status == Status.ACTIVE
            out[clients[i].client_id] = workers[j0].worker_id if stays else None
    taken: dict[int, int] = defaultdict(int)
    for col in np.flatnonzero(values > 0):
        t = int(col_type[col])
        members = types[type_keys[t]]
        for _ in range(int(values[col])):
            unit = units[members[taken[t]]]
            taken[t] += 1
            for i in unit.members:
                out[clients[i].client_id] = workers[int(col_worker[col])].worker_id
    return out


def plan_violations(agency: Agency, plan: dict[str, str | None]) -> list[str]:
    """Every hard rule a plan (client_id -> worker_id or None) breaks, read from the contract independently.

    Used on the reference's own plan and on the optimizer's, so that a benchmark row's "0 violations" does
    not rest on the optimizer's own checker alone.
    """
    from scenarios.rules import rule_broken

    problems: list[str] = []
    clients = {c.client_id: c for c in agency.clients if c.status in (Status.WAITING, Status.ACTIVE)}
    workers = {w.worker_id: w for w in agency.workers}
    cap, high_w, low_w = _scaled_capacity(list(agency.workers), agency)
    j_of = {w.worker_id: j for j, w in enumerate(agency.workers)}
    before = np.zeros(len(workers), dtype=np.int64)
    after = np.zeros(len(workers), dtype=np.int64)
    arrivals = np.zeros(len(workers), dtype=np.int64)
    moves = 0
    n_active = 0
    for cid, c in clients.items():
        if cid not in plan:
            problems.append(f"{cid}: missing from the plan")
            continue
        wid = plan[cid]
        if c.status == Status.ACTIVE:
            n_active += 1
            j = j_of.get(c.worker_id or "")
            if j is not None:
                before[j] += high_w[j] if c.need_level == NeedLevel.HIGH else low_w[j]
        if wid is None:
            if c.status == Status.ACTIVE and c.worker_id in workers:
                w0 = workers[c.worker_id]
                if rule_broken(c, w0) is None and (w0.available or agency.policy.keep_on_leave):
                    problems.append(f"{cid}: an active client was dropped")
            continue
        w = workers.get(wid)
        if w is None:
            problems.append(f"{cid}: unknown worker {wid}")
            continue
        j = j_of[wid]
        after[j] += high_w[j] if c.need_level == NeedLevel.HIGH else low_w[j]
        if wid != c.worker_id:
            if not w.available:
                problems.append(f"{cid}: new client for {wid}, who is on leave")
            arrivals[j] += 1
            if c.status == Status.ACTIVE and c.worker_id in workers:
                w0 = workers[c.worker_id]
                if rule_broken(c, w0) is None and (w0.available or agency.policy.keep_on_leave):
                    moves += 1
        broken = rule_broken(c, w)
        if broken:
            problems.append(f"{cid} -> {wid}: {broken}")
    for j, w in enumerate(agency.workers):
        if arrivals[j] and after[j] > cap[j]:
            problems.append(f"{w.worker_id}: caseload over target after receiving {arrivals[j]} client(s)")
        if arrivals[j] and before[j] > cap[j]:
            problems.append(f"{w.worker_id}: over target already but received clients")
    budget = math.floor(agency.policy.max_moves_share * n_active + 1e-9)
    if moves > budget:
        problems.append(f"{moves} optional moves, more than the {budget} allowed")
    families: dict[str, list[Client]] = defaultdict(list)
    for c in clients.values():
        if c.family_id and c.client_id in plan:
            families[c.family_id].append(c)
    for fid, members in families.items():
        served_by = {plan[c.client_id] for c in members} - {None}
        waiting_fate = {plan[c.client_id] is None for c in members if c.status == Status.WAITING}
        if len(served_by) > 1 or len(waiting_fate) > 1:
            problems.append(f"family {fid}: split ({sorted(map(str, served_by))})")
    since = agency.as_of - timedelta(days=7)
    recent: dict[str, int] = defaultdict(int)
    for c in clients.values():
        if c.status == Status.ACTIVE and c.intake_date is not None and since < c.intake_date <= agency.as_of:
            recent[c.worker_id or ""] += 1
    for j, w in enumerate(agency.workers):
        if w.max_new_per_week is not None and arrivals[j] > max(0, w.max_new_per_week - recent[w.worker_id]):
            problems.append(f"{w.worker_id}: {arrivals[j]} new clients, over max_new_per_week")
    return problems
