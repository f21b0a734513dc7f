"""The agency's policy file (policy.yaml): caseload targets, how much reshuffling a run may do, and so on.

Every key is optional; unknown keys are refused (a misspelt `max_move_share` must not silently fall back
to the default). Departures from the IRCC framework's targets are reported by `Policy.deviations()`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from caseload.domain import Policy
from caseload.validation import InputError


class _Targets(BaseModel):
    model_config = ConfigDict(extra="forbid")
    high_need_ratio: float = Field(15.0, gt=0, le=100)
    low_need_ratio: float = Field(50.0, gt=0, le=500)


class _Durations(BaseModel):
    model_config = ConfigDict(extra="forbid")
    high: float = Field(16.0, gt=0, le=120)
    low: float = Field(12.0, gt=0, le=120)


class PolicyFile(BaseModel):
    """The schema of policy.yaml, as written in the data contract."""

    model_config = ConfigDict(extra="forbid")
    targets: _Targets = Field(default_factory=_Targets)
    max_moves_share: float = Field(0.02, ge=0, le=1)
    keep_on_leave: bool = True
    travel: Literal["haversine"] = "haversine"
    time_limit_s: float = Field(60.0, gt=0, le=86_400)
    stage_gap: float = Field(0.005, ge=0, le=0.5)
    moves_window_days: int = Field(30, ge=1, le=366)
    waitlist_review_weeks: int = Field(4, ge=1, le=104)
    reassessment_every_months: int = Field(3, ge=1, le=24)
    expected_duration_months: _Durations = Field(default_factory=_Durations)
    cost_per_fte: float = Field(78_000.0, gt=0, le=10_000_000)

    def to_policy(self) -> Policy:
        return Policy(
            high_need_ratio=self.targets.high_need_ratio,
            low_need_ratio=self.targets.low_need_ratio,
            max_moves_share=self.max_moves_share,
            keep_on_leave=self.keep_on_leave,
            travel=self.travel,
            time_limit_s=self.time_limit_s,
            stage_gap=self.stage_gap,
            moves_window_days=self.moves_window_days,
            waitlist_review_weeks=self.waitlist_review_weeks,
            reassessment_every_months=self.reassessment_every_months,
            expected_duration_high_months=self.expected_duration_months.high,
            expected_duration_low_months=self.expected_duration_months.low,
            cost_per_fte=self.cost_per_fte,
        )


def pydantic_errors(file: str, exc: ValidationError) -> list[InputError]:
    """Turn pydantic's errors into the contract's error report (key path as the column)."""
    out = []
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"]) or None
        rule = "unknown key (not in the data contract)" if err["type"] == "extra_forbidden" else err["msg"]
        value = err.get("input")
        shown = None if isinstance(value, dict | list) or value is None else str(value)
        out.append(InputError(file, None, key, shown, rule))
    return out


def read_policy(path: Path, errors: list[InputError]) -> Policy | None:
    """Read policy.yaml; add errors (all of them) and return None when it breaks the schema."""
    name = path.name
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError) as exc:
        errors.append(InputError(name, None, None, None, f"cannot be read as UTF-8 text ({type(exc).__name__})"))
        return None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        row = mark.line + 1 if mark is not None else None
        errors.append(InputError(name, row, None, None, f"not valid YAML: {getattr(exc, 'problem', exc)}"))
        return None
    if data is None:
        return Policy()
    if not isinstance(data, dict):
        errors.append(InputError(name, None, None, None, "must be a mapping of keys to values"))
        return None
    try:
        return PolicyFile.model_validate(data).to_policy()
    except ValidationError as exc:
        errors.extend(pydantic_errors(name, exc))
        return None


def policy_to_yaml(policy: Policy) -> str:
    """The policy as a policy.yaml text (used by exports and the sample generator)."""
    data = {
        "targets": {"high_need_ratio": policy.high_need_ratio, "low_need_ratio": policy.low_need_ratio},
        "max_moves_share": policy.max_moves_share,
        "keep_on_leave": policy.keep_on_leave,
        "travel": policy.travel,
        "time_limit_s": policy.time_limit_s,
        "stage_gap": policy.stage_gap,
        "moves_window_days": policy.moves_window_days,
        "waitlist_review_weeks": policy.waitlist_review_weeks,
        "reassessment_every_months": policy.reassessment_every_months,
        "expected_duration_months": {"high": policy.expected_duration_high_months,
                                     "low": policy.expected_duration_low_months},
        "cost_per_fte": policy.cost_per_fte,
    }
    return yaml.safe_dump(data, sort_keys=False)
