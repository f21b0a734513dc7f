"""The caseload app: `caseload app` (or `streamlit run app/streamlit_app.py`).

This script only decides who may see which page. With an auth section configured (see `caseload.auth`)
it asks for sign-in first and registers only the pages of the user's role, so a funder never reaches a
page with client rows; without one, every page is open (a coordinator on their own machine). Each page
checks the role again itself (`views.require_page`).

The page scripts live in `app/app_pages/`, not `app/pages/`: Streamlit treats a `pages/` folder beside
the entry script as its older file-based navigation and would run such a page directly from its URL,
before this script (and its sign-in) ever runs.
"""

from __future__ import annotations

import sys
from pathlib import Path

_ROOT = Path(__file__).resolve().parent.parent
if str(_ROOT) not in sys.path:  # run from a checkout that was not pip-installed
    sys.path.insert(0, str(_ROOT))

import streamlit as st  # noqa: E402

from app import views  # noqa: E402

st.set_page_config(page_title="caseload", page_icon=":material/diversity_3:", layout="wide")

PAGE_FILES = {
    views.ASSIGNMENT_PAGE: ("app_pages/assignment.py", ":material/assignment_ind:", "assignment"),
    views.WAITLIST_PAGE: ("app_pages/waitlist.py", ":material/format_list_numbered:", "waitlist"),
    views.HISTORY_PAGE: ("app_pages/history.py", ":material/history:", "history"),
    views.STAFFING_PAGE: ("app_pages/staffing.py", ":material/groups:", "staffing"),
    views.SCENARIOS_PAGE: ("app_pages/scenarios.py", ":material/query_stats:", "scenarios"),
}


def _auth_config():
    """The auth configuration, None when sign-in is not required; a broken one stops the app."""
    try:
        from caseload.auth import AuthConfigError, load_auth
    except ImportError:
        return None
    try:
        return load_auth()
    except AuthConfigError as exc:
        st.error(f"The sign-in configuration is broken, so the app will not open: {exc}")
        st.stop()


def _sign_in(config) -> None:
    from caseload.auth import authenticate

    st.title("caseload")
    with st.form("sign_in"):
        st.subheader("Sign in")
        name = st.text_input("User name")
        password = st.text_input("Password", type="password")
        if st.form_submit_button("Sign in", type="primary"):
            user = authenticate(name.strip(), password, config)
            if user is None:
                st.error("Wrong user name or password.")
            else:
                st.session_state[views.USER] = user
                st.rerun()
    st.stop()


def visible_pages() -> list[str]:
    config = _auth_config()
    if config is None:
        return list(views.PAGES)
    user = st.session_state.get(views.USER)
    if user is None:
        _sign_in(config)
    from caseload.auth import pages_for

    with st.sidebar:
        st.caption(f"Signed in as **{user.username}** ({user.role.value})")
        if st.button("Sign out"):
            for key in list(st.session_state):
                del st.session_state[key]
            st.rerun()
    return pages_for(user.role, views.PAGES)


pages = [
    st.Page(PAGE_FILES[title][0], title=title, icon=PAGE_FILES[title][1], url_path=PAGE_FILES[title][2])
    for title in visible_pages()
]
st.navigation(pages).run()
