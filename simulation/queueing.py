"""Textbook queueing formulas the simulation is checked against.

The M/M/c queue (Poisson arrivals, exponential service, c identical servers, first come first served)
is the one case of a caseload with a closed form: with one need level, exponential stays and no
reassessment, dropout, reneging or attrition, an agency of F FTE at ratio r is an M/M/c queue with
c = F x r. PyPI has small Erlang packages (erlangccmath, erlanglib) but none widely used or maintained
enough to depend on for a dozen lines, so the formula is implemented here.

References: A. K. Erlang (1917); L. Kleinrock, *Queueing Systems, Vol. 1* (1975), section 3.5;
D. Gross et al., *Fundamentals of Queueing Theory* (4th ed., 2008), section 2.3.
"""

from __future__ import annotations


def erlang_b(servers: int, offered_load: float) -> float:
    """Blocking probability of M/M/c/c, by the stable recursion B(k) = a B(k-1) / (k + a B(k-1))."""
    if servers < 0 or offered_load < 0:
        raise ValueError("servers and offered load must be non-negative")
    b = 1.0
    for k in range(1, servers + 1):
        b = offered_load * b / (k + offered_load * b)
    return b


def erlang_c(servers: int, offered_load: float) -> float:
    """Probability that an arrival waits in M/M/c: C = c B / (c - a (1 - B)), with a = lambda / mu < c."""
    if offered_load >= servers:
        return 1.0
    b = erlang_b(servers, offered_load)
    return servers * b / (servers - offered_load * (1.0 - b))


def mmc_mean_wait(arrival_rate: float, mean_service: float, servers: int) -> float:
    """Mean wait in queue Wq = C(c, a) / (c mu - lambda) of a stable M/M/c queue (same time unit as inputs)."""
    mu = 1.0 / mean_service
    a = arrival_rate * mean_service
    if a >= servers:
        raise ValueError(f"unstable: offered load {a:g} >= {servers} servers")
    return erlang_c(servers, a) / (servers * mu - arrival_rate)


def mmc_mean_queue(arrival_rate: float, mean_service: float, servers: int) -> float:
    """Mean number waiting Lq = lambda Wq (Little's law)."""
    return arrival_rate * mmc_mean_wait(arrival_rate, mean_service, servers)
