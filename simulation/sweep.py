"""A grid of scenarios on Dask: each metric as a curve against the varied parameter ("how many FTE do we
need to keep the wait under three months?").

Tasks are (grid point, chunk of replications), so a real cluster (`scheduler=ADDRESS`) spreads one big
sweep across machines; by default a local cluster of one process per core runs it. Replication i of
every grid point uses the same seed, so neighbouring points differ by the parameter, not by luck, and
the curves are smooth with few replications.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from caseload.validation import InputError
from simulation.inputs import ModelInputs, resolve
from simulation.replications import ScenarioResult, collect, run_replications, start_state_for
from simulation.schema import Scenario, ScenarioError, scenario_from_dict
from simulation.start import StartState
from simulation.statistics import band, summary_rows

MAX_POINTS = 10_000


def parse_vary(spec: str) -> tuple[str, list[float]]:
    """`funding.fte=30:60:2` (start:stop:step, stop included) or `high_need_share=0.3,0.4,0.5`."""
    if "=" not in spec:
        raise ValueError(f"--vary {spec!r}: expected KEY=START:STOP:STEP or KEY=V1,V2,...")
    key, _, values = spec.partition("=")
    key = key.strip()
    if not key:
        raise ValueError(f"--vary {spec!r}: the key is empty")
    try:
        if ":" in values:
            parts = [float(p) for p in values.split(":")]
            if len(parts) != 3:
                raise ValueError
            start, stop, step = parts
            if step <= 0 or stop < start:
                raise ValueError(f"--vary {spec!r}: needs START <= STOP and a positive STEP")
            count = int(np.floor((stop - start) / step + 1e-9)) + 1
            grid = [round(start + i * step, 10) for i in range(count)]
        else:
            grid = [float(p) for p in values.split(",") if p.strip()]
    except ValueError as exc:
        if str(exc):
            raise
        raise ValueError(f"--vary {spec!r}: values must be numbers, START:STOP:STEP or V1,V2,...") from None
    if not grid:
        raise ValueError(f"--vary {spec!r}: no values")
    return key, grid


def set_path(data: Any, path: str, value: Any) -> Any:
    """Set a dotted key in the scenario's data. Through a list, a number picks an element and a name
    applies to every element: `funding.fte=40` makes every funding step 40 FTE (flat funding)."""
    parts = path.split(".")

    def walk(node: Any, rest: list[str]) -> Any:
        head = rest[0]
        if isinstance(node, list | tuple):
            items = list(node)
            if head.isdigit():
                i = int(head)
                if i >= len(items):
                    raise KeyError(f"{path}: there is no element {i}")
                items[i] = value if len(rest) == 1 else walk(items[i], rest[1:])
                return items
            return [walk(item, rest) for item in items]
        node = dict(node) if isinstance(node, Mapping) else {}
        node[head] = value if len(rest) == 1 else walk(node.get(head), rest[1:])
        return node

    return walk(data, parts)


@dataclass
class SweepResult:
    parameters: list[str]
    points: list[dict[str, float]]
    results: list[ScenarioResult]
    elapsed_s: float

    @property
    def curves(self) -> pd.DataFrame:
        """One row per grid point and metric: the parameters' values, metric, mean, low, high."""
        rows = []
        for point, result in zip(self.points, self.results, strict=True):
            for metric, values in summary_rows(result.totals).items():
                mean, low, high = band(values)
                rows.append({**point, "metric": metric, "mean": float(mean), "low": float(low),
                             "high": float(high)})
        return pd.DataFrame(rows)

    def write(self, out_dir: Path | str) -> list[Path]:
        from simulation.plots import sweep_png

        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        curves = self.curves
        csv = out / "sweep.csv"
        curves.to_csv(csv, index=False, float_format="%.10g")
        meta = out / "sweep.json"
        meta.write_text(json.dumps({
            "scenario": self.results[0].scenario.name if self.results else None,
            "parameters": self.parameters,
            "points": self.points,
            "replications": self.results[0].replications if self.results else 0,
            "seed": self.results[0].seed if self.results else None,
            "interval": "low/high are the 5th and 95th percentiles across replications",
        }, indent=2) + "\n", encoding="utf-8")
        group = self.parameters[1] if len(self.parameters) > 1 else None
        return [csv, meta, sweep_png(curves, self.parameters[0], out, group)]


def grid_scenarios(scenario: Scenario, vary: Mapping[str, Sequence[float]]) -> tuple[list[dict], list[Scenario]]:
    """Every combination of the varied values, each validated like a scenario file."""
    names = list(vary)
    combos = list(itertools.product(*(vary[n] for n in names)))
    if len(combos) > MAX_POINTS:
        raise ValueError(f"the grid has {len(combos)} points; at most {MAX_POINTS}")
    base = scenario.model_dump(mode="python")
    points, scenarios = [], []
    for combo in combos:
        data = base
        point = dict(zip(names, combo, strict=True))
        for name, value in point.items():
            data = set_path(data, name, value)
        where = ", ".join(f"{k}={v:g}" for k, v in point.items())
        try:
            varied = scenario_from_dict(data, source=f"{scenario.source} with {where}", base_dir=scenario.base_dir)
        except ScenarioError:
            raise
        except KeyError as exc:
            raise ScenarioError([InputError(scenario.source, None, name, None, str(exc))]) from None
        points.append(point)
        scenarios.append(varied)
    return points, scenarios


def _start_states(scenarios: Sequence[Scenario]) -> list[StartState | None]:
    cache: dict[tuple, StartState | None] = {}
    out = []
    for sc in scenarios:
        key = (str(sc.start_from_path()) if sc.start_from else None, sc.start)
        if key not in cache:
            cache[key] = start_state_for(sc)
        out.append(cache[key])
    return out


def run_sweep(scenario: Scenario, vary: Mapping[str, Sequence[float]], replications: int | None = None,
              seed: int | None = None, scheduler: str | None = None, workers: int | None = None,
              processes: bool = True, progress: Callable[[int, int], None] | None = None) -> SweepResult:
    """Run every grid point's replications as Dask tasks and collect them per point.

    scheduler: address of a running Dask scheduler; None starts a local cluster (`workers` processes,
    one thread each; `processes=False` uses threads in this process, for tests and small grids).
    """
    from dask.distributed import Client, LocalCluster, as_completed

    points, scenarios = grid_scenarios(scenario, vary)
    reps = replications or scenario.replications
    seed = scenario.seed if seed is None else seed
    inputs: list[ModelInputs] = [resolve(sc, st) for sc, st in zip(scenarios, _start_states(scenarios),
                                                                    strict=True)]
    began = time.perf_counter()
    cluster = None
    if scheduler:
        client = Client(scheduler)
    else:
        n = workers or os.cpu_count() or 1
        cluster = LocalCluster(n_workers=n if processes else 1, threads_per_worker=1 if processes else n,
                               processes=processes, dashboard_address=None, silence_logs=logging.ERROR)
        client = Client(cluster)
    try:
        cores = max(1, sum(client.nthreads().values()))
        size = max(1, min(reps, -(-reps * len(points) // (cores * 4))))
        chunks = [list(range(i, min(i + size, reps))) for i in range(0, reps, size)]
        futures = {}
        for p, inp in enumerate(inputs):
            shared = client.scatter(inp, broadcast=False)
            for chunk in chunks:
                futures[client.submit(run_replications, shared, seed, chunk, pure=False)] = (p, chunk)
        collected: list[dict[int, Any]] = [{} for _ in points]
        done, total = 0, len(points) * reps
        for future in as_completed(futures):
            p, chunk = futures[future]
            for r, result in zip(chunk, future.result(), strict=True):
                collected[p][r] = result
            done += len(chunk)
            if progress:
                progress(done, total)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    elapsed = time.perf_counter() - began
    results = [collect(sc, inp, seed, [got[r] for r in range(reps)], elapsed)
               for sc, inp, got in zip(scenarios, inputs, collected, strict=True)]
    return SweepResult(list(vary), points, results, elapsed)
