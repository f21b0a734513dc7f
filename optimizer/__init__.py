"""The nightly assignment: which waiting client goes to which worker, within every hard rule.

Public API:

- `assign(agency, *, time_limit_s=None, seed=0, num_workers=2, progress=None, on_placements=None) -> Plan`:
  the CP-SAT model; the time limit is a ceiling (each phase stops when more time buys nothing, and the
  summary's ``stages`` say why), and ``on_placements(plan)`` gets a provisional plan once placements are
  final (see `optimizer.solve`);
- `greedy_assign(agency) -> Plan`: first eligible worker with room, in referral order (the baseline);
- `compute_eligibility(agency) -> Eligibility` and `worker_capacity(agency)`: the per-pair rules and the
  integer capacity figures, shared with the benchmarks' independent reference;
- `violations(agency, plan) -> list[str]` (in `optimizer.check`): an independent checker of every rule.

The objective, in strict order (sequential solves, see `optimizer.stages`): (1) placements (count),
then urgent and long-waiting first, families whole; (2) few optional moves; (3) preferred language;
(4) specialised needs matched; (5) shorter travel; (6) even loads against target.
"""

from optimizer.eligibility import Eligibility, WorkerCapacity, compute_eligibility, worker_capacity
from optimizer.greedy import greedy_assign
from optimizer.plan import Plan
from optimizer.solve import assign

__all__ = ["Eligibility", "Plan", "WorkerCapacity", "assign", "compute_eligibility", "greedy_assign",
           "worker_capacity"]
