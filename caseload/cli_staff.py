"""`caseload staff`: which hires place the most waiting clients tonight, for what money (planning.staffing).

A user mistake (a bad candidates file, no budget, a missing folder) exits with status 2 and a report of every
error, never a traceback, and writes nothing. The command body only reads inputs, calls the planner and writes
its files, so later options (the projection over time) join as one more call.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from caseload.cli_common import USER_ERROR, console, err_console, load_or_exit, open_store, parse_as_of, print_errors
from caseload.validation import ValidationFailed

if TYPE_CHECKING:
    from caseload.domain import Agency, Candidate
    from planning.staffing import StaffingPlan

BOTTLENECK_SHARE = 0.25  # of --time-limit: the bottleneck re-solves; the plan and its frontier get the rest
FRONTIER_TIME_FACTOR = 3  # without --time-limit, a frontier gets this many times the policy's time_limit_s


def _agency(data_dir: Path | None, policy: Path | None, db: str | None, as_of: date | None) -> Agency:
    """Today's state: from a data folder, or from the store with --db."""
    if db is not None:
        if data_dir is not None or policy is not None:
            err_console.print("staff --db reads the store: give no DATA_DIR or --policy with it")
            raise typer.Exit(USER_ERROR)
        from caseload.store.database import StoreError
        from caseload.store.state import store_agency

        try:
            return store_agency(open_store(db, create=False), as_of)
        except StoreError as exc:
            err_console.print(f"[red]error:[/red] {exc}", highlight=False)
            raise typer.Exit(USER_ERROR) from None
    if data_dir is None:
        err_console.print("staff needs DATA_DIR (or --db URL to read the store)")
        raise typer.Exit(USER_ERROR)
    return load_or_exit(data_dir, policy, as_of=as_of)


def _candidates(path: Path | None, agency: Agency) -> tuple[list[Candidate], str]:
    from planning.staffing import derive_candidates

    if path is None:
        return derive_candidates(agency), "derived from waiting clients' needs (language, French, area)"
    from caseload.reader import load_candidates

    try:
        return load_candidates(path), str(path)
    except ValidationFailed as failure:
        print_errors(failure)
        raise typer.Exit(USER_ERROR) from None


def _budget(budget: float | None, budget_fte: float | None, agency: Agency) -> float:
    if (budget is None) == (budget_fte is None):
        err_console.print("staff needs one of --budget DOLLARS or --budget-fte F")
        raise typer.Exit(USER_ERROR)
    value = budget if budget is not None else budget_fte * agency.policy.cost_per_fte
    if value < 0 or value != value:
        err_console.print(f"the budget must be 0 or more (got {value:g})")
        raise typer.Exit(USER_ERROR)
    return float(value)


def _time_limits(given: float | None, policy_s: float, frontier_steps: int,
                 with_bottlenecks: bool) -> tuple[float, float]:
    """(plan and frontier, bottlenecks) seconds. --time-limit is the whole command's ceiling, a quarter of it for
    the bottlenecks. Without it, the plan gets the policy's time_limit_s, three times that with a frontier (the
    issue's targets: one budget in 60 s, a 10-step frontier in 180 s), and the bottlenecks a quarter more."""
    if given is not None:
        return (given * (1 - BOTTLENECK_SHARE), given * BOTTLENECK_SHARE) if with_bottlenecks else (given, 0.0)
    plan_s = policy_s * (FRONTIER_TIME_FACTOR if frontier_steps else 1)
    return plan_s, policy_s * BOTTLENECK_SHARE if with_bottlenecks else 0.0


def print_staffing(plan: StaffingPlan) -> None:
    """The plan as a program manager reads it: what it costs, what it places, and the hires."""
    if plan.note:
        console.print(f"[yellow]{plan.note}[/yellow]")
    head = Table(title="Staffing plan", title_justify="left", show_header=False)
    head.add_column("figure")
    head.add_column("value", justify="right")
    rows = [("budget", f"${plan.budget:,.0f}"), ("cost of the hires", f"${plan.cost:,.0f}"),
            ("placed tonight without hires", str(plan.placed_without)),
            ("placed tonight with the hires", str(plan.placed_with)),
            ("proven bound for this budget", "-" if plan.bound is None else str(plan.bound)),
            ("gap to the bound", "-" if plan.gap is None else f"{plan.gap:.2%}"), ("status", plan.status),
            ("time (s)", f"{plan.summary.get('wall_time_s', 0):.2f}")]
    for label, value in rows:
        head.add_row(label, value)
    console.print(head)
    if plan.summary.get("moves"):
        console.print(plan.summary["moves"], highlight=False)
    frame = plan.hires_frame()
    if len(frame):
        hires = Table(title="Hires", title_justify="left")
        for column in frame.columns:
            hires.add_column(column, justify="left" if column == "candidate_id" else "right")
        for row in frame.itertuples(index=False):
            hires.add_row(*(f"{v:,.0f}" if isinstance(v, float) and v >= 1000 else str(v) for v in row))
        console.print(hires)
    if plan.frontier:
        front = Table(title="Frontier", title_justify="left")
        for column in ("budget", "placed", "cost", "clients per $100,000"):
            front.add_column(column, justify="right")
        for row in plan.frontier:
            per = row.get("placed_per_100000")
            front.add_row(f"${row['budget']:,.0f}", str(row["placed"]), f"${row['cost']:,.0f}",
                          "-" if per is None else f"{per:.1f}")
        console.print(front)


def register(app: typer.Typer) -> None:
    @app.command()
    def staff(
        data_dir: Annotated[Path | None, typer.Argument(
            help="Folder with clients, workers and optional policy.yaml (not with --db)")] = None,
        out: Annotated[Path, typer.Option("--out", help="Folder for hires.csv, workers_with_hires.csv, "
                                                       "staffing.json, frontier.png, bottlenecks.csv")] = ...,
        candidates: Annotated[Path | None, typer.Option(
            "--candidates", help="Positions the agency could fund (data contract, candidates); default: "
                                 "derived from waiting clients' needs")] = None,
        budget: Annotated[float | None, typer.Option("--budget", help="A year's budget for hires, dollars")] = None,
        budget_fte: Annotated[float | None, typer.Option(
            "--budget-fte", help="The budget as FTE at the policy's cost_per_fte")] = None,
        frontier_steps: Annotated[int, typer.Option(
            "--frontier", help="Budget steps of the frontier, 0 to the budget (0: no frontier)", min=0)] = 10,
        bottlenecks_on: Annotated[bool, typer.Option(
            "--bottlenecks/--no-bottlenecks", help="Also say where clients wait and what one more FTE places")] = True,
        seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same plan")] = 0,
        time_limit: Annotated[float | None, typer.Option(
            "--time-limit", help="Solver budget in seconds for the whole command (default: the policy's "
                                 "time_limit_s for the plan, 3x with a frontier, a quarter more for bottlenecks)"),
        ] = None,
        policy: Annotated[Path | None, typer.Option(help="Policy YAML (default: DATA_DIR/policy.yaml)")] = None,
        as_of: Annotated[str | None, typer.Option("--as-of", help="Date of the plan, YYYY-MM-DD (today)")] = None,
        db: Annotated[str | None, typer.Option("--db", help="Read today's state from the store (SQLAlchemy URL "
                                                            "or SQLite file path)")] = None,
        projection_on: Annotated[bool, typer.Option(
            "--projection/--no-projection", help="Also project the waitlist and wait over --months with and "
                                                 "without the hires, and search the FTE for the target wait")] = True,
        target_wait_months: Annotated[float, typer.Option(
            "--target-wait-months", min=0.0, help="The 90th-percentile wait to stay under, every month")] = 3.0,
        months: Annotated[int, typer.Option("--months", min=1, max=120, help="The projection's horizon")] = 12,
        replications: Annotated[int, typer.Option(
            "--replications", min=1, max=10_000, help="Simulation runs per projection (same seeds with and "
                                                      "without the hires)")] = 20,
        scheduler: Annotated[str | None, typer.Option(
            "--scheduler", help="Dask scheduler address for the projection's simulation runs (default: "
                                "processes on this machine)")] = None,
    ) -> None:
        """Recommend hires: which positions place the most waiting clients tonight for the budget."""
        from planning.report import write_staffing
        from planning.staffing import bottlenecks, plan_hires

        agency = _agency(data_dir, policy, db, parse_as_of(as_of))
        dollars = _budget(budget, budget_fte, agency)
        pool, source = _candidates(candidates, agency)
        plan_s, bottleneck_s = _time_limits(time_limit, agency.policy.time_limit_s, frontier_steps, bottlenecks_on)
        with console.status("Planning hires...") as status:
            plan = plan_hires(agency, pool, dollars, seed=seed, frontier_steps=frontier_steps, time_limit_s=plan_s,
                              progress=lambda message: status.update(message))
            table = bottlenecks(agency, seed=seed, time_limit_s=bottleneck_s,
                                progress=lambda message: status.update(message)) if bottlenecks_on else None
            pictures = _project(plan, agency, pool, out, target_wait_months=target_wait_months, months=months,
                                replications=replications, seed=seed, scheduler=scheduler,
                                say=status.update) if projection_on else []
        plan.summary["candidates_source"] = source
        written = pictures + write_staffing(plan, out, table)
        print_staffing(plan)
        console.print("Wrote " + ", ".join(str(p) for p in written))
        if plan.hires:
            console.print(f"Tonight, with workers_with_hires.csv as the workers file: `caseload assign DATA_DIR --out "
                          f"... --start {out}` begins from this plan and places at least {plan.placed_with}.")


def _project(plan: StaffingPlan, agency: Agency, pool: list[Candidate], out: Path, *, target_wait_months: float,
             months: int, replications: int, seed: int, scheduler: str | None, say) -> list[Path]:
    """The projection over time and the FTE search (planning.projection) into the plan's summary, and its PNG."""
    from planning.projection import PROJECTION_PNG, plot_projection, project, smallest_fte_for_wait

    try:
        say(f"Projecting {months} months with and without the hires ({replications} replications)...")
        projection = project(agency, plan.hire_workers, months=months, replications=replications, seed=seed,
                             scheduler=scheduler)
        say(f"Searching the FTE that keeps the 90th-percentile wait under {target_wait_months:g} months...")
        search = smallest_fte_for_wait(agency, pool, target_wait_months=target_wait_months, months=months,
                                       replications=replications, seed=seed, scheduler=scheduler)
    except (OSError, TimeoutError) as exc:  # an unreachable --scheduler: a user mistake, not a crash
        err_console.print(f"the Dask scheduler {scheduler!r} could not be reached: {exc}")
        raise typer.Exit(USER_ERROR) from None
    plan.summary["projection"] = projection.to_dict()
    plan.summary["fte_for_target_wait"] = search.to_dict()
    worst = projection.to_dict()["worst_p90_wait_months"]
    console.print(f"Projection over {months} months ({replications} replications, same seeds): worst monthly "
                  f"90th-percentile wait {worst['without']:.1f} months without the hires, {worst['with']:.1f} with.")
    if search.added_fte is None:
        console.print(f"[yellow]No added FTE on the candidates' ladder keeps the 90th-percentile wait at or under "
                      f"{target_wait_months:g} months every month (see staffing.json, fte_for_target_wait).[/yellow]")
    else:
        console.print(f"Smallest added FTE keeping the 90th-percentile wait at or under {target_wait_months:g} "
                      f"months every month: {search.added_fte:g} ({search.hires}).")
    return [plot_projection(projection, out / PROJECTION_PNG, target_wait_months)]
