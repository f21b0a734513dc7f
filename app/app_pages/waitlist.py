"""Waitlist (coordinator): the queue with expected placement dates, the review lists, and the coordinator's
overrides and priority changes (each with a reason, kept in the store's audit trail).

The queue and the review lists come from `planning.waitlist` and `planning.reviews`; the page only filters
and sorts them. Overrides and priorities are written to the store and take effect on the next run.
"""

from __future__ import annotations

from datetime import date

import streamlit as st

from app import approval, state, store_runs, views, waitlist_view
from caseload.domain import Override, OverrideAction
from caseload.store.database import StoreError
from caseload.validation import ValidationFailed

views.require_page(views.WAITLIST_PAGE)
st.title("Waitlist")
st.caption("Where each waiting client stands in the queue, when they are expected to be placed, and who is due a "
           "check-in or a reassessment. Overrides and priority changes take effect on the next run.")

loaded = views.agency_picker()
if loaded is None:
    st.stop()
agency = loaded.agency

# Tonight's plan, when the Nightly page ran one for this agency: the queue starts from it instead of solving.
plan_key = st.session_state.get("plans", {}).get(loaded.key, "")
planned = state.job_store().result(plan_key) if plan_key else None


# Without one, the queue makes tonight's plan itself, with the Nightly page's time limit when it was set.
time_limit = float(st.session_state.get("nightly_time_limit") or agency.policy.time_limit_s)


def queue_job(job):
    from planning.waitlist import waitlist

    return waitlist(agency, planned.plan if planned is not None else None, time_limit_s=time_limit,
                    progress=lambda message: job.report(str(message)))


queue = views.run_job(f"waitlist:{loaded.key}:{plan_key or time_limit}", queue_job,
                      expected_s=None if planned is not None else time_limit, label="Building the queue...")

queue_tab, reviews_tab, overrides_tab = st.tabs(["Queue", "Reviews due", "Overrides and priorities"])

with queue_tab:
    if queue.empty:
        st.success("Nobody is waiting.")
    else:
        language = waitlist_view.language_column(queue)
        f1, f2, f3, f4 = st.columns(4)
        languages = f1.multiselect("Language", waitlist_view.options(queue, language), key="queue_languages")
        areas = f2.multiselect("Area", waitlist_view.options(queue, "area"), key="queue_areas")
        reasons = f3.multiselect("Why they wait", waitlist_view.options(queue, "reason"), key="queue_reasons")
        sort = f4.selectbox("Sort by", list(waitlist_view.SORTS), key="queue_sort")
        shown = waitlist_view.filter_queue(queue, languages=languages, areas=areas, reasons=reasons, sort=sort)
        st.caption(f"{len(shown):,} of {len(queue):,} waiting clients, after "
                   + ("tonight's plan from the Nightly page" if planned is not None
                      else f"a plan made for this page ({time_limit:g} s)")
                   + ". Expected placement: the median date and the range that holds in 8 of 10 simulated "
                     "futures, from the eligible workers' expected exits and the queue ahead.")
        st.dataframe(waitlist_view.expected_range(shown), hide_index=True, width="stretch",
                     column_config=views.QUEUE_COLUMNS, key="queue_table")

with reviews_tab:
    def reviews_job(job):
        from planning.reviews import reviews

        return reviews(agency)

    due = views.run_job(f"reviews:{loaded.key}", reviews_job, expected_s=None, label="Listing reviews...")
    if due.empty:
        st.success("No reassessment, check-in or planned graduation is due.")
    else:
        kind = waitlist_view.review_kind_column(due)
        st.markdown("**Per worker**")
        st.dataframe(waitlist_view.reviews_per_worker(due), hide_index=True, key="reviews_per_worker",
                     column_config={"worker_id": st.column_config.TextColumn("worker")})
        r1, r2 = st.columns(2)
        workers = r1.multiselect("Worker", waitlist_view.options(due, "worker_id"), key="review_workers")
        kinds = r2.multiselect("Kind", waitlist_view.options(due, kind), key="review_kinds")
        listed = waitlist_view.filter_reviews(due, workers=workers, kinds=kinds)
        st.caption(f"{len(listed):,} of {len(due):,} reviews")
        st.dataframe(listed, hide_index=True, width="stretch", column_config=views.REVIEW_COLUMNS,
                     key="reviews_table")

with overrides_tab:
    url = st.session_state.get(state.STORE_URL) if st.session_state.get(state.SOURCE) == "store" else None
    if url is None:
        st.info("Overrides and priority changes are kept in the store, with who made them and why: choose "
                "**Read the store** above. (A data folder takes its overrides from overrides.csv.)")
        st.stop()
    from caseload.store import overrides as stored
    from optimizer.overrides import check_overrides

    user = approval.signed_in_user()
    client_ids = sorted(c.client_id for c in agency.clients if c.status.value in ("waiting", "active"))
    worker_ids = sorted(w.worker_id for w in agency.workers)

    def done(message: str) -> None:
        st.session_state[state.STORED] = state.load_store(url)  # the next run and this page see the change
        st.session_state["override_note"] = message
        st.rerun()

    note = st.session_state.pop("override_note", None)
    if note:
        st.success(note)

    st.subheader("Overrides in force")
    with store_runs.engine_for(url) as engine:
        current = stored.list_overrides(engine)
    table = store_runs.overrides_frame(current)
    if table.empty:
        st.caption("No override is set.")
    else:
        st.dataframe(table, hide_index=True, width="stretch", key="overrides_table",
                     column_config=views.OVERRIDE_COLUMNS)

    if not approval.may_approve():  # a manager reads the overrides and the trail; a coordinator decides
        st.info("Only a coordinator sets overrides and priorities.")
    else:
        add, priority, remove = st.columns(3)
        with add.form("add_override", clear_on_submit=True):
            st.markdown("**Add an override**")
            client = st.selectbox("Client", client_ids, index=None, key="override_client")
            action = st.selectbox("Action", [a.value for a in OverrideAction], key="override_action",
                                  help="pin: serve with this worker; forbid: never this worker; hold: do not place "
                                       "now; keep: an active client is never moved")
            worker = st.selectbox("Worker (pin, forbid)", worker_ids, index=None, key="override_worker")
            reason = st.text_input("Reason (required)", key="override_reason",
                                   help="In your words; shown in the plan's explanation and in the audit trail.")
            until = st.date_input("Until (optional)", value=None, min_value=date.today(), key="override_until")
            if st.form_submit_button("Add override", type="primary"):
                # Every field goes through the store's one validator (a reason is required; a pin must hold).
                override = Override(client_id=client or "", action=OverrideAction(action), reason=reason,
                                    worker_id=worker if action in ("pin", "forbid") else None, set_by=user, until=until)
                try:
                    with store_runs.engine_for(url) as engine:
                        stored.add_override(engine, override, user=user, check=check_overrides)
                except ValidationFailed as failure:
                    views.error_table(failure.errors, "the override")
                except StoreError as exc:
                    st.error(f"The override was not saved: {exc}")
                else:
                    done(f"Override saved: {action} {client}. It applies from the next run.")

        with priority.form("set_priority", clear_on_submit=True):
            st.markdown("**Change a priority**")
            client = st.selectbox("Client", client_ids, index=None, key="priority_client")
            value = st.number_input("New priority", min_value=0, max_value=1000, value=0, step=1, key="priority_value",
                                    help="Larger is more urgent; urgent clients are placed first.")
            reason = st.text_input("Reason (required)", key="priority_reason")
            if st.form_submit_button("Set priority"):
                try:
                    with store_runs.engine_for(url) as engine:
                        stored.set_priority(engine, client or "", int(value), user=user, reason=reason)
                except ValidationFailed as failure:
                    views.error_table(failure.errors, "the priority change")
                except StoreError as exc:
                    st.error(f"The priority was not saved: {exc}")
                else:
                    done(f"Priority of {client} set to {int(value)}. It applies from the next run.")

        with remove.form("remove_override", clear_on_submit=True):
            st.markdown("**Remove an override**")
            ids = table["override_id"].tolist() if "override_id" in table.columns else []
            chosen = st.selectbox("Override", ids, index=None, key="remove_id",
                                  format_func=lambda i: store_runs.override_label(table, i))
            reason = st.text_input("Reason (required)", key="remove_reason")
            if st.form_submit_button("Remove override"):
                if chosen is None:
                    st.error("Choose the override to remove.")
                else:
                    try:
                        with store_runs.engine_for(url) as engine:
                            stored.remove_override(engine, int(chosen), user=user, reason=reason)
                    except ValidationFailed as failure:
                        views.error_table(failure.errors, "the removal")
                    except StoreError as exc:
                        st.error(f"The override was not removed: {exc}")
                    else:
                        done(f"Override {chosen} removed. It stops applying from the next run.")

    st.subheader("Audit trail")
    trail = store_runs.audit_frame(url, limit=200)
    if trail.empty:
        st.caption("Nothing recorded yet.")
    else:
        st.dataframe(trail, hide_index=True, width="stretch", key="audit_trail", column_config=views.AUDIT_COLUMNS)
