"""`caseload simulate`, `caseload compare` and `caseload sweep`: the funder's "what if" commands.

A bad scenario (unknown key, wrong type, missing file) or a bad start_from folder exits with status 2
and a report naming file, key and rule; it never prints a traceback and never writes partial outputs.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from caseload.validation import ValidationFailed

console = Console()
err_console = Console(stderr=True)
USER_ERROR = 2


def _report(failure: ValidationFailed) -> None:
    """Every error on its own line, unwrapped: copied into an email or a ticket, it still reads."""
    err_console.print(failure.report(limit=200), soft_wrap=True, markup=False, highlight=False)


@contextmanager
def _user_errors() -> Iterator[None]:
    """Turn the user's mistakes into a report and exit status 2; anything else is a bug and propagates."""
    try:
        yield
    except ValidationFailed as failure:
        _report(failure)
        raise typer.Exit(USER_ERROR) from None
    except (ValueError, OSError) as exc:
        err_console.print(f"error: {exc}", soft_wrap=True, markup=False, highlight=False)
        raise typer.Exit(USER_ERROR) from None


@contextmanager
def _progress_bar(description: str, enabled: bool = True) -> Iterator[Callable[[int, int], None]]:
    from tqdm import tqdm

    bar = None

    def update(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, desc=description, unit="rep", disable=not enabled, leave=False)
        bar.update(done - bar.n)

    try:
        yield update
    finally:
        if bar is not None:
            bar.close()


def _fmt(value: float | None, metric: str = "") -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    if "cost" in metric:
        return f"{value:,.0f}"
    if "months" in metric or metric in ("mean", "p90") or "utilisation" in metric or "fte" in metric:
        return f"{value:.2f}"
    return f"{value:,.1f}"


def _print_summary(summary: dict) -> None:
    table = Table(title=f"{summary['scenario']}: {summary['horizon_months']} months from {summary['start']}, "
                        f"{summary['replications']} replications (90% interval)", title_justify="left")
    table.add_column("figure")
    table.add_column("mean", justify="right")
    table.add_column("low", justify="right")
    table.add_column("high", justify="right")
    for block, label in (("totals", "total {}"), ("wait_months", "wait ({}), months"),
                         ("end_of_horizon", "{} at the end")):
        for name, value in summary[block].items():
            table.add_row(label.format(name.replace("_", " ")), _fmt(value["mean"], name),
                          _fmt(value["low"], name), _fmt(value["high"], name))
    console.print(table)
    for note in summary.get("notes", []):
        console.print(f"[yellow]note:[/yellow] {note}")


def register(app: typer.Typer) -> None:
    @app.command()
    def simulate(
        scenario: Annotated[Path, typer.Argument(help="Scenario YAML (data contract, section scenario)")],
        out: Annotated[Path, typer.Option("--out", help="Folder for monthly.csv, summary.json and charts")],
        replications: Annotated[int | None, typer.Option(min=1, help="Replications (default: the scenario's)")] = None,
        seed: Annotated[int | None, typer.Option(min=0, help="Random seed (default: the scenario's)")] = None,
        processes: Annotated[int | None, typer.Option(min=1, help="Worker processes (default: all cores)")] = None,
        plots: Annotated[bool, typer.Option("--plots/--no-plots", help="Write the PNG charts")] = True,
        quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar")] = False,
    ) -> None:
        """Project waitlist, waits, caseload, graduations and cost under a funding scenario, with ranges."""
        from simulation.replications import run_scenario
        from simulation.schema import load_scenario

        with _user_errors():
            sc = load_scenario(scenario)
            with _progress_bar(sc.name, not quiet) as progress:
                result = run_scenario(sc, replications, seed, processes, progress)
            written = result.write(out, plots=plots)
        _print_summary(result.summary)
        console.print(f"{result.events:,} events in {result.elapsed_s:.1f} s "
                      f"({result.events_per_second:,.0f} events/s)")
        console.print("Wrote " + ", ".join(str(p) for p in written))

    @app.command()
    def compare(
        scenario_a: Annotated[Path, typer.Argument(help="Scenario A (the baseline)")],
        scenario_b: Annotated[Path, typer.Argument(help="Scenario B (the change)")],
        out: Annotated[Path | None, typer.Option("--out", help="Folder for compare.csv, compare_monthly.csv")] = None,
        replications: Annotated[int | None, typer.Option(min=1, help="Replications of each (default: A's)")] = None,
        seed: Annotated[int | None, typer.Option(min=0, help="Seed for both (default: A's)")] = None,
        processes: Annotated[int | None, typer.Option(min=1, help="Worker processes (default: all cores)")] = None,
        quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar")] = False,
    ) -> None:
        """Two scenarios side by side: B - A with its 90% interval, from replications sharing their seeds."""
        from simulation.replications import compare as compare_results
        from simulation.replications import compare_monthly, run_scenario
        from simulation.schema import load_scenario

        with _user_errors():
            a, b = load_scenario(scenario_a), load_scenario(scenario_b)
            n = replications or a.replications
            s = a.seed if seed is None else seed
            results = []
            for sc in (a, b):
                with _progress_bar(sc.name, not quiet) as progress:
                    results.append(run_scenario(sc, n, s, processes, progress))
            table = compare_results(*results)
            if out is not None:
                out.mkdir(parents=True, exist_ok=True)
                table.to_csv(out / "compare.csv", index=False, float_format="%.10g")
                compare_monthly(*results).to_csv(out / "compare_monthly.csv", index=False, float_format="%.10g")
        view = Table(title=f"A: {a.name}   B: {b.name}   ({n} paired replications, seed {s}; 90% intervals)",
                     title_justify="left")
        for column in ("figure", "A", "B", "B - A", "interval of B - A"):
            view.add_column(column, justify="left" if column == "figure" else "right")
        for row in table.itertuples():
            view.add_row(row.metric.replace("_", " "), _fmt(row.a_mean, row.metric), _fmt(row.b_mean, row.metric),
                         _fmt(row.diff_mean, row.metric),
                         f"{_fmt(row.diff_low, row.metric)} to {_fmt(row.diff_high, row.metric)}")
        console.print(view)
        if out is not None:
            console.print(f"Wrote {out / 'compare.csv'}, {out / 'compare_monthly.csv'}")

    @app.command()
    def sweep(
        scenario: Annotated[Path, typer.Argument(help="Scenario YAML to vary")],
        vary: Annotated[list[str], typer.Option(help=(
            "KEY=START:STOP:STEP or KEY=V1,V2 (e.g. funding.fte=30:60:2); repeat for a grid"))],
        out: Annotated[Path, typer.Option("--out", help="Folder for sweep.csv, sweep.json and sweep.png")],
        replications: Annotated[int | None, typer.Option(min=1, help="Replications per point")] = None,
        seed: Annotated[int | None, typer.Option(min=0, help="Random seed (default: the scenario's)")] = None,
        scheduler: Annotated[str | None, typer.Option(help="Dask scheduler address (default: a local cluster)")] = None,
        workers: Annotated[int | None, typer.Option(min=1, help="Local cluster worker processes")] = None,
        quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar")] = False,
    ) -> None:
        """Run a grid of scenarios on Dask and draw each metric against the varied parameter."""
        from simulation.schema import load_scenario
        from simulation.sweep import parse_vary, run_sweep

        with _user_errors():
            sc = load_scenario(scenario)
            grid = dict(parse_vary(spec) for spec in vary)
            with _progress_bar(f"sweep {', '.join(grid)}", not quiet) as progress:
                result = run_sweep(sc, grid, replications, seed, scheduler, workers, progress=progress)
            written = result.write(out)
        curves = result.curves
        names = list(grid)
        view = Table(title=f"{sc.name}: sweep over {', '.join(names)} (mean, 90% interval)", title_justify="left")
        for column in (*names, "waitlist at end", "mean wait (months)", "total cost"):
            view.add_column(column, justify="right")
        wide = curves.pivot_table(index=names, columns="metric", values=["mean", "low", "high"])
        for key, row in wide.iterrows():
            key = key if isinstance(key, tuple) else (key,)
            cells = [f"{k:g}" for k in key]
            for metric in ("end_waitlist", "wait_mean_months"):
                cells.append(f"{_fmt(row[('mean', metric)], metric)} ({_fmt(row[('low', metric)], metric)}-"
                             f"{_fmt(row[('high', metric)], metric)})")
            cost = [row[(k, "total_cost")] / 1e6 for k in ("mean", "low", "high")]
            cells.append(f"{cost[0]:,.2f}M ({cost[1]:,.2f}-{cost[2]:,.2f}M)")
            view.add_row(*cells)
        console.print(view)
        console.print(f"{len(result.points)} points in {result.elapsed_s:.1f} s. Wrote "
                      + ", ".join(str(p) for p in written))
