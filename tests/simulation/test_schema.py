"""The scenario file refuses what it does not know, and says where and why."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulation import ScenarioError, load_scenario
from simulation.schema import Exponential
from tests.simulation.conftest import make_scenario

REPO = Path(__file__).resolve().parents[2]
GOOD = """\
name: "Base"
start: 2027-01-01
horizon_months: 24
start_from: null
referrals_per_month: 40
funding:
  - {month: 0, fte: 20, cost_per_fte: 78000}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "scenario.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def errors_of(path: Path) -> list:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    return caught.value.errors


def test_a_good_file_loads_with_the_contracts_defaults(tmp_path: Path) -> None:
    sc = load_scenario(write(tmp_path, GOOD))
    assert sc.referrals_per_month == 40
    assert sc.duration_months.high.mean == 16
    assert sc.reassessment_every_months == 3
    assert sc.rate_by_month() == [40.0] * 24


def test_the_contracts_example_loads(tmp_path: Path) -> None:
    """The scenario block of the data contract, verbatim, is a valid scenario."""
    contract = (REPO.parent / "shared" / "data-contract.md")
    if not contract.exists():
        contract = Path("/work/shared/data-contract.md")
    if not contract.exists():
        pytest.skip("the data contract is not beside the checkout")
    text = contract.read_text(encoding="utf-8")
    block = text.split("## scenario")[1].split("```yaml")[1].split("```")[0]
    sc = load_scenario(write(tmp_path, block))
    assert sc.funding[1].fte == 46 and sc.hiring_lag_months == 2


@pytest.mark.parametrize(("extra", "key", "hint"), [
    ("attrition_per_yer: 0.1\n", "attrition_per_yer", "did you mean attrition_per_year?"),
    ("duration_months:\n  high: {distribution: lognormal, mean: 16, sdev: 4}\n", "duration_months.high.sdev",
     "allowed here: distribution, mean, sd"),
    ("targets: {upper: 12}\n", "targets.upper", "allowed here: high_need_ratio, low_need_ratio"),
])
def test_unknown_keys_are_refused_by_name(tmp_path: Path, extra: str, key: str, hint: str) -> None:
    errors = errors_of(write(tmp_path, GOOD + extra))
    unknown = [e for e in errors if e.column == key]
    assert unknown, errors
    assert "unknown key" in unknown[0].rule and hint in unknown[0].rule
    assert unknown[0].file.endswith("scenario.yaml")


def test_unknown_key_inside_a_funding_step(tmp_path: Path) -> None:
    text = GOOD.replace("cost_per_fte: 78000}", "cost_per_fte: 78000}\n  - {month: 12, ftes: 22}")
    (error,) = errors_of(write(tmp_path, text))
    assert error.column == "funding.1.ftes" and "did you mean fte?" in error.rule


def test_every_error_is_reported_at_once(tmp_path: Path) -> None:
    text = GOOD.replace("horizon_months: 24", "horizon_months: many") + "high_need_share: 1.5\nfoo: 1\n"
    keys = {e.column for e in errors_of(write(tmp_path, text))}
    assert {"horizon_months", "high_need_share", "foo"} <= keys


@pytest.mark.parametrize(("text", "needle"), [
    (GOOD.replace("month: 0,", "month: 2,"), "first step must be month 0"),
    (GOOD + "  - {month: 30, fte: 10}\n", "inside the horizon"),
    (GOOD + "  - {month: 6}\n", "changes nothing"),
    (GOOD.replace("fte: 20, ", ""), "needs fte unless start_from"),
    (GOOD.replace("referrals_per_month: 40", "referrals_per_month: [40, 41]"), "one rate per month (24)"),
    (GOOD.replace("referrals_per_month: 40", "referrals_per_month: {6: 40}"), "needs month 0"),
    (GOOD.replace("referrals_per_month: 40", "referrals_per_month: lots"), "must be a number"),
    (GOOD + "duration_months: {low: {distribution: gamma, mean: 3}}\n", "distribution must be one of"),
    (GOOD + "duration_months: {low: {distribution: uniform, low: 9, high: 3}}\n", "must be larger than low"),
])
def test_rules_are_named(tmp_path: Path, text: str, needle: str) -> None:
    errors = errors_of(write(tmp_path, text))
    assert any(needle in e.rule for e in errors), [str(e) for e in errors]


def test_a_key_given_twice_is_refused(tmp_path: Path) -> None:
    (error,) = errors_of(write(tmp_path, GOOD + "referrals_per_month: 50\n"))
    assert "given twice" in error.rule and error.row == 8


def test_missing_file_and_bad_yaml(tmp_path: Path) -> None:
    (error,) = errors_of(tmp_path / "nope.yaml")
    assert "does not exist" in error.rule
    (error,) = errors_of(write(tmp_path, "name: [unclosed\n"))
    assert "not valid YAML" in error.rule


def test_monthly_rates_as_steps() -> None:
    sc = make_scenario(horizon_months=6, referrals_per_month={0: 10, 3: 20})
    assert sc.rate_by_month() == [10, 10, 10, 20, 20, 20]


def test_start_from_is_found_beside_the_scenario_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "scenarios" / "sample").mkdir(parents=True)
    path = tmp_path / "scenarios" / "s.yaml"
    path.write_text(GOOD.replace("start_from: null", "start_from: sample"), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert load_scenario(path).start_from_path().resolve() == (tmp_path / "scenarios" / "sample").resolve()
    path.write_text(GOOD.replace("start_from: null", "start_from: scenarios/sample"), encoding="utf-8")
    assert load_scenario(path).start_from_path().resolve() == (tmp_path / "scenarios" / "sample").resolve()


def test_with_changes_validates_again() -> None:
    sc = make_scenario()
    assert sc.with_changes(referrals_per_month=55).referrals_per_month == 55
    with pytest.raises(ScenarioError):
        sc.with_changes(high_need_share=2)
    assert isinstance(sc.with_changes(duration_months={"high": {"distribution": "exponential", "mean": 3},
                                                       "low": {"distribution": "fixed", "value": 2}})
                      .duration_months.high, Exponential)


@pytest.mark.parametrize("name", ["flat", "cut", "growth"])
def test_shipped_scenarios_load(name: str) -> None:
    sc = load_scenario(REPO / "scenarios" / f"{name}.yaml")
    assert sc.start_from_path().resolve() == (REPO / "scenarios" / "sample").resolve()
    assert sc.funding[0].cost_per_fte == 78000
