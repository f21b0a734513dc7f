"""The nightly assign's neighbourhood search alone (`optimizer.mip_search.search`), from the same start on
the same generated agency, for a fixed time: to compare two versions of it without the rest of `assign`
(whose clock-limited phases hand it a different start from run to run).

Usage: ``python benchmarks/neighbourhood_search.py --clients 20000 --workers 500 --seconds 15``; to compare
with an earlier commit, check it out with ``git worktree add /tmp/old REV`` and run the same command there
with ``PYTHONPATH=/tmp/old``. Prints one JSON line per seed: rounds, neighbourhoods, placements before and
after, failed neighbourhoods, the reason it stopped and its wall time.
"""

from __future__ import annotations

import argparse
import json
import time

import optimizer.mip_search as mip_search
from optimizer.classes import build_classes
from optimizer.decode import plan_columns
from optimizer.eligibility import compute_eligibility, worker_capacity
from optimizer.greedy import greedy_fill
from optimizer.units import ranked, rule_family_one_worker
from scenarios.generate import generate_agency


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seeds", default="0,1", help="search seeds, comma-separated (the agency's seed is 1)")
    args = parser.parse_args()
    agency = generate_agency(args.clients, args.workers, waiting_share=0.15, seed=1)
    el = compute_eligibility(agency)
    cap = worker_capacity(agency, el)
    units = rule_family_one_worker(agency, el)
    cl = build_classes(agency, el, cap, units, ranked(units))
    start = plan_columns(cl, greedy_fill(el, cap, units))  # the same start for every version and seed
    for seed in (int(s) for s in args.seeds.split(",")):
        log = mip_search.MipSearchLog()
        began = time.monotonic()
        mip_search.search(cl, cap, start, seconds=args.seconds, threads=args.threads, seed=seed, log=log)
        print(json.dumps({"module": mip_search.__file__, "clients": args.clients, "seed": seed,
                          "wall_s": round(time.monotonic() - began, 1), **log.as_dict()}), flush=True)


if __name__ == "__main__":
    main()
