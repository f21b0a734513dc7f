"""Tonight's caseloads while a plan is being built: loads, intakes, and who goes where, in index form.

The greedy, the model's decoding, the polishing pass and the explanations all work on this one
structure, so "does this unit fit with that worker" means the same thing everywhere:
the worker accepts new clients (available, not over target), has the load units left for the unit,
and has intake allowance left for its size.
"""

from __future__ import annotations

import numpy as np

from optimizer.eligibility import Eligibility, WorkerCapacity
from optimizer.units import Unit


class Caseloads:
    """Loads in integer units and new-client counts per worker, for units placed and clients moved."""

    def __init__(self, el: Eligibility, cap: WorkerCapacity, units: list[Unit]):
        self.el = el
        self.cap = cap
        self.units = units
        self.load = cap.kept_load.astype(np.int64).copy()
        self.new = np.zeros(el.n_workers, dtype=np.int64)
        self.unit_worker = np.full(len(units), -1, dtype=np.int32)
        self.move_to: dict[int, int] = {}    # optional moves: active client index -> new worker index
        self.received = np.zeros(el.n_workers, dtype=np.int64)  # units placed with the worker

    # --- weights -----------------------------------------------------------------------------------
    def unit_weight(self, u: int, j: int) -> int:
        unit = self.units[u]
        return int(unit.high * self.cap.high_weight[j] + unit.low * self.cap.low_weight[j])

    def client_weight(self, i: int, j: int) -> int:
        high = self.el.clients[i].need_level == "high"
        return int(self.cap.high_weight[j] if high else self.cap.low_weight[j])

    # --- questions ---------------------------------------------------------------------------------
    def room(self, j: int) -> int:
        return int(self.cap.capacity[j] - self.load[j])

    def allowance_left(self, j: int) -> int:
        return int(self.cap.new_allowance[j] - self.new[j])

    def blocker(self, u: int, j: int) -> str | None:
        """Why eligible worker j cannot take unit u now: 'over_target', 'at_target', 'max_new', or None."""
        if not self.cap.accepts_new[j]:
            return "over_target"
        if self.unit_weight(u, j) > self.room(j):
            return "at_target"
        if self.units[u].size > self.allowance_left(j):
            return "max_new"
        return None

    def fits(self, u: int, j: int) -> bool:
        return self.blocker(u, j) is None

    # --- changes -----------------------------------------------------------------------------------
    def place(self, u: int, j: int) -> None:
        assert self.unit_worker[u] < 0
        self.unit_worker[u] = j
        self.load[j] += self.unit_weight(u, j)
        self.new[j] += self.units[u].size
        self.received[j] += 1

    def unplace(self, u: int) -> None:
        j = int(self.unit_worker[u])
        assert j >= 0
        self.unit_worker[u] = -1
        self.load[j] -= self.unit_weight(u, j)
        self.new[j] -= self.units[u].size
        self.received[j] -= 1

    def move(self, i: int, j: int) -> None:
        assert i not in self.move_to
        old = int(self.el.current[i])
        self.move_to[i] = j
        self.load[old] -= self.client_weight(i, old)
        self.load[j] += self.client_weight(i, j)
        self.new[j] += 1

    def item_weight(self, item: tuple[int, ...], j: int) -> int:
        return sum(self.client_weight(i, j) for i in item)

    def move_item(self, item: tuple[int, ...], j: int) -> None:
        """Move a movable item (a client, or a family whole) to worker j."""
        for i in item:
            self.move(i, j)

    def moved_items(self) -> list[tuple[int, ...]]:
        """Tonight's optional moves as items: a family moved whole is one item (never undone in part)."""
        family: dict[str, list[int]] = {}
        out: list[tuple[int, ...]] = []
        for i in sorted(self.move_to):
            fid = self.el.clients[i].family_id
            if fid:
                family.setdefault(fid, []).append(i)
            else:
                out.append((i,))
        out.extend(tuple(members) for members in family.values())
        return sorted(out)

    def unmove(self, i: int) -> None:
        j = self.move_to.pop(i)
        old = int(self.el.current[i])
        self.load[old] += self.client_weight(i, old)
        self.load[j] -= self.client_weight(i, j)
        self.new[j] -= 1

    def moved_in(self) -> np.ndarray:
        out = np.zeros(self.el.n_workers, dtype=np.int64)
        for j in self.move_to.values():
            out[j] += 1
        return out

    def placed_count(self) -> int:
        """Clients placed tonight: members of placed units (waiting clients and re-placed forced movers)."""
        return int(sum(self.units[u].size for u in np.nonzero(self.unit_worker >= 0)[0]))
