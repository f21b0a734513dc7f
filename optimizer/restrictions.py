"""Branch and cut on large agencies, over restrictions drawn at random among the LP's best-priced columns.

Why: a large agency's complete model (50,000 clients: 426,691 columns) is too big for branch and cut's root
in the time there is, so it searches a restriction: per class, the few columns of least reduced cost in
the LP relaxation. But that relaxation is highly degenerate (50,000 clients: 94,534 unit columns price at
zero, 1,327 of 3,384 classes have more than ten), so which of the ties a restriction keeps decides what
branch and cut can reach. Ties broken by room (each class's roomiest workers) send every class of low-need
clients to the same few roomy workers that families need; ties broken at random spread each class over
workers whose room pieces fit it. Measured on the 50,000-client benchmark agency, same LP and columns per
class, from the 2,938-placement plan: by room 2,954 after 120 s (the restriction's bound 2,967); at random
2,982 after 52 s (bound 2,995). From the 2,676-placement start, at random: 2,967 after 14 s, 2,977 after
42 s. The draw comes from the seed, so it is the same draw for the same seed.

Each round draws a fresh restriction that also holds the best plan's columns (offered as branch and
cut's start, so a round never places fewer) and the moves the LP makes or still prices below zero. The
guide is the LP relaxation converged from its earlier support and the plan's columns (a few seconds: the
first solve stops within 1% of its bound), so the reduced costs say which columns are tied.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from optimizer.classes import Classes
from optimizer.eligibility import WorkerCapacity
from optimizer.lp import Relaxation, _top_per_group, lp_relaxation
from optimizer.mip import BranchAndCut, branch_and_cut, node_limit, placements

TIED = 1e-6              # reduced costs this close are ties, broken at random
COLUMNS_PER_ROUND = 5000  # a restriction's size: this many columns over its classes (measured, 2 cores: on 20,000
                          # clients 7,600 columns take ~9 s to their root's first plans, 15,000 over 20 s)
MIN_PER_CLASS = 4        # ... but never fewer columns per class than this (50,000 clients: 16,000 columns),
MAX_PER_CLASS = 10       # nor more than this (6,000 clients: 4,000 columns)
STALL_ROUNDS = 2         # rounds in a row without a gain before the rounds stop (`stalled`): the neighbourhood
                         # search, then the later stages, take the time left
MIN_ROUND_S = 10.0       # rounds shorter than this spend their time in the root (measured, 20,000 clients, 44 s in
                         # all: 4 rounds of 10 s 1,927-1,929; 5 of 8 s 1,838; 50,000: 7 of 10 s 2,984-2,987)


@dataclass(slots=True)
class RoundsLog:
    rounds: int = 0
    improved: int = 0
    columns: list[int] = field(default_factory=list)
    placed: list[int] = field(default_factory=list)
    ended: list[float] = field(default_factory=list)  # time.monotonic() at each round's end
    trace: list[tuple[float, int]] = field(default_factory=list)  # (time.monotonic(), placed) as rounds improved
    stop: str = ""  # why the last rounds stopped: optimal (the proven ceiling reached), stalled, budget

    def as_dict(self) -> dict:
        return {"rounds": self.rounds, "improved": self.improved, "columns": self.columns, "placed": self.placed,
                "stop": self.stop}


def converged_guide(cl: Classes, cap: WorkerCapacity, lp: Relaxation, plan: np.ndarray, *,
                    time_limit_s: float) -> Relaxation:
    """The LP relaxation solved to convergence, starting from ``lp``'s support and the plan's columns;
    ``lp`` itself if that does not converge in time."""
    start = np.union1d(np.nonzero(lp.values > 1e-6)[0], np.nonzero(plan)[0])
    guide = lp_relaxation(cl, cap, start=start, time_limit_s=time_limit_s, close_enough=0.0)
    return guide if guide.solved and (guide.converged or not lp.solved) else lp


def draw(cl: Classes, guide: Relaxation, plan: np.ndarray, per_class: int,
         rng: np.random.Generator) -> np.ndarray:
    """A restriction: per class the ``per_class`` columns of least reduced cost (ties at random), the guide's
    support, the moves it prices below zero, and the plan's columns."""
    c = cl.columns
    tied = np.round(guide.reduced_cost / TIED) * TIED
    score = np.where(np.isfinite(tied), tied + TIED * 1e-3 * rng.random(len(c)), np.inf)
    units = ~c.is_move & np.isfinite(score)
    return np.unique(np.concatenate([
        np.nonzero(guide.values > 1e-6)[0], np.nonzero(plan)[0],
        np.nonzero(c.is_move & (guide.reduced_cost < -TIED))[0],
        _top_per_group(c.group, score, units, per_class)])).astype(np.int64)


def per_class(cl: Classes) -> int:
    """Columns per class in a restriction."""
    wanted = COLUMNS_PER_ROUND / max(len(cl.classes), 1)
    return int(min(MAX_PER_CLASS, max(MIN_PER_CLASS, round(wanted))))


def search(cl: Classes, cap: WorkerCapacity, guide: Relaxation, plan: np.ndarray, *, seconds: float, seed: int,
           log: RoundsLog | None = None, ceiling: int | None = None) -> tuple[np.ndarray, BranchAndCut | None]:
    """Column values placing at least as many as ``plan`` (a plan the columns hold whole), from rounds of
    branch and cut over random restrictions; and the last round's result (None when none ran). Stops at
    ``ceiling`` (a proven bound on placements), after STALL_ROUNDS rounds without a gain, or when its time
    is spent (rounds share it evenly)."""
    log = log if log is not None else RoundsLog()
    best = plan.astype(np.int64).copy()
    per = per_class(cl)
    rounds = max(1, int(seconds // MIN_ROUND_S))
    deadline = time.monotonic() + seconds
    last: BranchAndCut | None = None
    stalled = 0
    log.stop = "budget"
    for r in range(rounds):
        if ceiling is not None and placements(cl, best) >= ceiling:
            log.stop = "optimal"
            break
        if stalled >= STALL_ROUNDS:
            log.stop = "stalled"
            break
        share = (deadline - time.monotonic()) / (rounds - r)
        if share < 1.0:
            log.stop = "time"
            break
        selected = draw(cl, guide, best, per, np.random.default_rng([seed, r]))
        last = branch_and_cut(cl, cap, selected, best, time_limit_s=share, node_limit=node_limit(share, len(selected)),
                              seed=seed + r)
        log.rounds += 1
        log.columns.append(len(selected))
        before = placements(cl, best)
        log.trace += [(at, placed) for at, placed in last.improvements if placed > before]
        if last.values is not None and last.placements(cl) > placements(cl, best):
            best = last.values
            log.improved += 1
            stalled = 0
        else:
            stalled += 1
        log.placed.append(placements(cl, best))
        log.ended.append(time.monotonic())
    else:
        if ceiling is not None and placements(cl, best) >= ceiling:
            log.stop = "optimal"
    return best, last
