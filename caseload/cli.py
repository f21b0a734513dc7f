"""The `caseload` command line: the nightly job a coordinator (or cron) runs.

Each group of commands lives beside the code it drives and registers itself here, so this file stays a
table of contents: assignment and validation (caseload.cli_assign), the simulation (simulation.cli),
the store (caseload.cli_store), the app (app.cli).
"""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    name="caseload",
    help="Caseload planning and matching for newcomer settlement case management.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Modules that define `register(app)`. A module not written yet is skipped so that every part can land
# on its own; a module that fails to import for another reason still raises.
COMMAND_MODULES = ("caseload.cli_assign", "simulation.cli", "caseload.cli_store", "app.cli", "caseload.cli_staff",
                   "caseload.cli_waitlist", "caseload.cli_overrides")

for _name in COMMAND_MODULES:
    try:
        _module = importlib.import_module(_name)
    except ModuleNotFoundError as exc:
        if exc.name != _name:
            raise
        continue
    _module.register(app)


if __name__ == "__main__":  # pragma: no cover
    app()
