"""The scenarios page: a funding scenario run from the form shows the library's figures, aggregates only."""

from __future__ import annotations

import pytest

from app import scenario_form, state, views
from simulation.replications import compare, run_scenario
from tests.app.conftest import SAMPLE, button, element_texts, frame_with, no_exception

BASE = """\
name: "Base funding"
start: 2027-01-01
horizon_months: 18
replications: 12
seed: 1
start_from: scenarios/sample
referrals_per_month: 25
high_need_share: 0.35
funding:
  - {month: 0, cost_per_fte: 78000}
  - {month: 6, fte: 18}
hiring_lag_months: 2
attrition_per_year: 0.12
"""
MORE = BASE.replace('"Base funding"', '"More funding"').replace("fte: 18", "fte: 22")


@pytest.fixture
def scenario_dir(tmp_path, monkeypatch):
    """Two small scenarios in a folder of their own (start_from relative to the repository, as shipped)."""
    folder = tmp_path / "scenarios"
    folder.mkdir()
    (folder / "a_base.yaml").write_text(BASE, encoding="utf-8")
    (folder / "b_more.yaml").write_text(MORE, encoding="utf-8")
    monkeypatch.setattr(state, "SCENARIO_DIR", folder)
    return folder


def open_scenarios(at):
    at.run()
    at.switch_page("app_pages/scenarios.py").run()
    no_exception(at)
    return at


def test_run_from_the_form_shows_the_library_result(open_app, scenario_dir):
    at = open_scenarios(open_app)
    assert at.selectbox(key="scenario_choice").options == ["Base funding (a_base.yaml)", "More funding (b_more.yaml)"]
    at.number_input(key="a_base_r").set_value(10)
    at.number_input(key="a_base_ref").set_value(30.0)
    button(at, "Run the scenario").click().run()
    no_exception(at)
    scenario = scenario_form.read_scenario(scenario_dir / "a_base.yaml").with_changes(replications=10,
                                                                                      referrals_per_month=30.0)
    assert scenario.start_from_path().resolve() == SAMPLE.resolve()
    expected = run_scenario(scenario, processes=1).summary
    shown = {m.label: m.value for m in at.metric}
    assert shown["Waitlist at the end"] == views._short(expected["end_of_horizon"]["waitlist"]["mean"])
    assert shown["Mean wait (months)"] == views._short(expected["wait_months"]["mean"]["mean"])
    assert shown["Graduations in 18 months"] == views._short(expected["totals"]["graduations"]["mean"])
    assert shown["Cost over 18 months"] == views._short(expected["totals"]["cost"]["mean"], money=True)
    assert len(at.get("plotly_chart")) == 6
    assert [b.label for b in at.download_button] == ["Download monthly results (CSV)", "Download the summary (JSON)"]


def test_a_broken_edit_lists_every_problem(open_app, scenario_dir):
    at = open_scenarios(open_app)
    at.number_input(key="a_base_h").set_value(4)  # the month-6 funding step now falls outside the horizon
    button(at, "Run the scenario").click().run()
    no_exception(at)
    errors = frame_with(at, "file", "column", "rule")
    assert any("inside the horizon" in rule for rule in errors["rule"])
    assert not at.metric


def test_two_scenarios_side_by_side(open_app, scenario_dir):
    at = open_scenarios(open_app)
    at.selectbox(key="compare_a").set_value("Base funding (a_base.yaml)")
    at.selectbox(key="compare_b").set_value("More funding (b_more.yaml)")
    at.number_input(key="compare_reps").set_value(8)
    button(at, "Run and compare").click().run()
    no_exception(at)
    a = run_scenario(scenario_form.read_scenario(scenario_dir / "a_base.yaml").with_changes(replications=8),
                     processes=1)
    b = run_scenario(scenario_form.read_scenario(scenario_dir / "b_more.yaml").with_changes(replications=8),
                     processes=1)
    expected = views.comparison_table(compare(a, b))
    table = frame_with(at, "figure", "a_mean", "b_mean", "diff_mean")
    assert list(table["figure"]) == list(expected["figure"])
    for column in ("a_mean", "b_mean", "diff_mean", "diff_low", "diff_high"):
        assert table[column].fillna(-1).tolist() == pytest.approx(expected[column].fillna(-1).tolist())
    assert [s.value for s in at.subheader][:2] == ["A: Base funding", "B: More funding"]


def test_no_client_appears_on_the_scenarios_page(open_app, scenario_dir, sample_agency):
    at = open_scenarios(open_app)
    button(at, "Run the scenario").click().run()
    at.selectbox(key="compare_b").set_value("More funding (b_more.yaml)")
    button(at, "Run and compare").click().run()
    no_exception(at)
    text = " ".join(element_texts(at))
    assert "client_id" not in text
    leaked = [c.client_id for c in sample_agency.clients if c.client_id in text]
    assert leaked == []


def test_the_shipped_scenarios_are_offered_with_their_start_state(open_app):
    shipped = sorted(state.SCENARIO_DIR.glob("*.yaml"))
    assert shipped, "scenarios/*.yaml: the funding scenarios shipped with the sample"
    at = open_scenarios(open_app)
    options = at.selectbox(key="scenario_choice").options
    assert [o.rsplit("(", 1)[1].rstrip(")") for o in options] == [p.name for p in shipped]
    for path in shipped:
        start = scenario_form.read_scenario(path).start_from_path()
        assert start is None or start.is_dir()
    for option in options:  # each one's form draws from the file's values
        at.selectbox(key="scenario_choice").set_value(option).run()
        no_exception(at)
        assert [b.label for b in at.button if b.label == "Run the scenario"]


ODD = """\
name: "Monthly referrals, other durations"
start: 2027-01-01
horizon_months: 6
replications: 6
seed: 3
start_from: scenarios/sample
referrals_per_month: [20, 20, 30, 30, 40, 40]
duration_months:
  high: {distribution: exponential, mean: 14}
  low: {distribution: fixed, value: 10}
funding:
  - {month: 0, fte: 17, cost_per_fte: 80000}
"""


def test_a_scenario_the_form_cannot_fully_edit_runs_as_the_file_says(open_app, tmp_path, monkeypatch):
    folder = tmp_path / "odd"
    folder.mkdir()
    (folder / "odd.yaml").write_text(ODD, encoding="utf-8")
    monkeypatch.setattr(state, "SCENARIO_DIR", folder)
    at = open_scenarios(open_app)
    button(at, "Run the scenario").click().run()
    no_exception(at)
    expected = run_scenario(scenario_form.read_scenario(folder / "odd.yaml"), processes=1).summary
    shown = {m.label: m.value for m in at.metric}
    assert shown["Waitlist at the end"] == views._short(expected["end_of_horizon"]["waitlist"]["mean"])
    assert shown["Graduations in 6 months"] == views._short(expected["totals"]["graduations"]["mean"])
