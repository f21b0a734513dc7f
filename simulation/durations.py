"""Drawing months in case management from the scenario's distributions, in batches.

Draws are vectorised (one numpy call per batch of clients) because a replication draws thousands of them
and per-client calls into numpy would dominate the run time. Clients already active at the start have
been served for a while, so for them the stay is drawn conditional on having lasted that long.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import ndtr, ndtri  # not scipy.stats: it takes a second to import

from simulation.schema import Duration, Exponential, Fixed, Lognormal, Uniform

OVERDUE_MONTHS = 1.0  # a client past the distribution's range graduates within this many months


def lognormal_parameters(mean: float, sd: float) -> tuple[float, float]:
    """(mu, sigma) of the underlying normal for a lognormal with this mean and standard deviation."""
    sigma2 = math.log1p((sd / mean) ** 2)
    return math.log(mean) - sigma2 / 2, math.sqrt(sigma2)


def sample(dist: Duration, n: int, rng: np.random.Generator) -> np.ndarray:
    """n stays (months) from the distribution."""
    if isinstance(dist, Lognormal):
        mu, sigma = lognormal_parameters(dist.mean, dist.sd)
        return rng.lognormal(mu, sigma, n)
    if isinstance(dist, Exponential):
        return rng.exponential(dist.mean, n)
    if isinstance(dist, Uniform):
        return rng.uniform(dist.low, dist.high, n)
    if isinstance(dist, Fixed):
        rng.random(n)  # keep the stream's use independent of the distribution chosen
        return np.full(n, dist.value)
    raise TypeError(f"unknown distribution {dist!r}")


def sample_given_elapsed(dist: Duration, elapsed: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Total stays for clients already `elapsed` months in: drawn from the distribution given stay > elapsed.

    Inverse-CDF sampling on the tail beyond `elapsed`. A client already past the distribution's range
    (e.g. 20 months in with a fixed 12) is overdue and graduates within OVERDUE_MONTHS, uniformly.
    """
    elapsed = np.asarray(elapsed, dtype=float)
    n = elapsed.size
    u = rng.random(n)
    overdue_draw = elapsed + rng.random(n) * OVERDUE_MONTHS
    if isinstance(dist, Exponential):
        return elapsed + -dist.mean * np.log1p(-u)
    if isinstance(dist, Lognormal):
        mu, sigma = lognormal_parameters(dist.mean, dist.sd)
        with np.errstate(all="ignore"):
            lower = ndtr((np.log(elapsed) - mu) / sigma)
            p = np.minimum(lower + u * (1.0 - lower), 1.0 - 1e-12)
            total = np.exp(mu + sigma * ndtri(p))
        ok = (lower < 1.0 - 1e-9) & np.isfinite(total) & (total > elapsed)
        return np.where(ok, total, overdue_draw)
    if isinstance(dist, Uniform):
        low = np.maximum(elapsed, dist.low)
        total = low + u * (dist.high - low)
        return np.where(elapsed < dist.high, total, overdue_draw)
    if isinstance(dist, Fixed):
        return np.where(elapsed < dist.value, np.full(n, dist.value), overdue_draw)
    raise TypeError(f"unknown distribution {dist!r}")


def mean_of(dist: Duration) -> float:
    """The distribution's mean (months), for back-of-envelope capacity notes."""
    if isinstance(dist, Lognormal | Exponential):
        return dist.mean
    if isinstance(dist, Uniform):
        return (dist.low + dist.high) / 2
    return dist.value
