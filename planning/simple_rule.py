"""The rule a program manager follows without the planner: hire for the largest group of clients still
waiting tonight by language (French service counts as French), then by city, until the budget runs out.

Why it is in the product: the staffing planner offers these hires as one of its starts (`planning.staffing`),
so its plan never starts below what the manager's own rule would buy; and the staffing benchmark
(`benchmarks/staff.py`) measures the planner against it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from caseload.domain import Agency, Candidate, Client, NeedLevel
from caseload.languages import primary
from optimizer.eligibility import haversine_km


def _group_language(client: Client) -> str:
    """The language a manager would hire for: French for French service, else the first language."""
    if client.french_service:
        return "fr"
    return primary(client.languages[0]) if client.languages else "und"


def _nearest(lat: float | None, lon: float | None, places: Sequence[tuple[str, float, float]]) -> str | None:
    if lat is None or lon is None or not places:
        return None
    return min(places, key=lambda p: haversine_km(lat, lon, p[1], p[2]))[0]


def simple_rule_hires(agency: Agency, candidates: Sequence[Candidate], budget: float,
                      still_waiting: Sequence[Client] | None = None,
                      cities: Sequence[tuple[str, float, float]] = ()) -> dict[str, int]:
    """Hire for the largest group of waiting clients by language, then by city, until the budget runs out.

    The groups are the clients still waiting tonight (`still_waiting`, default every waiting client); a
    client's city is the nearest of `cities` (name, latitude, longitude), or the candidates' own locations
    when none are given. A hire is the candidate with the most FTE, then the cheapest, that speaks the
    group's language (French-capable for French service) in the group's city (else anywhere), as a manager
    funds whole positions; it takes the group down by the clients one
    hire serves at the group's need mix; when the budget cannot pay for the group's hire, the next group is
    tried; the rule stops when no group's hire is affordable.
    """
    policy = agency.policy
    waiting = list(agency.waiting if still_waiting is None else still_waiting)
    if not cities:
        seen: dict[tuple[float, float], str] = {}
        for c in candidates:
            if c.latitude is not None and c.longitude is not None:
                seen.setdefault((round(c.latitude, 2), round(c.longitude, 2)), c.candidate_id)
        cities = [(name, lat, lon) for (lat, lon), name in seen.items()]
    city_of_candidate = {c.candidate_id: _nearest(c.latitude, c.longitude, cities) for c in candidates}
    groups: Counter = Counter()
    high: Counter = Counter()
    for c in waiting:
        key = (_group_language(c), _nearest(c.latitude, c.longitude, cities))
        groups[key] += 1
        high[key] += c.need_level == NeedLevel.HIGH
    left = float(budget)
    hires: dict[str, int] = {}
    remaining = {k: float(v) for k, v in groups.items()}

    def fits(c: Candidate, language: str) -> bool:
        if language == "fr":  # French service or French first: a French-capable hire serves both
            return c.french
        return language in {primary(code) for code in c.languages}

    while True:
        by_language: Counter = Counter()
        for (language, _city), n in remaining.items():
            if n > 0:
                by_language[language] += n
        chosen = None
        for language, _n in sorted(by_language.items(), key=lambda kv: (-kv[1], kv[0])):
            for (lang, city), n in sorted(remaining.items(), key=lambda kv: (-kv[1], str(kv[0][1]))):
                if lang != language or n <= 0:
                    continue
                options = [c for c in candidates if fits(c, language)
                           and (c.max_hires is None or hires.get(c.candidate_id, 0) < c.max_hires)
                           and c.cost(policy) <= left + 1e-6]
                local = [c for c in options if city_of_candidate[c.candidate_id] == city]
                # a full-time position first (a half-time one when only that is affordable), the cheapest
                pick = min(local or options, key=lambda c: (-c.fte, c.cost(policy), c.candidate_id), default=None)
                if pick is not None:
                    chosen = (pick, (lang, city))
                    break
            if chosen is not None:
                break
        if chosen is None:
            return hires
        pick, key = chosen
        hires[pick.candidate_id] = hires.get(pick.candidate_id, 0) + 1
        left -= pick.cost(policy)
        share = high[key] / groups[key] if groups[key] else 0.0
        per_fte = 1.0 / (share / policy.high_need_ratio + (1 - share) / policy.low_need_ratio)
        remaining[key] -= pick.fte * per_fte
