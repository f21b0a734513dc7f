"""The proposal under tonight's plan: its run in the history, its status, and the coordinator's Approve button.

A run from the app changes no client's worker until a coordinator approves it. Two coordinators may press
Approve at once: the store lets one win and refuses the other, whose page shows the store's message as it
is (a run already approved, a later one approved first, the store busy).
"""

from __future__ import annotations

import streamlit as st

from app import state, store_runs, views

APPROVED_NOTE = "approval_note"


def signed_in_user() -> str:
    return store_runs.user_name(st.session_state.get(views.USER))


def may_approve() -> bool:
    """Coordinators approve; without sign-in the one user of the app is the coordinator."""
    user = st.session_state.get(views.USER)
    return user is None or getattr(user.role, "value", user.role) == "coordinator"


def proposal_panel(run_id: int, url: str, plan_key: str) -> None:
    """The run's status, and Approve while it is a proposal; after approval the store is read again so the
    page shows the clients' new current workers."""
    from caseload.store.database import StoreError

    note = st.session_state.pop(APPROVED_NOTE, None)
    if note:
        st.success(note)
    try:
        status = store_runs.status_of(url, run_id)
    except StoreError as exc:
        st.error(f"Could not read run {run_id} from the store: {exc}")
        return
    if status != store_runs.PROPOSED:
        if not note:
            st.success(f"Run {run_id} is {status}: it is in the history (History page).")
        return
    left, right = st.columns([3, 1], vertical_alignment="center")
    left.info(f"Run {run_id} is recorded in the history as a **proposal**: no client's worker changes until a "
              "coordinator approves it.")
    allowed = may_approve()
    if right.button("Approve", type="primary", icon=":material/task_alt:", key=f"approve_{run_id}",
                    disabled=not allowed, help=None if allowed else "Only a coordinator approves a run."):
        try:
            store_runs.approve(url, run_id, user=signed_in_user())
        except StoreError as exc:
            st.error(f"Run {run_id} was not approved: {exc}")
            return
        reloaded = state.load_store(url)
        st.session_state[state.STORED] = reloaded
        st.session_state.setdefault("plans", {})[reloaded.key] = plan_key
        st.session_state[APPROVED_NOTE] = (f"Run {run_id} approved by {signed_in_user()}: its placements and "
                                           "moves are now the clients' current workers in the store.")
        st.rerun()
