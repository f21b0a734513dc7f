"""Overrides that cannot hold, asked of the optimizer's own rules: a pin to a worker a rule excludes, a pin
that would put the worker over target, a keep of a client whose worker a rule now excludes.

`check_overrides(agency)` returns InputErrors (file, row, column, value, rule) like any bad input, so the
CLI and the app refuse the run and show them beside the reader's errors: nothing runs. It reuses
`compute_eligibility` (its `first_rule` names the rule) and `worker_capacity` (the same integer load
units the model uses), never a copy of them. The structural checks (unknown ids, pin and forbid of one
pair...) are `caseload.overrides.override_errors`, which this runs first.
"""

from __future__ import annotations

from collections.abc import Sequence

from caseload.domain import Agency, NeedLevel, OverrideAction, Status
from caseload.overrides import OVERRIDES_FILE, STORED, override_errors, override_rows
from caseload.validation import InputError, ValidationFailed
from optimizer.eligibility import RULE_NAMES, compute_eligibility, worker_capacity

# Rules a pin may override by its nature: the pin itself excludes every other worker, and a forbid of
# another worker is no conflict.
_OWN_RULES = {RULE_NAMES.index(name) + 1 for name in ("pinned_by_coordinator", "forbidden_by_coordinator")}


def check_overrides(agency: Agency, *, file: str = OVERRIDES_FILE,
                    rows: Sequence[int | None] | None = None) -> list[InputError]:
    """Every override in force that cannot hold on this agency (empty: the run may go ahead)."""
    overrides = list(agency.overrides)
    if not overrides:
        return []
    rows_of = override_rows(overrides, rows)
    errors = override_errors(agency, overrides, file=file, rows=rows_of)
    if errors:
        return errors
    el = compute_eligibility(agency)
    cap = worker_capacity(agency, el)
    added = cap.current_load.copy()
    for row, o in zip(rows_of, overrides, strict=True):
        if not o.applies_on(agency.as_of) or o.action not in (OverrideAction.PIN, OverrideAction.KEEP):
            continue
        i = el.client_index[o.client_id]
        client = el.clients[i]
        if o.action == OverrideAction.KEEP:
            j = int(el.current[i])
            code = int(el.first_rule[i, j])
            if code and code not in _OWN_RULES:
                errors.append(InputError(file, row, "action", "keep",
                                         f"cannot keep the client with {client.worker_id}: rule "
                                         f"{RULE_NAMES[code - 1]} excludes that worker"))
            continue
        j = el.worker_index[o.worker_id or ""]
        code = int(el.first_rule[i, j])
        if code and code not in _OWN_RULES:
            errors.append(InputError(file, row, "worker_id", o.worker_id,
                                     f"the pinned worker may not serve this client: rule {RULE_NAMES[code - 1]}"))
            continue
        if client.status == Status.ACTIVE and client.worker_id == o.worker_id:
            continue  # already served by the pinned worker: no load added
        added[j] += cap.high_weight[j] if client.need_level == NeedLevel.HIGH else cap.low_weight[j]
        if added[j] > cap.capacity[j]:
            errors.append(InputError(file, row, "worker_id", o.worker_id,
                                     "the pin would put the worker over target (capacity: caseload against "
                                     "the worker's FTE and ratios)"))
    return errors


def refuse_overrides_that_cannot_hold(agency: Agency, *, file: str | None = None) -> None:
    """Raise `ValidationFailed` when an override in force cannot hold (call it before `assign` on a store's
    agency, as `caseload assign --db` and the app do): nothing runs. Files name their rows; the store's
    overrides are named by action and client (`file` None)."""
    if not agency.overrides:
        return
    if file is None:
        errors = check_overrides(agency, file=STORED, rows=[None] * len(agency.overrides))
    else:
        errors = check_overrides(agency, file=file)
    if errors:
        raise ValidationFailed(errors)
