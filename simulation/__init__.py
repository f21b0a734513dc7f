"""Caseload projections for funders: a SimPy model of referrals, waitlist, case management and staffing.

`load_scenario` reads a scenario YAML (data contract, section scenario), `run_scenario` runs its
replications, `compare` puts two runs side by side with paired differences; `simulation.sweep` runs
grids on Dask and `simulation.plots` draws the results.
"""

from importlib import import_module
from typing import Any

# Loaded on first use (PEP 562), so that `caseload --help` and the nightly `caseload assign` do not pay
# for SciPy and the SimPy model at start-up.
_EXPORTS = {
    "ScenarioResult": "simulation.replications", "compare": "simulation.replications",
    "compare_monthly": "simulation.replications", "run_scenario": "simulation.replications",
    "Scenario": "simulation.schema", "ScenarioError": "simulation.schema", "load_scenario": "simulation.schema",
    "scenario_from_dict": "simulation.schema", "StartState": "simulation.start",
    "start_state_from_agency": "simulation.start",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'simulation' has no attribute {name!r}")
