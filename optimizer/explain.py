"""Why a client waits, and why a client moved: true statements a coordinator can act on.

A waiting client's reason is one of:

- the per-pair rule that leaves them no eligible worker. The rules narrow the workforce in the order
  of `optimizer.eligibility.RULES`; the reason names the rule at which the last candidates drop out,
  qualified by the earlier rules that removed anyone ("no French-capable worker covers area M1B",
  "all 2 female workers speaking ar are excluded by the client", "no worker speaks ti");
- a family rule (the family's worker is not eligible for this member, no worker is eligible for every
  member, the family is already split across workers, a member has no eligible worker);
- capacity: every eligible worker truly cannot take them tonight, because it is at target (no room
  for the client's load), over target, or has reached its max_new_per_week intake. This is checked
  worker by worker against the final caseloads (`Caseloads.blocker`), so it is true by construction.

A coordinator's override is named with the coordinator's own reason: `held by coordinator: awaiting
consent`, `pinned by coordinator to W07: family knows her`, `forbidden by coordinator: ...`; a client kept by
the coordinator is never moved, so it needs no reason of its own.

Reasons carry rule names, worker ids, language codes and area codes, never where a client lives or a
distance from their home.
"""

from __future__ import annotations

import re

import numpy as np

from caseload.domain import OverrideAction, Status
from optimizer.caseloads import Caseloads
from optimizer.eligibility import Eligibility, client_languages

RULE_FRENCH, RULE_LANGUAGE, RULE_AREAS, RULE_TRAVEL, RULE_GENDER, RULE_EXCLUDED, RULE_LEAVE = range(1, 8)
RULE_FORBIDDEN, RULE_PINNED, RULE_HELD = range(8, 11)


def _said(el: Eligibility, i: int, action: OverrideAction) -> str:
    """The coordinator's reason for client i's override of this kind, as ': reason' ('' without one)."""
    o = el.override_of(i, action)
    return f": {o.reason}" if o is not None and o.reason else ""


def coordinator_reason(el: Eligibility, i: int) -> str:
    """'held by coordinator: ...' or 'pinned by coordinator to W: ...' for client i, '' when neither."""
    if el.override_of(i, OverrideAction.HOLD) is not None and el.clients[i].status == Status.WAITING:
        return f"held by coordinator{_said(el, i, OverrideAction.HOLD)}"
    pin = el.override_of(i, OverrideAction.PIN)
    if pin is not None:
        return f"pinned by coordinator to {pin.worker_id}{_said(el, i, OverrideAction.PIN)}"
    return ""


def _forbidden_reason(el: Eligibility, i: int, j: int) -> str:
    worker = el.workers[j].worker_id
    said = next((f": {o.reason}" for o in el.overrides.get(i, ())
                 if o.action == OverrideAction.FORBID and o.worker_id == worker and o.reason), "")
    return f"forbidden by coordinator{said}"


def _langs(el: Eligibility, i: int) -> str:
    return "/".join(client_languages(el.clients[i])) or "no language"


def pair_reason(el: Eligibility, i: int, j: int) -> str:
    """Why worker j may not serve client i, as a predicate ('does not speak ti'); '' when eligible."""
    code = int(el.first_rule[i, j])
    c, w = el.clients[i], el.workers[j]
    return {
        0: "",
        RULE_FRENCH: "is not French-capable",
        RULE_LANGUAGE: f"does not speak {_langs(el, i)}",
        RULE_AREAS: f"does not cover area {c.area}",
        RULE_TRAVEL: f"does not travel that far (max_travel_km {w.max_travel_km:g})" if w.max_travel_km else "",
        RULE_GENDER: f"is not {c.worker_gender_preference}",
        RULE_EXCLUDED: "is excluded by the client",
        RULE_LEAVE: "is on leave",
        RULE_FORBIDDEN: "is forbidden by coordinator",
        RULE_PINNED: "is not the worker the coordinator pinned",
        RULE_HELD: "takes no one held by coordinator",
    }[code]


def no_eligible_reason(el: Eligibility, i: int) -> str:
    """Why client i has no eligible worker: the rule at which the last candidates drop out."""
    row = el.first_rule[i]
    if len(row) == 0:
        return "the agency has no workers"
    assert row.min() > 0, "client has eligible workers"
    c = el.clients[i]
    binding = int(row.max())
    if binding == RULE_HELD:
        return f"held by coordinator{_said(el, i, OverrideAction.HOLD)}"
    if binding == RULE_PINNED:  # every other worker is not the pinned one: why the pinned one cannot serve
        pin = el.override_of(i, OverrideAction.PIN)
        j = el.worker_index.get(pin.worker_id or "", -1) if pin is not None else -1
        why = f", who {pair_reason(el, i, j)}" if j >= 0 and pair_reason(el, i, j) else ""
        return f"{coordinator_reason(el, i)}{why}"
    survivors = int(np.count_nonzero(row == binding))
    prefix: list[str] = []
    suffix: list[str] = []
    for code in range(1, binding):
        if not np.any(row == code):
            continue
        if code == RULE_FRENCH:
            prefix.append("French-capable")
        elif code == RULE_LANGUAGE:
            suffix.append(f"speaking {_langs(el, i)}")
        elif code == RULE_AREAS:
            suffix.append(f"covering area {c.area}")
        elif code == RULE_TRAVEL:
            suffix.append("within travel range")
        elif code == RULE_GENDER:
            prefix.append(str(c.worker_gender_preference))
        elif code == RULE_EXCLUDED:
            suffix.append("not excluded by the client")

    def noun(plural: bool = False) -> str:
        return " ".join([*prefix, "workers" if plural else "worker", *suffix])

    narrowed = bool(prefix or suffix)
    if binding == RULE_FRENCH:
        return f"no {noun()} is French-capable" if narrowed else "no French-capable worker"
    if binding == RULE_LANGUAGE:
        return f"no {noun()} speaks {_langs(el, i)}"
    if binding == RULE_AREAS:
        return f"no {noun()} covers area {c.area}"
    if binding == RULE_TRAVEL:
        return f"no {noun()} within travel range of the client's home"
    if binding == RULE_GENDER:
        pref = c.worker_gender_preference
        return f"no {noun()} is {pref}" if narrowed else f"no {pref} worker"
    if binding == RULE_FORBIDDEN:
        if survivors == 1:
            j = int(np.nonzero(row == binding)[0][0])
            return f"the only {noun()} is {_forbidden_reason(el, i, j)}"
        return f"all {survivors} {noun(plural=True)} are forbidden by coordinator"
    what = "excluded by the client" if binding == RULE_EXCLUDED else "on leave"
    if survivors == 1:
        return f"the only {noun()} is {what}"
    return f"all {survivors} {noun(plural=True)} are {what}"


def capacity_reason(state: Caseloads, u: int) -> str:
    """Why a unit with eligible workers waits: each of them is at/over target or out of weekly intake."""
    unit = state.units[u]
    workers = [int(j) for j in unit.eligible]
    blocked = {j: state.blocker(u, j) for j in workers}
    free = [j for j, b in blocked.items() if b is None]
    if free:  # cannot happen after the polishing pass; kept true rather than silent
        return f"not placed although {len(free)} eligible worker(s) have room (solver stopped early)"
    at = sum(b in ("at_target", "over_target") for b in blocked.values())
    paced = sum(b == "max_new" for b in blocked.values())
    if unit.size > 1:
        load = f"no room for the family's {unit.size} members"
        who = "workers eligible for the whole family"
    else:
        load = f"no room for a {'high' if unit.high else 'low'}-need client"
        who = "eligible workers"
    if len(workers) == 1:
        w = state.el.workers[workers[0]].worker_id
        only = "the only worker eligible for the whole family" if unit.size > 1 else "the only eligible worker"
        if paced:
            return f"{only}, {w}, has reached max_new_per_week"
        return f"{only}, {w}, is at target ({load})"
    if paced == 0:
        return f"all {len(workers)} {who} are at target ({load})"
    if at == 0:
        return f"all {len(workers)} {who} have reached max_new_per_week"
    return f"all {len(workers)} {who} are at target ({at}) or have reached max_new_per_week ({paced})"


def waiting_reason(state: Caseloads, u: int, i: int) -> str:
    """Why client i (a member of unplaced unit u) waits tonight."""
    el = state.el
    if len(el.eligible(i)) == 0:
        return no_eligible_reason(el, i)
    pinned = coordinator_reason(el, i)
    if pinned:  # the pinned worker may serve them but cannot tonight
        return f"{pinned}; {_unpinned_reason(state, u, i)}"
    return _unpinned_reason(state, u, i)


def _unpinned_reason(state: Caseloads, u: int, i: int) -> str:
    el = state.el
    unit = state.units[u]
    if unit.family_block:
        return unit.family_block
    if unit.family_worker >= 0 and len(unit.eligible) == 0:
        w = el.workers[unit.family_worker].worker_id
        for member in unit.members:
            why = pair_reason(el, member, unit.family_worker)
            if why and member == i:
                return f"family served by {w}, who {why}"
            if why:
                return f"family served by {w}, who cannot serve member {el.clients[member].client_id} ({why})"
        return f"family served by {w}"
    if len(unit.eligible) == 0:
        for member in unit.members:
            if len(el.eligible(member)) == 0:
                return (f"a family is placed whole: member {el.clients[member].client_id} has no eligible "
                        f"worker ({no_eligible_reason(el, member)})")
        return "no worker is eligible for every member of the family"
    return capacity_reason(state, u)


def forced_reason(el: Eligibility, i: int) -> str:
    """Why an active client cannot stay with their current worker."""
    j = int(el.current[i])
    w = el.workers[j].worker_id
    code = int(el.first_rule[i, j])
    if code == RULE_LEAVE:
        return f"worker {w} on leave"
    if code == RULE_PINNED:
        return coordinator_reason(el, i)
    if code == RULE_FORBIDDEN:
        return f"worker {w} {_forbidden_reason(el, i, j)}"
    return f"worker {w} {pair_reason(el, i, j)}"


def moved_reason(state: Caseloads, i: int, j: int) -> str:
    """Why active client i moved to worker j: forced off their worker, or to make room on it."""
    el = state.el
    old = el.workers[int(el.current[i])].worker_id
    new = el.workers[j].worker_id
    if el.forced[i]:
        return f"{forced_reason(el, i)}: moved from {old} to {new}"
    source = int(el.current[i])
    took = [state.units[u] for u in np.nonzero(state.unit_worker == source)[0]]
    if any(el.clients[m].status == Status.WAITING for unit in took for m in unit.members):
        return f"moved from {old} to {new} to make room for a waiting client"
    if took:
        return f"moved from {old} to {new} to make room for a client re-placed from another worker"
    return f"moved from {old} to {new} to make room for a client moved to {old}"


_GROUPING = (
    (re.compile(r"^all \d+ "), "all "),                                  # all 4 eligible workers ... -> all ...
    (re.compile(r" \(\d+\)"), ""),                                      # ... at target (3) or ... (1)
    (re.compile(r"the family's \d+ members"), "the family's members"),
    (re.compile(r"^(the only [^,]+), [^,]+, "), r"\1 "),                  # the only eligible worker, W07, is ...
    (re.compile(r"^family served by [^,]+, who cannot serve member \S+ "), "family's worker cannot serve a member "),
    (re.compile(r"^family served by [^,]+, who "), "family's worker "),
    (re.compile(r"^family served by \S+$"), "family's worker"),
    (re.compile(r"although \d+ eligible"), "although eligible"),
)


def reason_group(reason: str) -> str:
    """The rule behind a waiting reason, without its counts and ids: what the summary counts by, so that
    "all 3 eligible workers are at target" and "all 5 ..." are one line a coordinator can act on."""
    for pattern, replacement in _GROUPING:
        reason = pattern.sub(replacement, reason)
    return reason
