"""The one reader of the data contract: files in, a validated `Agency` out, or every error at once.

The CLI, the app, the store's import and the simulation's start state all call `load_agency` (or
`agency_from_tables` for uploaded files), so a file accepted in one place is accepted everywhere.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TypeVar

from caseload.domain import Agency, Candidate, Client, NeedLevel, Override, OverrideAction, Policy, Status, Worker
from caseload.languages import UnknownLanguage, normalise_language
from caseload.policy import read_policy
from caseload.tables import Table, read_table
from caseload.validation import HIDDEN, InputError, ValidationFailed, looks_like_formula, shown_value

T = TypeVar("T")

TRUE = {"true", "yes", "1", "y", "oui", "o", "t"}
FALSE = {"false", "no", "0", "n", "non", "f"}
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
GENDERS = ("female", "male")
MAX_FTE = 1.5

CLIENT_COLUMNS = (
    "client_id", "need_level", "languages", "french_service", "latitude", "longitude", "area", "family_id",
    "status", "worker_id", "referral_date", "intake_date", "priority", "needs", "worker_gender_preference",
    "excluded_workers", "last_review_date",
)
CLIENT_REQUIRED = ("client_id", "need_level", "languages")
WORKER_COLUMNS = (
    "worker_id", "fte", "languages", "french", "latitude", "longitude", "areas", "max_travel_km",
    "specializations", "gender", "available", "high_need_ratio", "low_need_ratio", "max_new_per_week",
)
WORKER_REQUIRED = ("worker_id", "fte", "languages")
CANDIDATE_COLUMNS = (
    "candidate_id", "fte", "languages", "french", "latitude", "longitude", "areas", "max_travel_km",
    "specializations", "gender", "annual_cost", "max_hires",
)
CANDIDATE_REQUIRED = ("candidate_id", "fte", "languages")
MAX_ANNUAL_COST = 10_000_000.0
OVERRIDE_COLUMNS = ("client_id", "action", "worker_id", "reason", "set_by", "until")
OVERRIDE_REQUIRED = ("client_id", "action", "reason")
MAX_REASON_CHARS = 500


class _Cells:
    """Parses one row's cells, recording an InputError for each broken rule instead of raising."""

    def __init__(self, file: str, row: int, cells: dict[str, str], errors: list[InputError], personal: bool):
        self.file, self.row, self.cells, self.errors, self.personal = file, row, cells, errors, personal
        self.ok = True

    def fail(self, column: str, value: str | None, rule: str) -> None:
        self.ok = False
        self.errors.append(
            InputError(self.file, self.row, column, shown_value(column, value, personal=self.personal), rule)
        )

    def raw(self, column: str) -> str:
        value = self.cells.get(column, "")
        if looks_like_formula(value) and column not in ("latitude", "longitude"):
            self.fail(column, value, "starts like a spreadsheet formula (=, +, -, @); remove the leading sign")
            return ""
        return value

    def failed(self, column: str) -> bool:
        """Whether this cell already has an error (so a second, derived one is not reported)."""
        return any(e.row == self.row and e.column == column and e.file == self.file for e in self.errors)

    def text(self, column: str, *, required: bool = False) -> str | None:
        value = self.raw(column)
        if not value:
            if required and not self.failed(column):
                self.fail(column, value, "is required and is empty")
            return None
        return value

    def identifier(self, column: str) -> str | None:
        """A client_id or worker_id: required, and free of control characters (a newline in an id would
        forge lines in logs and break every CSV it is written to)."""
        value = self.text(column, required=True)
        if value is not None and any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
            self.fail(column, value.encode("unicode_escape").decode("ascii"),
                      "must not contain line breaks, tabs or other control characters")
            return None
        return value

    def parsed(self, column: str, parse: Callable[[str], T], rule: str, default: T) -> T:
        value = self.raw(column)
        if not value:
            return default
        try:
            return parse(value)
        except (ValueError, TypeError):
            self.fail(column, value, rule)
            return default

    def boolean(self, column: str, default: bool) -> bool:
        def parse(v: str) -> bool:
            low = v.lower()
            if low in TRUE:
                return True
            if low in FALSE:
                return False
            raise ValueError(v)

        return self.parsed(column, parse, "must be true/false, yes/no, 1/0, y/n or oui/non", default)

    def number(self, column: str, low: float, high: float, *, low_open: bool = False) -> float | None:
        value = self.parsed(column, float, "must be a number", None)
        if value is None:
            return None
        if value != value or (value <= low if low_open else value < low) or value > high:
            bracket = "(" if low_open else "["
            self.fail(column, self.cells.get(column), f"must be in {bracket}{low:g}, {high:g}]")
            return None
        return value

    def whole(self, column: str, low: int, default: int | None) -> int | None:
        def parse(v: str) -> int:
            number = float(v)
            if not number.is_integer():
                raise ValueError(v)
            return int(number)

        value = self.parsed(column, parse, "must be a whole number", default)
        if value is not None and value < low:
            self.fail(column, self.cells.get(column), f"must be {low} or more")
            return default
        return value

    def iso_date(self, column: str) -> date | None:
        def parse(v: str) -> date:
            if not ISO_DATE.match(v):
                raise ValueError(v)
            return date.fromisoformat(v)

        value = self.cells.get(column, "")
        rule = "must be a date written YYYY-MM-DD (e.g. 2026-03-31)"
        if ISO_DATE.match(value):
            rule = "is not a calendar date (written YYYY-MM-DD: check the month and the day)"
        return self.parsed(column, parse, rule, None)

    def items(self, column: str) -> list[str]:
        value = self.raw(column)
        return [p.strip() for p in value.split(";") if p.strip()] if value else []

    def languages(self, column: str) -> tuple[str, ...]:
        codes: list[str] = []
        for item in self.items(column):
            try:
                code = normalise_language(item)
            except UnknownLanguage:
                self.fail(column, item, "is not an ISO 639 code or a language name")
                continue
            if code not in codes:
                codes.append(code)
        if not codes and not any(e.row == self.row and e.column == column for e in self.errors):
            self.fail(column, self.cells.get(column, ""), "is required: at least one language")
        return tuple(codes)

    def choice(self, column: str, allowed: tuple[str, ...], default: str | None) -> str | None:
        value = self.raw(column)
        if not value:
            return default
        if value.lower() not in allowed:
            self.fail(column, value, f"must be one of {', '.join(allowed)}")
            return default
        return value.lower()

    def coordinates(self) -> tuple[float | None, float | None]:
        lat = self.number("latitude", -90, 90)
        lon = self.number("longitude", -180, 180)
        has_lat, has_lon = bool(self.cells.get("latitude")), bool(self.cells.get("longitude"))
        if has_lat != has_lon:
            self.fail("longitude" if has_lat else "latitude", None, "latitude and longitude go together")
            return None, None
        return lat, lon


def _missing_columns(table: Table, required: tuple[str, ...], errors: list[InputError]) -> bool:
    missing = [c for c in required if c not in table.columns]
    for column in missing:
        errors.append(InputError(table.file, 1, column, None, "required column is missing from the header"))
    return bool(missing)


def _duplicate_ids(table: Table, column: str, errors: list[InputError]) -> None:
    first_row: dict[str, int] = {}
    for row, cells in table.rows:
        value = cells.get(column, "")
        if not value:
            continue
        if value in first_row:
            errors.append(InputError(table.file, row, column, value, f"duplicate id (first on row {first_row[value]})"))
        else:
            first_row[value] = row


def clients_from_table(table: Table, errors: list[InputError]) -> list[Client]:
    """Validate every client row; cross-file checks (known workers) happen in `agency_from_tables`."""
    if _missing_columns(table, CLIENT_REQUIRED, errors):
        return []
    _duplicate_ids(table, "client_id", errors)
    clients = []
    for row, cells in table.rows:
        c = _Cells(table.file, row, cells, errors, personal=True)
        client_id = c.identifier("client_id")
        need = c.choice("need_level", tuple(n.value for n in NeedLevel), None)
        if need is None and not cells.get("need_level"):
            c.fail("need_level", "", "is required: high or low")
        languages = c.languages("languages")
        status = c.choice("status", tuple(s.value for s in Status), Status.WAITING.value)
        worker_id = c.text("worker_id")
        if status == Status.ACTIVE and not worker_id:
            c.fail("worker_id", "", "is required for an active client")
        if status == Status.WAITING and worker_id:
            c.fail("worker_id", worker_id, "must be empty for a waiting client (set status to active?)")
        lat, lon = c.coordinates()
        client = Client(
            client_id=client_id or "",
            need_level=NeedLevel(need or "low"),
            languages=languages,
            french_service=c.boolean("french_service", False),
            latitude=lat,
            longitude=lon,
            area=c.text("area"),
            family_id=c.text("family_id"),
            status=Status(status or "waiting"),
            worker_id=worker_id,
            referral_date=c.iso_date("referral_date"),
            intake_date=c.iso_date("intake_date"),
            priority=c.whole("priority", 0, 0) or 0,
            needs=frozenset(t.lower() for t in c.items("needs")),
            worker_gender_preference=c.choice("worker_gender_preference", GENDERS, None),
            excluded_workers=frozenset(c.items("excluded_workers")),
            last_review_date=c.iso_date("last_review_date"),
        )
        if c.ok:
            clients.append(client)
    return clients


def _worker_profile(c: _Cells) -> dict:
    """The cells a worker and a staffing candidate share (fte, languages, French, office, areas, travel,
    specializations, gender), under the same rules, so a candidate is read exactly as the worker it becomes."""
    fte = c.number("fte", 0, MAX_FTE, low_open=True)
    if fte is None and not c.cells.get("fte"):
        c.fail("fte", "", "is required: a number in (0, 1.5]")
    latitude, longitude = c.coordinates()
    return {
        "fte": fte or 1.0,
        "languages": c.languages("languages"),
        "french": c.boolean("french", False),
        "latitude": latitude,
        "longitude": longitude,
        "areas": frozenset(c.items("areas")),
        "max_travel_km": c.number("max_travel_km", 0, 20_000),
        "specializations": frozenset(t.lower() for t in c.items("specializations")),
        "gender": c.choice("gender", GENDERS + ("nonbinary", "other"), None),
    }


def workers_from_table(table: Table, errors: list[InputError]) -> list[Worker]:
    """Validate every worker row (fte in (0, 1.5], known languages, sane targets)."""
    if _missing_columns(table, WORKER_REQUIRED, errors):
        return []
    _duplicate_ids(table, "worker_id", errors)
    workers = []
    for row, cells in table.rows:
        c = _Cells(table.file, row, cells, errors, personal=False)
        worker_id = c.identifier("worker_id")
        worker = Worker(
            worker_id=worker_id or "",
            **_worker_profile(c),
            available=c.boolean("available", True),
            high_need_ratio=c.number("high_need_ratio", 0, 100, low_open=True),
            low_need_ratio=c.number("low_need_ratio", 0, 500, low_open=True),
            max_new_per_week=c.whole("max_new_per_week", 0, None),
        )
        if c.ok:
            workers.append(worker)
    return workers


def candidates_from_table(table: Table, errors: list[InputError]) -> list[Candidate]:
    """Validate every candidate row (data contract, candidates): the worker profile's rules, plus a year's cost
    that is not negative and max_hires a whole number >= 0."""
    if _missing_columns(table, CANDIDATE_REQUIRED, errors):
        return []
    _duplicate_ids(table, "candidate_id", errors)
    candidates = []
    for row, cells in table.rows:
        c = _Cells(table.file, row, cells, errors, personal=False)
        candidate_id = c.identifier("candidate_id")
        profile = _worker_profile(c)
        cost = c.parsed("annual_cost", float, "must be a number (a year's cost of one hire)", None)
        if cost is not None and (cost != cost or cost < 0 or cost > MAX_ANNUAL_COST):
            c.fail("annual_cost", cells.get("annual_cost"),
                   "must not be negative" if cost < 0 else f"must be in [0, {MAX_ANNUAL_COST:,.0f}]")
            cost = None
        candidate = Candidate(
            candidate_id=candidate_id or "",
            **profile,
            annual_cost=cost,
            max_hires=c.whole("max_hires", 0, None),
        )
        if c.ok:
            candidates.append(candidate)
    return candidates


def load_candidates(path: Path | str) -> list[Candidate]:
    """Read a candidates file (CSV or xlsx, sheet `candidates`) as one all-or-nothing load."""
    path = Path(path)
    errors: list[InputError] = []
    if not path.is_file():
        raise ValidationFailed([InputError(str(path), None, None, None, "file does not exist")])
    table = read_table(path, errors, sheet="candidates")
    candidates = candidates_from_table(table, errors) if table is not None else []
    if errors:
        raise ValidationFailed(errors)
    return candidates


class _OverrideCells(_Cells):
    """An overrides row: the reason is the coordinator's words, so a report names its cell, never its text."""

    def fail(self, column: str, value: str | None, rule: str) -> None:
        super().fail(column, HIDDEN if column == "reason" and value else value, rule)


def overrides_from_table(table: Table, errors: list[InputError], rows: list[int] | None = None) -> list[Override]:
    """Validate every overrides row on its own (data contract, overrides); `rows` receives each returned
    override's spreadsheet row. Checks against the clients and workers (`caseload.overrides.override_errors`)
    and against the optimizer's rules (`optimizer.overrides.check_overrides`) come after."""
    if _missing_columns(table, OVERRIDE_REQUIRED, errors):
        return []
    overrides = []
    for row, cells in table.rows:
        c = _OverrideCells(table.file, row, cells, errors, personal=False)
        client_id = c.identifier("client_id")
        action = c.choice("action", tuple(a.value for a in OverrideAction), None)
        if action is None and not cells.get("action"):
            c.fail("action", "", "is required: pin, forbid, hold or keep")
        worker_id = c.text("worker_id")
        if worker_id is not None and any(ord(ch) < 32 or ord(ch) == 127 for ch in worker_id):
            c.fail("worker_id", worker_id.encode("unicode_escape").decode("ascii"),
                   "must not contain line breaks, tabs or other control characters")
        if action in (OverrideAction.PIN, OverrideAction.FORBID) and not worker_id and not c.failed("worker_id"):
            c.fail("worker_id", "", f"is required for {action}")
        if action in (OverrideAction.HOLD, OverrideAction.KEEP) and worker_id:
            c.fail("worker_id", worker_id, f"must be empty for {action} (only pin and forbid name a worker)")
        reason = c.text("reason", required=True)
        if reason is not None and len(reason) > MAX_REASON_CHARS:
            c.fail("reason", reason, f"is longer than {MAX_REASON_CHARS} characters")
        override = Override(client_id=client_id or "", action=OverrideAction(action or "hold"), reason=reason or "",
                            worker_id=worker_id, set_by=c.text("set_by"), until=c.iso_date("until"))
        if c.ok:
            overrides.append(override)
            if rows is not None:
                rows.append(row)
    return overrides


def _read_overrides(path: Path, errors: list[InputError]) -> Table | None:
    """overrides.csv is optional and may list no override at all (a header only)."""
    before = len(errors)
    table = read_table(path, errors, sheet="overrides")
    if table is None and len(errors) == before + 1 and "no data rows" in errors[-1].rule:
        errors.pop()
    return table


def _cross_checks(clients_table: Table, workers_table: Table, errors: list[InputError]) -> None:
    """Rules that span both files: an active client's worker must be in the workers file."""
    known = {cells.get("worker_id", "") for _, cells in workers_table.rows}
    for row, cells in clients_table.rows:
        worker_id = cells.get("worker_id", "")
        if cells.get("status", "").lower() == Status.ACTIVE and worker_id and worker_id not in known:
            errors.append(
                InputError(clients_table.file, row, "worker_id", worker_id, "unknown worker: not in the workers file")
            )


def agency_from_tables(clients_table: Table | None, workers_table: Table | None, policy: Policy | None,
                       errors: list[InputError], as_of: date | None = None,
                       overrides_table: Table | None = None) -> Agency:
    """Validate the tables together; raise ValidationFailed with every error, or return the Agency."""
    from caseload.overrides import override_errors

    clients = clients_from_table(clients_table, errors) if clients_table else []
    workers = workers_from_table(workers_table, errors) if workers_table else []
    if clients_table and workers_table and "worker_id" in workers_table.columns:
        _cross_checks(clients_table, workers_table, errors)
    rows: list[int] = []
    overrides = overrides_from_table(overrides_table, errors, rows) if overrides_table else []
    agency = Agency(clients=clients, workers=workers, policy=policy or Policy(), as_of=as_of or date.today(),
                    overrides=overrides)
    if overrides and not errors:  # against clients and workers that all loaded (a dropped row is no "unknown")
        errors.extend(override_errors(agency, file=overrides_table.file, rows=rows))
    if errors:
        raise ValidationFailed(errors)
    return agency


def find_table(data_dir: Path, stem: str) -> Path | None:
    """clients.csv or clients.xlsx (any case); None when neither is there."""
    for path in sorted(data_dir.iterdir()) if data_dir.is_dir() else []:
        if path.stem.lower() == stem and path.suffix.lower() in (".csv", ".xlsx"):
            return path
    return None


def load_agency(data_dir: Path | str, policy_path: Path | str | None = None,
                as_of: date | None = None) -> Agency:
    """Read a data-contract folder (clients, workers, optional policy.yaml) as one all-or-nothing load."""
    data_dir = Path(data_dir)
    errors: list[InputError] = []
    if not data_dir.is_dir():
        raise ValidationFailed([InputError(str(data_dir), None, None, None, "folder does not exist")])
    tables: dict[str, Table | None] = {}
    for stem in ("clients", "workers"):
        path = find_table(data_dir, stem)
        if path is None:
            rule = f"missing: the folder needs {stem}.csv or {stem}.xlsx"
            errors.append(InputError(f"{stem}.csv", None, None, None, rule))
            tables[stem] = None
        else:
            tables[stem] = read_table(path, errors, sheet=stem)
    policy_file = Path(policy_path) if policy_path else data_dir / "policy.yaml"
    policy = None
    if policy_path and not policy_file.is_file():
        errors.append(InputError(str(policy_file), None, None, None, "policy file does not exist"))
    elif policy_file.is_file():
        policy = read_policy(policy_file, errors)
    overrides_path = find_table(data_dir, "overrides")
    overrides = _read_overrides(overrides_path, errors) if overrides_path is not None else None
    return agency_from_tables(tables["clients"], tables["workers"], policy, errors, as_of, overrides)


START_COLUMNS = ("client_id", "worker_id")
START_FILE = "plan_with_hires.csv"


def load_start(path: Path | str, agency: Agency) -> dict[str, str]:
    """A plan for `caseload assign --start` to begin from (client_id -> worker_id), as one all-or-nothing load:
    an assignments file in the data contract's format (`caseload staff`'s plan_with_hires.csv, CSV or xlsx sheet
    `assignments`), or the folder that holds plan_with_hires.csv. Every row must name one of the agency's clients
    and workers, each client once; rows without a worker (a client left waiting) say nothing and are skipped.
    Whether the rules let a worker take a client is the optimizer's question (`optimizer.start_plan`)."""
    path = Path(path)
    if path.is_dir():
        path = path / START_FILE
    if not path.is_file():
        raise ValidationFailed([InputError(str(path), None, None, None, "file does not exist")])
    errors: list[InputError] = []
    table = read_table(path, errors, sheet="assignments")
    if table is None and len(errors) == 1 and "no data rows" in errors[0].rule:
        return {}  # a plan that places and moves nobody: nothing to begin from
    if table is None or _missing_columns(table, START_COLUMNS, errors):
        raise ValidationFailed(errors)
    _duplicate_ids(table, "client_id", errors)
    clients = {c.client_id for c in agency.clients}
    workers = {w.worker_id for w in agency.workers}
    start: dict[str, str] = {}
    for row, cells in table.rows:
        client_id, worker_id = cells.get("client_id", ""), cells.get("worker_id", "")
        if client_id not in clients:
            errors.append(InputError(table.file, row, "client_id", client_id, "no such client in clients.csv"))
        elif worker_id and worker_id not in workers:
            errors.append(InputError(table.file, row, "worker_id", worker_id,
                                     "no such worker in workers.csv (a staffing plan's hires: load "
                                     "workers_with_hires.csv as workers.csv)"))
        elif worker_id:
            start.setdefault(client_id, worker_id)
    if errors:
        raise ValidationFailed(errors)
    return start
