"""Caseload projections for funders: a SimPy model of referrals, waitlist, case management and staffing.

`load_scenario` reads a scenario YAML (data contract, section scenario), `run_scenario` runs its
replications, `compare` puts two runs side by side with paired differences; `simulation.sweep` runs
grids on Dask and `simulation.plots` draws the results.
"""

from simulation.replications import ScenarioResult, compare, compare_monthly, run_scenario
from simulation.schema import Scenario, ScenarioError, load_scenario, scenario_from_dict
from simulation.start import StartState, start_state_from_agency

__all__ = [
    "Scenario", "ScenarioError", "ScenarioResult", "StartState", "compare", "compare_monthly", "load_scenario",
    "run_scenario", "scenario_from_dict", "start_state_from_agency",
]
