"""Input errors as a coordinator needs them: file, row, column, value and the rule broken, all at once.

A file with any error is rejected whole (never half-loaded), so readers collect every `InputError` and
raise one `ValidationFailed` at the end. Values of personal columns (where a client lives, their family,
their trauma-informed preferences) are never echoed back: the report may end up in a log or an email.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

# Client columns whose values identify or describe a person: errors name the cell, not its content.
# Dates count: a referral date and an intake date together narrow a client down to very few people.
PERSONAL_COLUMNS = frozenset(
    {"latitude", "longitude", "area", "family_id", "needs", "worker_gender_preference", "excluded_workers",
     "referral_date", "intake_date"}
)
HIDDEN = "(hidden: personal data)"
MAX_VALUE_SHOWN = 40


@dataclass(frozen=True, slots=True)
class InputError:
    """One broken rule in one cell. `row` is the spreadsheet row number (the header is row 1)."""

    file: str
    row: int | None
    column: str | None
    value: str | None
    rule: str

    def as_dict(self) -> dict[str, object]:
        return {"file": self.file, "row": self.row, "column": self.column, "value": self.value, "rule": self.rule}

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.column:
            where += f", column {self.column}"
        shown = "" if self.value is None else f" (value {self.value!r})"
        return f"{where}{shown}: {self.rule}"


class ValidationFailed(Exception):
    """Raised once per load with every error found, so the user fixes them all in one pass."""

    def __init__(self, errors: Iterable[InputError]):
        self.errors: list[InputError] = sorted(errors, key=lambda e: (e.file, e.row or 0))
        super().__init__(self.report())

    def report(self, limit: int | None = None) -> str:
        shown = self.errors if limit is None else self.errors[:limit]
        lines = [f"{len(self.errors)} error(s) in the input; nothing was loaded:"]
        lines += [f"  - {e}" for e in shown]
        if limit is not None and len(self.errors) > limit:
            lines.append(f"  ... and {len(self.errors) - limit} more")
        return "\n".join(lines)


def shown_value(column: str | None, value: str | None, *, personal: bool) -> str | None:
    """The value as it may appear in a report: hidden for personal columns, shortened when long."""
    if value is None:
        return None
    if personal and column in PERSONAL_COLUMNS:
        return HIDDEN
    if len(value) > MAX_VALUE_SHOWN:
        return value[:MAX_VALUE_SHOWN] + "..."
    return value


FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def looks_like_formula(text: str) -> bool:
    """A cell Excel would run as a formula (CSV injection). Numbers such as -75.7 are not formulas."""
    if not text or not text.startswith(FORMULA_PREFIXES):
        return False
    try:
        float(text)
    except ValueError:
        return True
    return False


def escape_formula(text: str) -> str:
    """Make a formula-like cell inert for spreadsheets (OWASP's advice: prefix a single quote)."""
    return "'" + text if looks_like_formula(text) else text
