"""The proposal under tonight's plan: its run in the history, its status, and the coordinator's Approve button.

A run from the app changes no client's worker until a coordinator approves it. Two coordinators may press
Approve at once: the store lets one win and refuses the other, whose page shows the store's message as it
is (a run already approved, a later one approved first, the store busy).
"""

from __future__ import annotations

import streamlit as st

from app import state, store_runs, views

APPROVED_NOTE = "approval_note"
APPROVAL_ERROR = "approval_error"


def signed_in_user() -> str:
    return store_runs.user_name(st.session_state.get(views.USER))


def may_approve() -> bool:
    """Coordinators approve; without sign-in the one user of the app is the coordinator."""
    user = st.session_state.get(views.USER)
    return user is None or getattr(user.role, "value", user.role) == "coordinator"


def _approve(run_id: int, url: str, plan_key: str) -> None:
    """The Approve button's callback: it runs before the page does, so a click whose button the next run no
    longer draws (another coordinator approved meanwhile) still gets the store's answer."""
    from caseload.store.database import StoreError

    try:
        store_runs.approve(url, run_id, user=signed_in_user())
    except StoreError as exc:
        st.session_state[APPROVAL_ERROR] = f"Run {run_id} was not approved: {exc}"
        return
    reloaded = state.load_store(url)  # the page shows the clients' new current workers
    st.session_state[state.STORED] = reloaded
    if plan_key:
        st.session_state.setdefault("plans", {})[reloaded.key] = plan_key
    st.session_state[APPROVED_NOTE] = (f"Run {run_id} approved by {signed_in_user()}: its placements and moves "
                                       "are now the clients' current workers in the store.")


def proposal_panel(run_id: int, url: str, plan_key: str) -> None:
    """The run's status, and Approve while it is a proposal (only a coordinator may press it)."""
    from caseload.store.database import StoreError

    note, error = st.session_state.pop(APPROVED_NOTE, None), st.session_state.pop(APPROVAL_ERROR, None)
    if note:
        st.success(note)
    if error:
        st.error(error)
    try:
        status = store_runs.status_of(url, run_id)
    except StoreError as exc:
        st.error(f"Could not read run {run_id} from the store: {exc}")
        return
    if status != store_runs.PROPOSED:
        if not note and not error:
            st.success(f"Run {run_id} is {status}: it is in the history (History page).")
        return
    left, right = st.columns([3, 1], vertical_alignment="center")
    left.info(f"Run {run_id} is recorded in the history as a **proposal**: no client's worker changes until a "
              "coordinator approves it.")
    allowed = may_approve()
    right.button("Approve", type="primary", icon=":material/task_alt:", key=f"approve_{run_id}",
                 disabled=not allowed, help=None if allowed else "Only a coordinator approves a run.",
                 on_click=_approve, args=(run_id, url, plan_key))
