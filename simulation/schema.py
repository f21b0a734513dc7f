"""The scenario file: what a funder or manager changes to ask "what if" (data contract, section scenario).

The schema refuses unknown keys: a misspelt `atrition_per_year` must fail loudly, not fall back to a
default and give a confident projection of the wrong question. Every error names the file, the key and
the rule, and all errors are reported at once (`ScenarioError`, a `ValidationFailed` like the reader's).
"""

from __future__ import annotations

import difflib
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from caseload.validation import InputError, ValidationFailed

DISTRIBUTIONS = ("lognormal", "exponential", "uniform", "fixed")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Lognormal(_Strict):
    """Skewed stays: most clients graduate near the mean, a few stay much longer."""

    distribution: Literal["lognormal"]
    mean: float = Field(gt=0, le=240)
    sd: float = Field(gt=0, le=240)


class Exponential(_Strict):
    """Memoryless stays (the M/M/c textbook case the tests compare against Erlang C)."""

    distribution: Literal["exponential"]
    mean: float = Field(gt=0, le=240)


class Uniform(_Strict):
    distribution: Literal["uniform"]
    low: float = Field(ge=0, le=240)
    high: float = Field(gt=0, le=240)

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if self.high <= self.low:
            raise ValueError(f"high ({self.high:g}) must be larger than low ({self.low:g})")
        return self


class Fixed(_Strict):
    distribution: Literal["fixed"]
    value: float = Field(gt=0, le=240)


Duration = Annotated[Lognormal | Exponential | Uniform | Fixed, Field(discriminator="distribution")]


class Durations(_Strict):
    """Months in case management until graduation, drawn per need level at intake."""

    high: Duration = Lognormal(distribution="lognormal", mean=16, sd=4)
    low: Duration = Lognormal(distribution="lognormal", mean=12, sd=3)


class FundingStep(_Strict):
    """From `month` on, the agency is funded for `fte` positions at `cost_per_fte` a year each.

    A later step may give only one of the two; the other carries forward. The first step (month 0) may
    leave `fte` out when `start_from` is given: the workers file's FTE is then today's funding.
    """

    month: int = Field(ge=0)
    fte: float | None = Field(None, ge=0, le=10_000)
    cost_per_fte: float | None = Field(None, ge=0, le=10_000_000)


class Targets(_Strict):
    """Clients per FTE (IRCC framework, Annex B); overrides the start_from policy file when given."""

    high_need_ratio: float = Field(15.0, gt=0, le=100)
    low_need_ratio: float = Field(50.0, gt=0, le=500)


class Scenario(_Strict):
    """One funding scenario for one agency, as in the data contract's scenario section."""

    name: str = Field(min_length=1, max_length=200)
    start: date | None = None
    horizon_months: int = Field(36, ge=1, le=10_000)  # long horizons are for checking the model
    replications: int = Field(50, ge=1, le=100_000)
    seed: int = Field(1, ge=0, le=2**63 - 1)
    start_from: str | None = None
    referrals_per_month: float | tuple[float, ...] | dict[int, float]
    high_need_share: float | None = Field(None, ge=0, le=1)
    duration_months: Durations = Durations()
    reassessment_every_months: float | None = Field(3, gt=0, le=120)
    step_down_share: float = Field(0.25, ge=0, le=1)
    step_up_share: float = Field(0.05, ge=0, le=1)
    dropout_per_month: float = Field(0.01, ge=0, lt=1)
    waitlist_renege_months: float | None = Field(None, gt=0, le=600)
    funding: tuple[FundingStep, ...] = Field(min_length=1)
    hiring_lag_months: float = Field(2, ge=0, le=60)
    attrition_per_year: float = Field(0.12, ge=0, lt=1)
    targets: Targets | None = None
    french_fte_share: float | None = Field(None, ge=0, le=1)
    french_service_share: float | None = Field(None, ge=0, le=1)
    french_pool: Literal["shared", "reserved"] = "shared"
    language_mix: dict[str, float] | None = None
    # Serve clients by language pool (the languages they speak, French service) from start_from's workers:
    # a worker serves only the pools it shares a language with. Off: one general line and one French line.
    language_pools: bool = False

    _base_dir: Path = PrivateAttr(default_factory=Path.cwd)
    _source: str = PrivateAttr(default="scenario")

    @field_validator("referrals_per_month", mode="before")
    @classmethod
    def _rates(cls, value: Any) -> Any:
        """One rate, a list with one rate per month, or {month: rate} steps (a change holds from its month)."""
        if isinstance(value, bool) or value is None:
            raise ValueError("must be a number, a list of numbers (one per month) or a {month: rate} mapping")
        if isinstance(value, int | float):
            rates = [value]
        elif isinstance(value, list | tuple):
            if not value:
                raise ValueError("the list of monthly rates is empty")
            rates = list(value)
        elif isinstance(value, dict):
            if not value:
                raise ValueError("the {month: rate} mapping is empty")
            months = []
            for key in value:
                try:
                    months.append(int(key))
                except (TypeError, ValueError):
                    raise ValueError(f"month {key!r} is not a whole number") from None
            if 0 not in months:
                raise ValueError("the {month: rate} mapping needs month 0 (the rate at the start)")
            if min(months) < 0:
                raise ValueError("months count from 0")
            rates = list(value.values())
        else:
            raise ValueError("must be a number, a list of numbers (one per month) or a {month: rate} mapping")
        for rate in rates:
            if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate <= 100_000:
                raise ValueError(f"rate {rate!r} is not a number of referrals a month between 0 and 100000")
        return value

    @field_validator("language_mix")
    @classmethod
    def _mix(cls, value: dict[str, float] | None) -> dict[str, float] | None:
        if value is None:
            return None
        if not value:
            raise ValueError("is empty; leave it out to use the start_from clients' languages")
        if any(share < 0 for share in value.values()) or sum(value.values()) <= 0:
            raise ValueError("shares must be zero or more and not all zero (they are normalised to sum 1)")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        problems = []
        if self.funding[0].month != 0:
            problems.append("funding: the first step must be month 0 (the funding at the start)")
        months = [step.month for step in self.funding]
        if any(b <= a for a, b in zip(months, months[1:], strict=False)):
            problems.append("funding: months must increase from one step to the next")
        if any(m >= self.horizon_months for m in months):
            problems.append(f"funding: every month must be inside the horizon (0 to {self.horizon_months - 1})")
        first = self.funding[0]
        if first.cost_per_fte is None:
            problems.append("funding: the month-0 step needs cost_per_fte (yearly cost of one FTE)")
        if first.fte is None and not self.start_from:
            problems.append("funding: the month-0 step needs fte unless start_from gives today's workers")
        for step in self.funding[1:]:
            if step.fte is None and step.cost_per_fte is None:
                problems.append(f"funding: the month-{step.month} step changes nothing (give fte or cost_per_fte)")
        rates = self.referrals_per_month
        if isinstance(rates, tuple) and len(rates) != self.horizon_months:
            problems.append(
                f"referrals_per_month: a list needs one rate per month ({self.horizon_months}), got {len(rates)}"
            )
        if isinstance(rates, dict) and max(rates) >= self.horizon_months:
            problems.append(f"referrals_per_month: months must be inside the horizon (0 to {self.horizon_months - 1})")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    # --- where the scenario came from (for start_from paths and error messages) -----------------

    @property
    def base_dir(self) -> Path:
        return self._base_dir

    @property
    def source(self) -> str:
        return self._source

    def located(self, base_dir: Path, source: str) -> Scenario:
        """The same scenario, with relative `start_from` paths resolved against `base_dir`."""
        self._base_dir = Path(base_dir)
        self._source = source
        return self

    def start_from_path(self) -> Path | None:
        """The start_from folder: as given if it exists, else relative to the scenario file's folder."""
        if not self.start_from:
            return None
        given = Path(self.start_from).expanduser()
        if given.is_absolute() or given.exists():
            return given
        return self._base_dir / given

    def rate_by_month(self) -> list[float]:
        """The referral rate of each month of the horizon."""
        rates = self.referrals_per_month
        if isinstance(rates, int | float):
            return [float(rates)] * self.horizon_months
        if isinstance(rates, tuple):
            return [float(r) for r in rates]
        out, current = [], 0.0
        steps = {int(k): float(v) for k, v in rates.items()}
        for month in range(self.horizon_months):
            current = steps.get(month, current)
            out.append(current)
        return out

    def with_changes(self, **changes: Any) -> Scenario:
        """A validated copy with top-level keys replaced (keeps where the file came from)."""
        data = self.model_dump(mode="python")
        data.update(changes)
        return scenario_from_dict(data, source=self._source, base_dir=self._base_dir)


class ScenarioError(ValidationFailed):
    """Every problem of one scenario file, each naming the file, the key and the rule it breaks."""

    def report(self, limit: int | None = None) -> str:
        shown = self.errors if limit is None else self.errors[:limit]
        lines = [f"{len(self.errors)} error(s) in the scenario; nothing was run:"]
        for e in shown:
            where = e.file + (f", line {e.row}" if e.row else "") + (f", key {e.column}" if e.column else "")
            value = "" if e.value is None else f" (value {e.value!r})"
            lines.append(f"  - {where}{value}: {e.rule}")
        return "\n".join(lines)


_MODELS: dict[str, type[BaseModel]] = {name: cls for name, cls in zip(
    DISTRIBUTIONS, (Lognormal, Exponential, Uniform, Fixed), strict=True)}


def _allowed_keys(loc: tuple[Any, ...]) -> list[str]:
    """The keys allowed in the mapping that holds the unknown key at `loc` (for the error message)."""
    model: type[BaseModel] | None = Scenario
    for part in loc[:-1]:
        if model is None:
            return []
        if isinstance(part, int):  # an element of a list (funding steps)
            continue
        if isinstance(part, str) and part in _MODELS:
            model = _MODELS[part]
            continue
        field = model.model_fields.get(str(part))
        if field is None:
            return []
        annotation = field.annotation
        candidates = [a for a in getattr(annotation, "__args__", (annotation,)) if isinstance(a, type)]
        model = next((a for a in candidates if issubclass(a, BaseModel)), None)
    return list(model.model_fields) if model is not None else []


def _key(loc: tuple[Any, ...]) -> str:
    # Drop pydantic's union tags ("lognormal", "tuple[float, ...]") so the key reads as in the file.
    parts = [str(p) for p in loc if not (isinstance(p, str) and (p in _MODELS or "[" in p or p in ("float", "int")))]
    return ".".join(parts)


def _errors(file: str, exc: ValidationError) -> list[InputError]:
    out: list[InputError] = []
    seen: set[tuple[str, str]] = set()
    for err in exc.errors():
        loc = tuple(err["loc"])
        key = _key(loc) or None
        value = err.get("input")
        shown = None if isinstance(value, dict | list | tuple) or value is None else str(value)
        if err["type"] == "extra_forbidden":
            allowed = _allowed_keys(loc)
            rule = "unknown key (not in the scenario schema)"
            close = difflib.get_close_matches(str(loc[-1]), allowed, n=1, cutoff=0.75)
            if close:
                rule += f"; did you mean {close[0]}?"
            elif allowed:
                rule += "; allowed here: " + ", ".join(allowed)
            shown = None
        elif err["type"] == "too_short" and any(
                other["loc"][: len(loc)] == loc and len(other["loc"]) > len(loc) for other in exc.errors()):
            continue  # "funding has no item" only because its items are wrong: those errors say why
        elif err["type"] == "missing":
            rule = "is required and is missing"
        elif err["type"] == "union_tag_invalid":
            rule = "distribution must be one of " + ", ".join(DISTRIBUTIONS)
        else:
            rule = err["msg"].removeprefix("Value error, ")
        if (key or "", rule) in seen:
            continue
        seen.add((key or "", rule))
        out.append(InputError(file, None, key, shown, rule))
    return out


def scenario_from_dict(data: dict[str, Any], source: str = "scenario", base_dir: Path | None = None) -> Scenario:
    """Validate a mapping as a scenario; raise `ScenarioError` listing every problem."""
    if not isinstance(data, dict):
        raise ScenarioError([InputError(source, None, None, None, "must be a mapping of keys to values")])
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(_errors(source, exc)) from None
    return scenario.located(base_dir or Path.cwd(), source)


class _UniqueKeyLoader(yaml.SafeLoader):
    """A YAML loader that refuses a key given twice (the second would silently win otherwise)."""


def _mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    out: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in out:
            raise yaml.constructor.ConstructorError(
                None, None, f"key {key!r} is given twice", key_node.start_mark
            )
        out[key] = loader.construct_object(value_node, deep=deep)
    return out


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def load_scenario(path: Path | str) -> Scenario:
    """Read and validate a scenario YAML file; raise `ScenarioError` naming file, key and rule."""
    path = Path(path)
    name = str(path)
    if not path.is_file():
        raise ScenarioError([InputError(name, None, None, None, "file does not exist")])
    try:
        data = yaml.load(path.read_text(encoding="utf-8-sig"), Loader=_UniqueKeyLoader)  # noqa: S506
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError([InputError(name, None, None, None,
                                        f"cannot be read as UTF-8 text ({type(exc).__name__})")]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        row = mark.line + 1 if mark is not None else None
        raise ScenarioError([InputError(name, row, None, None,
                                        f"not valid YAML: {getattr(exc, 'problem', exc)}")]) from None
    if data is None:
        data = {}
    return scenario_from_dict(data, source=name, base_dir=path.resolve().parent)
