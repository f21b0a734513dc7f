"""The coordinator's overrides checked against the agency: the rules that need no optimizer.

An override that cannot hold is bad input (data contract, overrides): it is reported with file, row,
column, value and rule, all at once, and nothing runs. The checks here look only at the agency's clients
and workers and at the overrides together (unknown ids, a pin and a forbid of the same pair, two pins for
one client, hold with pin, keep on a waiting client...). Whether a pinned worker may serve the client at
all, and has room, is the optimizer's question: `optimizer.overrides.check_overrides` asks it with the
optimizer's own rule functions and capacity.

The reason is the coordinator's words: it never appears in an error report or a log line.
"""

from __future__ import annotations

from collections.abc import Sequence

from caseload.domain import Agency, Override, OverrideAction, Status
from caseload.validation import InputError

OVERRIDES_FILE = "overrides.csv"
STORED = "overrides (store)"
NEEDS_WORKER = (OverrideAction.PIN, OverrideAction.FORBID)


def override_rows(overrides: Sequence[Override], rows: Sequence[int | None] | None) -> list[int | None]:
    """Spreadsheet rows of the overrides (the header is row 1) unless the caller knows better."""
    return list(rows) if rows is not None else [n + 2 for n in range(len(overrides))]


def override_errors(agency: Agency, overrides: Sequence[Override] | None = None, *, file: str = OVERRIDES_FILE,
                    rows: Sequence[int | None] | None = None) -> list[InputError]:
    """Every way the overrides in force on ``agency.as_of`` contradict the agency or each other.

    ``overrides`` defaults to ``agency.overrides``; lapsed ones (``until`` before the run's date) are not
    checked, since they no longer apply.
    """
    overrides = list(agency.overrides if overrides is None else overrides)
    rows_of = override_rows(overrides, rows)
    clients = {c.client_id: c for c in agency.clients}
    workers = {w.worker_id for w in agency.workers}
    errors: list[InputError] = []
    first_pin: dict[str, int] = {}             # client -> index of their first pin
    pairs: dict[tuple[str, str | None, str], int] = {}  # (client, worker, action) -> index of its first override

    def where(n: int) -> str:
        o = overrides[n]
        return f"row {rows_of[n]}" if rows_of[n] is not None else f"{o.action.value} {o.client_id}"

    for n, o in enumerate(overrides):
        row = rows_of[n]
        if not o.applies_on(agency.as_of):
            continue
        client = clients.get(o.client_id)
        if client is None:
            errors.append(InputError(file, row, "client_id", o.client_id, "unknown client: not in the clients file"))
            continue
        if client.status not in (Status.WAITING, Status.ACTIVE):
            errors.append(InputError(file, row, "client_id", o.client_id,
                                     f"the client is {client.status.value}: overrides apply to waiting or "
                                     "active clients"))
            continue
        if o.action in NEEDS_WORKER and not o.worker_id:
            errors.append(InputError(file, row, "worker_id", "", f"is required for {o.action.value}"))
            continue
        if o.action not in NEEDS_WORKER and o.worker_id:
            errors.append(InputError(file, row, "worker_id", o.worker_id,
                                     f"must be empty for {o.action.value} (only pin and forbid name a worker)"))
            continue
        if o.worker_id and o.worker_id not in workers:
            errors.append(InputError(file, row, "worker_id", o.worker_id, "unknown worker: not in the workers file"))
            continue
        if o.action == OverrideAction.KEEP and client.status != Status.ACTIVE:
            errors.append(InputError(file, row, "action", o.action.value,
                                     "keep applies to an active client; this client is waiting"))
            continue
        if o.action == OverrideAction.HOLD and client.status != Status.WAITING:
            errors.append(InputError(file, row, "action", o.action.value,
                                     "hold applies to a waiting client; this client is active (keep them "
                                     "with their worker instead?)"))
            continue
        key = (o.client_id, o.worker_id, o.action.value)
        if key in pairs:
            errors.append(InputError(file, row, "action", o.action.value,
                                     f"the same override twice (first: {where(pairs[key])})"))
            continue
        pairs[key] = n
        if o.action == OverrideAction.PIN:
            if o.client_id in first_pin:
                errors.append(InputError(file, row, "action", "pin",
                                         f"a second pin for the client (first: {where(first_pin[o.client_id])})"))
                continue
            first_pin[o.client_id] = n
    for key, n in pairs.items():
        client_id, worker_id, action = key
        row, client = rows_of[n], clients[client_id]
        pin = first_pin.get(client_id)
        if action == OverrideAction.FORBID and (client_id, worker_id, "pin") in pairs:
            errors.append(InputError(file, row, "action", "forbid", "pin and forbid of the same client and worker "
                                     f"(pin: {where(pairs[(client_id, worker_id, 'pin')])})"))
        elif action == OverrideAction.HOLD and pin is not None:
            errors.append(InputError(file, row, "action", "hold",
                                     f"hold and pin of the same client (pin: {where(pin)})"))
        elif action == OverrideAction.KEEP and pin is not None and overrides[pin].worker_id != client.worker_id:
            errors.append(InputError(file, row, "action", "keep",
                                     f"keep and a pin to another worker (pin: {where(pin)})"))
        elif action == OverrideAction.KEEP and (client_id, client.worker_id, "forbid") in pairs:
            errors.append(InputError(file, row, "action", "keep", "keep and forbid of the client's worker "
                                     f"(forbid: {where(pairs[(client_id, client.worker_id, 'forbid')])})"))
    return errors
