"""Shared helpers for the optimizer tests: run the optimizer and check the plan against every rule."""

from __future__ import annotations

import pytest

from caseload.domain import Agency
from optimizer import assign
from optimizer.check import violations
from optimizer.plan import Plan


def solve_checked(agency: Agency, **kw) -> Plan:
    """assign() with a short budget, failing the test if the plan breaks any hard rule."""
    kw.setdefault("time_limit_s", 10)
    plan = assign(agency, **kw)
    broken = violations(agency, plan)
    assert broken == [], broken
    return plan


@pytest.fixture
def solve():
    return solve_checked


def by_id(plan: Plan) -> dict:
    return {a.client_id: a for a in plan.assignments}
