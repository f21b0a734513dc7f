"""A plan given to `optimizer.assign` to start from: who goes to which worker (client_id -> worker_id).

Why: the staffing planner promises that tonight's assign on the workers with its hires places at least what its
own plan places. A clock-limited search cannot promise to find again, in tonight's time, a plan another run
found in more (20,000 clients: the planner's 2,134 in 180 s, tonight's assign 2,095 in 60 s); started from that
plan it never places fewer, since every later phase keeps its start's placements. The model keeps the columns the
start's moves need (`optimizer.classes.build_classes`' keep_moves), so it holds the start whole.

A start is checked against tonight's rules, not trusted: an entry for a client who neither waits nor may move,
to a worker who is not eligible, or that would put a worker over target or over their intake is dropped (and
counted), as are moves beyond tonight's move budget. Entries that send a client to the worker they have are no
change and are not counted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from optimizer.caseloads import Caseloads
from optimizer.classes import movable_items
from optimizer.eligibility import Eligibility, WorkerCapacity
from optimizer.units import Unit


@dataclass
class StartLog:
    """What became of a given start: its entries, what was placed and moved from it, what was dropped."""

    given: int = 0
    placed: int = 0
    moved: int = 0
    dropped: int = 0
    used: bool = False

    def expressed(self, undone: int, state: Caseloads) -> None:
        """Count as dropped what the model's columns could not hold (`optimizer.decode.keep_expressible` undid
        ``undone`` placements, and whatever moves): none, when the model keeps the start's moves."""
        moved = len(state.move_to)
        self.dropped += undone + (self.moved - moved)
        self.placed, self.moved = state.placed_count(), moved

    def as_dict(self) -> dict[str, int | bool]:
        return {"given": self.given, "placed": self.placed, "moved": self.moved, "dropped": self.dropped,
                "used": self.used}


def _worker_of(el: Eligibility, start: Mapping[str, str], members: tuple[int, ...] | list[int]) -> int | None:
    """The one worker index the start gives every member, or None (none given, several, or unknown)."""
    targets = {start.get(el.clients[i].client_id) for i in members}
    if len(targets) != 1:
        return None
    worker_id = targets.pop()
    return None if worker_id is None else el.worker_index.get(worker_id)


def start_moves(el: Eligibility, start: Mapping[str, str]) -> dict[tuple[int, ...], int]:
    """The moves the start makes, as a movable item (`optimizer.classes.movable_items`) -> destination worker
    index, where every member may go (`Eligibility.pair_slot`): the destinations the model keeps
    (`optimizer.classes.build_classes`' keep_moves) and the moves `start_state` makes."""
    out: dict[tuple[int, ...], int] = {}
    for item in movable_items(el):
        j = _worker_of(el, start, item)
        if j is not None and j != int(el.current[item[0]]) and all(el.pair_slot(i, j) >= 0 for i in item):
            out[item] = j
    return out


def start_state(el: Eligibility, cap: WorkerCapacity, units: list[Unit], order: list[int], move_budget: int,
                start: Mapping[str, str], moves: dict[tuple[int, ...], int]) -> tuple[Caseloads, StartLog]:
    """The start as tonight's caseloads, less what breaks a rule: its ``moves`` (`start_moves`) first (they free
    the room placements may need; a move that needs another's room waits for it, over as many passes as help),
    then placements in the queue's order, each to a worker its unit may have (`Unit.eligible`: every member's
    rules, and the family's worker)."""
    state = Caseloads(el, cap, units)
    log = StartLog(given=len(start))
    unchanged = sum(1 for i, c in enumerate(el.clients)
                    if int(el.current[i]) >= 0 and el.worker_index.get(start.get(c.client_id, "")) == el.current[i])
    pending = list(moves.items())
    progress = True
    while pending and progress:
        progress = False
        left = []
        for item, j in pending:
            fits = (cap.accepts_new[j] and state.item_weight(item, j) <= state.room(j)
                    and len(item) <= state.allowance_left(j) and len(state.move_to) + len(item) <= move_budget)
            if fits:
                state.move_item(item, j)
                progress = True
            else:
                left.append((item, j))
        pending = left
    for u in order:
        j = _worker_of(el, start, units[u].members)
        if j is not None and np.isin(j, units[u].eligible) and state.fits(u, j):
            state.place(u, j)
    log.moved = len(state.move_to)
    log.placed = state.placed_count()
    log.dropped = max(0, log.given - unchanged - log.moved - log.placed)
    return state, log
