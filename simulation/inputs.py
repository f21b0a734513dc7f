"""A scenario resolved into the plain numbers one replication needs, cheap to send to other processes.

Resolving happens once per scenario (reading start_from, filling defaults from today's caseload), not
once per replication, and the result is what travels to worker processes and Dask workers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

import numpy as np

from simulation.schema import Duration, Scenario
from simulation.start import Pool, StartState

DEFAULT_HIGH_NEED_SHARE = 0.35


@dataclass(frozen=True)
class ModelInputs:
    name: str
    start: date
    horizon: int
    rates: tuple[float, ...]  # referrals a month, per month
    high_need_share: float
    duration_high: Duration
    duration_low: Duration
    reassess_every: float | None
    step_down: float
    step_up: float
    dropout_hazard: float  # per month (exponential time to dropout while served)
    renege_months: float | None
    funding: tuple[tuple[int, float | None], ...]  # (month, fte) steps; fte None keeps today's workers
    cost_per_fte: tuple[float, ...]  # yearly cost of one FTE, per month
    hiring_lag: float
    attrition_hazard: float  # per worker per month
    high_need_ratio: float
    low_need_ratio: float
    french_fte_share: float
    french_pool_shared: bool
    languages: tuple[str, ...]
    language_mix: tuple[float, ...]
    french_service_by_language: tuple[float, ...]
    start_state: StartState | None
    notes: tuple[str, ...]
    pools: tuple[Pool, ...] = ()  # language pools (empty: the general and French lines only)
    pool_mix: tuple[float, ...] = ()  # each pool's share of new referrals
    pool_language: tuple[int, ...] = ()  # each pool's commonest first language (index into languages)
    waiting_ages: bool = False  # record waits counted from the start each month (*_since_start_p90_months)


def _hazard(probability: float) -> float:
    """Constant hazard that gives this probability of the event within one period."""
    return -math.log1p(-probability) if probability > 0 else 0.0


def resolve(scenario: Scenario, start_state: StartState | None) -> ModelInputs:
    """Fill what the scenario leaves out from today's caseload (or the framework's defaults)."""
    notes: list[str] = list(start_state.notes) if start_state else []
    if scenario.targets is not None:
        high_ratio, low_ratio = scenario.targets.high_need_ratio, scenario.targets.low_need_ratio
    elif start_state is not None:
        high_ratio, low_ratio = start_state.high_need_ratio, start_state.low_need_ratio
    else:
        high_ratio, low_ratio = 15.0, 50.0

    high_share = scenario.high_need_share
    if high_share is None:
        high_share = start_state.high_need_share if start_state and start_state.high_need_share is not None \
            else DEFAULT_HIGH_NEED_SHARE

    if scenario.language_mix is not None:
        languages = tuple(scenario.language_mix)
        mix = np.array([scenario.language_mix[k] for k in languages], dtype=float)
        mix = mix / mix.sum()
        if start_state is not None:
            known = dict(zip(start_state.languages, start_state.french_service_by_language, strict=True))
            by_language = np.array([known.get(k, 0.0) for k in languages])
        else:
            by_language = np.zeros(len(languages))
    elif start_state is not None and start_state.languages:
        languages, mix = start_state.languages, start_state.language_mix
        by_language = start_state.french_service_by_language
    else:
        languages, mix, by_language = ("und",), np.ones(1), np.zeros(1)
    if scenario.french_service_share is not None:
        by_language = np.full(len(languages), scenario.french_service_share)

    if scenario.french_fte_share is not None:
        french_fte_share = scenario.french_fte_share
    elif start_state is not None:
        french_fte_share = start_state.french_fte_share
    else:
        french_fte_share = 0.0
    french_demand = float(np.dot(mix, by_language))
    if french_demand > 0 and french_fte_share == 0:
        notes.append("French-service referrals arrive but no FTE is French-capable: they can never be placed")

    cost, costs = 0.0, []
    steps = {s.month: s for s in scenario.funding}
    for month in range(scenario.horizon_months):
        step = steps.get(month)
        if step is not None and step.cost_per_fte is not None:
            cost = step.cost_per_fte
        costs.append(cost)

    pools: tuple[Pool, ...] = ()
    pool_mix: tuple[float, ...] = ()
    pool_language: tuple[int, ...] = ()
    if scenario.language_pools:
        if scenario.language_mix is not None:
            notes.append("language_pools draws referrals from start_from's pools; with language_mix set, "
                         "clients are served as one general and one French line")
        elif start_state is None or not start_state.pools:
            notes.append("language_pools needs start_from with clients: served as one general and one French line")
        else:
            pools = start_state.pools
            pool_mix = tuple(float(x) for x in start_state.pool_mix)
            pool_language = tuple(int(x) for x in start_state.pool_language)
            unserved = [p for p in pools if not any(p.served_by(w.languages, w.french) for w in start_state.workers)]
            if unserved:
                notes.append(f"{len(unserved)} language pool(s) have no worker who can serve them today")

    start = scenario.start or (start_state.as_of if start_state else date.today())
    return ModelInputs(
        name=scenario.name,
        start=start,
        horizon=scenario.horizon_months,
        rates=tuple(scenario.rate_by_month()),
        high_need_share=float(high_share),
        duration_high=scenario.duration_months.high,
        duration_low=scenario.duration_months.low,
        reassess_every=scenario.reassessment_every_months,
        step_down=scenario.step_down_share,
        step_up=scenario.step_up_share,
        dropout_hazard=_hazard(scenario.dropout_per_month),
        renege_months=scenario.waitlist_renege_months,
        funding=tuple((s.month, s.fte) for s in scenario.funding if s.fte is not None or s.month == 0),
        cost_per_fte=tuple(costs),
        hiring_lag=scenario.hiring_lag_months,
        attrition_hazard=_hazard(scenario.attrition_per_year) / 12.0,
        high_need_ratio=high_ratio,
        low_need_ratio=low_ratio,
        french_fte_share=float(french_fte_share),
        french_pool_shared=scenario.french_pool == "shared",
        languages=tuple(languages),
        language_mix=tuple(float(x) for x in mix),
        french_service_by_language=tuple(float(x) for x in by_language),
        start_state=start_state,
        notes=tuple(notes),
        pools=pools,
        pool_mix=pool_mix,
        pool_language=pool_language,
    )
