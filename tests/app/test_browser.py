"""The app in a real browser: Debian's Chromium drives the running server through every page.

AppTest runs page scripts without a browser; this test catches what only a browser shows (a front-end
error, a chart that fails to render, an exception box). It clicks each page's run button, fails on any
exception shown in the page, and saves a screenshot of each page to test-artifacts/ (a CI artefact).

The browser is /usr/bin/chromium (`apt-get install chromium`); no browser is downloaded. Without it the
test is skipped, saying so.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.app.conftest import APP, REPO, SAMPLE

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
READY_TIMEOUT_S = 180  # a cold start imports OR-Tools, SciPy and plotly; generous on a loaded CI machine
RUN_TIMEOUT_MS = 300_000  # a solve or a simulation on a shared 2-core runner
NIGHTLY_LIMIT_S = "10"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium "
                       "(apt-get install -y chromium); .ci/run installs it"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_app(name: str, cwd: Path, env_extra: dict[str, str] | None = None) -> Iterator[str]:
    """Run `streamlit run app/streamlit_app.py` headless on a free port; give its URL once it answers, and
    stop the server afterwards whatever happens."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("CASELOAD_AUTH_FILE", "CASELOAD_DB")}
    env.update({"STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false", **(env_extra or {})})
    ARTIFACTS.mkdir(exist_ok=True)
    log = (ARTIFACTS / f"streamlit-{name}.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(APP), "--server.headless", "true", "--server.port",
         str(port), "--server.address", "127.0.0.1", "--server.fileWatcherType", "none",
         "--client.toolbarMode", "viewer"],
        cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            if server.poll() is not None:
                raise AssertionError(f"the app exited with {server.returncode}; see {log.name}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=5) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"the app did not answer within {READY_TIMEOUT_S} s; see {log.name}")
            time.sleep(0.5)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


@pytest.fixture(scope="module")
def app_url(tmp_path_factory) -> Iterator[str]:
    """The open app (no sign-in), run from an empty folder so no auth file or store is picked up."""
    with running_app("open", tmp_path_factory.mktemp("app-cwd")) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def no_exception(page, where: str) -> None:
    """Fail on any exception box Streamlit shows (a traceback in the page)."""
    boxes = page.locator('[data-testid="stException"]')
    if boxes.count():
        shot(page, f"failure-{where}")
        raise AssertionError(f"{where}: exception shown in the page: {boxes.first.inner_text()[:2000]}")


def shot(page, name: str) -> Path:
    """A screenshot of the whole page: Streamlit scrolls inside its main block, so the window is made as
    tall as that block for the picture (charts below the fold are drawn only once they are in view)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    size = page.viewport_size
    height = page.evaluate("() => { const m = document.querySelector('[data-testid=\"stMain\"]');"
                           " return m ? m.scrollHeight : document.body.scrollHeight; }")
    page.set_viewport_size({"width": size["width"], "height": max(size["height"], min(int(height), 8000))})
    page.wait_for_timeout(1500)
    page.screenshot(path=str(path), full_page=True)
    return path


IDLE = """() => {
    const status = document.querySelector('[data-testid="stStatusWidget"]');
    const running = status !== null && /Running|Stop/.test(status.innerText);
    return !running && document.querySelector('[data-stale="true"]') === null;
}"""


def settle(page) -> None:
    """Wait until the script run has ended: no running indicator and no stale element left on the page."""
    page.wait_for_timeout(300)  # let a rerun that was just triggered start
    page.wait_for_function(IDLE, timeout=RUN_TIMEOUT_MS, polling=200)
    page.wait_for_timeout(800)  # let charts draw


def set_number(page, label: str, value: str) -> None:
    box = page.get_by_label(label, exact=True)
    box.fill(value)
    box.press("Enter")
    box.evaluate("element => element.blur()")
    settle(page)


# The workers table is a glide-data-grid: a canvas, with an accessible mirror (a hidden table whose cells
# say which one is selected and what each shows) and an overlay editor (an input in Streamlit's portal).
SELECTED_CELL = """(previous) => {
    const cell = document.querySelector('[data-testid="stDataFrame"] td[aria-selected="true"]');
    return cell !== null && cell.id !== previous ? cell.id : null;
}"""
CELL_EDITOR = '#portal [id^="gdg-overlay"] input, #portal [id^="gdg-overlay"] textarea'
SAME_TEXT = """(text, want) => {
    text = text.trim();
    if (text === want) return true;
    const number = Number(text.replace(/,/g, ''));  // a number may be shown formatted: 1.50, 1,500
    return text !== '' && want !== '' && !isNaN(number) && Math.abs(number - Number(want)) < 1e-9;
}"""
EDITOR_HOLDS = f"""([selector, want]) => {{
    const editor = document.querySelector(selector);
    return editor !== null && ({SAME_TEXT})(editor.value, want);
}}"""
CELL_SHOWS = f"""([id, want]) => {{
    const cell = document.getElementById(id);
    return cell !== null && ({SAME_TEXT})(cell.innerText, want);
}}"""
EDIT_ATTEMPTS = 4
EDIT_STEP_TIMEOUT_MS = 15_000


def playwright_timeout() -> type[Exception]:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    return PlaywrightTimeout


def selected_cell(page, previous: str | None = None, timeout_ms: int = 1_000) -> str | None:
    """The id of the grid's selected cell (`glide-cell-<column>-<row>`) once it is not `previous`; None if
    that does not happen in time. The answer is read again until it holds still for 300 ms."""
    try:
        current = page.wait_for_function(SELECTED_CELL, arg=previous, timeout=timeout_ms, polling=50).json_value()
    except playwright_timeout():
        return None
    for _ in range(20):
        page.wait_for_timeout(300)
        again = page.evaluate(SELECTED_CELL, None)
        if again == current:
            break
        current = again
    return current


def cell_position(cell_id: str | None) -> tuple[int, int] | None:
    """(column, row) of a mirror cell's id, or None."""
    parts = (cell_id or "").split("-")
    return (int(parts[2]), int(parts[3])) if len(parts) == 4 and parts[0] == "glide" else None


def select_in_first_row(page, column: int) -> None:
    """Select row 1's cell in `column`: click along the first row until the mirror reports a cell of that
    row selected, then step to the column with the arrow keys, reading the mirror after each key."""
    box = page.locator('[data-testid="stDataFrame"]').first.bounding_box()
    y = box["y"] + 35 + 17  # header and rows are 35 px high: the middle of the first row
    for dx in range(20, int(box["width"]), 10):
        page.mouse.click(box["x"] + dx, y)
        position = cell_position(selected_cell(page))
        if position is not None and position[1] == 0:
            break
    else:
        raise AssertionError("could not select a cell in the first row of the workers table")
    for _ in range(50):
        if position[0] == column:
            return
        page.keyboard.press("ArrowRight" if position[0] < column else "ArrowLeft")
        moved = cell_position(selected_cell(page, f"glide-cell-{position[0]}-0", EDIT_STEP_TIMEOUT_MS))
        if moved is None or moved[1] != 0:
            raise AssertionError(f"an arrow key did not move along row 1 of the workers table ({moved})")
        position = moved
    raise AssertionError(f"could not reach column {column} of the workers table")


def edit_first_cell(page, column: int, text: str) -> None:
    """Type into row 1 of the workers table and check that the grid took the value.

    On a loaded machine the grid's editor can open well after the key or double click that asks for it,
    and keys typed before then are lost or added to the old value. So each step waits for what it needs:
    the app idle, the cell selected, its editor open on its current value, the editor holding the new
    text; then the grid must show the value (a number may be shown formatted). The whole edit is tried
    again if a step does not happen in time."""
    cell_id = f"glide-cell-{column}-0"
    editor = page.locator(CELL_EDITOR).first
    problem = ""
    for attempt in range(1, EDIT_ATTEMPTS + 1):
        settle(page)
        if page.evaluate(CELL_SHOWS, [cell_id, text]):
            return
        try:
            select_in_first_row(page, column)
            before = page.locator(f"#{cell_id}").inner_text().strip()
            page.keyboard.press("Enter")  # opens the selected cell's editor
            editor.wait_for(state="visible", timeout=EDIT_STEP_TIMEOUT_MS)
            page.wait_for_function(EDITOR_HOLDS, arg=[CELL_EDITOR, before], timeout=EDIT_STEP_TIMEOUT_MS)
            editor.fill(text)
            page.wait_for_function(EDITOR_HOLDS, arg=[CELL_EDITOR, text], timeout=EDIT_STEP_TIMEOUT_MS)
            editor.press("Enter")  # commits the value
            page.wait_for_function(CELL_SHOWS, arg=[cell_id, text], timeout=EDIT_STEP_TIMEOUT_MS, polling=100)
            return
        except (playwright_timeout(), AssertionError) as error:
            problem = f"attempt {attempt}: {str(error).splitlines()[0]}"
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / f"edit-attempt-{attempt}.png"))
            if page.locator(CELL_EDITOR).count():
                page.keyboard.press("Escape")  # drop a half-made edit before the next attempt
    raise AssertionError(f"the workers table did not take {text!r} in column {column} of row 1 in "
                         f"{EDIT_ATTEMPTS} attempts; last {problem}")


def page_errors(errors: list[str]) -> list[str]:
    """Browser errors: none is expected, not even from the map (it fetches no tiles: offline it is whole)."""
    return list(errors)


def test_every_page_runs_in_a_real_browser(app_url, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        walk_through_every_page(page, app_url)
    except Exception:
        shot(page, "failure-last-state")
        raise
    assert not page_errors(errors)


def walk_through_every_page(page, app_url: str) -> None:
    page.goto(app_url)

    # Nightly assignment (the default page): the sample loads by itself; run it with a short budget.
    page.get_by_role("heading", name="Nightly assignment", exact=True).wait_for(timeout=RUN_TIMEOUT_MS)
    page.get_by_text("Using the sample agency").wait_for(timeout=RUN_TIMEOUT_MS)
    no_exception(page, "nightly-before-run")
    set_number(page, "Time limit (s)", NIGHTLY_LIMIT_S)
    page.get_by_role("button", name="Run the nightly assignment").click()
    page.locator('[data-testid="stProgress"]').wait_for(timeout=RUN_TIMEOUT_MS)
    shot(page, "nightly-assignment-running")
    page.get_by_text("Placed tonight").wait_for(timeout=RUN_TIMEOUT_MS)
    page.get_by_text("Caseload against target").first.wait_for()
    settle(page)
    no_exception(page, "nightly-assignment")
    shot(page, "nightly-assignment")
    assert page.locator('[data-testid="stMetric"]').count() >= 4
    assert page.locator(".js-plotly-plot").count() >= 2
    search = page.get_by_role("textbox", name="Search")
    search.fill("K1")
    search.press("Enter")
    settle(page)
    no_exception(page, "nightly-search")
    page.get_by_role("tab", name="Map").click()
    page.wait_for_timeout(1500)
    no_exception(page, "nightly-map")
    shot(page, "nightly-assignment-map")

    # Staffing: plans with today's workers at once (the same budget as tonight's run is cached).
    page.get_by_role("link", name="Staffing").click()
    page.get_by_role("heading", name="Staffing", exact=True).wait_for(timeout=RUN_TIMEOUT_MS)
    set_number(page, "Time limit per plan (s)", NIGHTLY_LIMIT_S)
    page.get_by_text("Placed tonight").wait_for(timeout=RUN_TIMEOUT_MS)
    settle(page)
    no_exception(page, "staffing")
    edit_first_cell(page, 2, "1.5")  # the first worker goes full time and a half
    page.get_by_text("Clients whose outcome changes").wait_for(timeout=RUN_TIMEOUT_MS)
    settle(page)
    no_exception(page, "staffing-edited")
    assert page.locator('[data-testid="stMetricDelta"]').count() >= 1
    shot(page, "staffing")

    # Scenarios: run the first funding scenario with fewer replications, then compare two.
    page.get_by_role("link", name="Scenarios").click()
    page.get_by_role("heading", name="Scenarios", exact=True).wait_for(timeout=RUN_TIMEOUT_MS)
    settle(page)
    no_exception(page, "scenarios-before-run")
    set_number(page, "Replications", "20")
    page.get_by_role("button", name="Run the scenario").click()
    page.get_by_text("Waitlist at the end").first.wait_for(timeout=RUN_TIMEOUT_MS)
    settle(page)
    no_exception(page, "scenarios")
    shot(page, "scenarios")
    assert page.locator(".js-plotly-plot").count() >= 6
    set_number(page, "Replications of each", "20")
    page.get_by_role("button", name="Run and compare").click()
    page.get_by_text("Over the horizon: A, B and the difference").wait_for(timeout=RUN_TIMEOUT_MS)
    settle(page)
    no_exception(page, "scenarios-compare")
    shot(page, "scenarios-compare")


def proposed_store(folder: Path) -> None:
    """The sample agency in a SQLite store (`agency.db` in `folder`) with one run another coordinator
    proposed (seed 1) and nobody approved."""
    from caseload.store.database import open_engine
    from caseload.store.runs import run_and_record
    from caseload.store.state import import_folder
    from optimizer import assign

    engine = open_engine(f"sqlite:///{folder / 'agency.db'}")
    try:
        import_folder(engine, SAMPLE)
        limit = float(NIGHTLY_LIMIT_S)
        run_and_record(engine, lambda agency: assign(agency, time_limit_s=limit, seed=1), seed=1, time_limit_s=limit,
                       propose=True, user="omar")
    finally:
        engine.dispose()


def test_the_coordinators_loop_in_a_real_browser(browser, tmp_path):
    """A coordinator signs in; Nightly on the store (a proposal, then Approve), History (runs, a plan, the
    two proposals compared) and the Waitlist (queue, reviews, overrides), each without an exception box or
    a browser error."""
    pytest.importorskip("caseload.store.overrides")
    pytest.importorskip("planning.waitlist")
    from caseload.auth import add_user

    proposed_store(tmp_path)
    auth = tmp_path / "auth.yaml"
    add_user(auth, "amira", "correct horse battery", "coordinator")
    env = {"CASELOAD_DB": "sqlite:///agency.db", "CASELOAD_AUTH_FILE": str(auth)}  # the URL as the page shows it
    with running_app("store", tmp_path, env) as app_url:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        try:
            walk_the_coordinators_loop(page, app_url)
        except Exception:
            shot(page, "failure-loop-last-state")
            raise
        assert not page_errors(errors)


def walk_the_coordinators_loop(page, app_url: str) -> None:
    page.goto(app_url)
    page.get_by_role("textbox", name="User name").fill("amira")
    page.get_by_role("textbox", name="Password").fill("correct horse battery")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Nightly assignment", exact=True).wait_for(timeout=RUN_TIMEOUT_MS)
    page.locator('[data-testid="stRadio"]').get_by_text("Read the store").click()
    settle(page)
    page.get_by_role("button", name="Read the store").click()
    page.get_by_text("Using the store").wait_for(timeout=RUN_TIMEOUT_MS)
    set_number(page, "Time limit (s)", NIGHTLY_LIMIT_S)
    page.get_by_role("button", name="Run the nightly assignment").click()
    page.get_by_text("as a proposal").wait_for(timeout=RUN_TIMEOUT_MS)
    settle(page)
    no_exception(page, "nightly-proposal")
    page.get_by_role("button", name="Approve").click()
    page.get_by_text("approved by").wait_for(timeout=RUN_TIMEOUT_MS)
    settle(page)
    no_exception(page, "nightly-approved")

    page.get_by_role("link", name="History").click()
    page.get_by_role("heading", name="History", exact=True).wait_for(timeout=RUN_TIMEOUT_MS)
    page.get_by_text("Why clients still wait").wait_for(timeout=RUN_TIMEOUT_MS)
    settle(page)
    no_exception(page, "history")
    assert page.locator('[data-testid="stMetric"]').count() >= 4
    assert page.get_by_role("heading", name="approved").count() == 1  # the newest run, approved on the Nightly page
    shot(page, "history")
    page.get_by_role("tab", name="Compare two runs").click()
    settle(page)
    assert page.locator('[data-testid="stDataFrame"]:visible').count() == 2  # the two plans differ (seeds 1, 0)
    no_exception(page, "history-compare")
    shot(page, "history-compare")
    page.get_by_role("tab", name="Audit trail").click()
    settle(page)
    assert page.locator('[data-testid="stDataFrame"]:visible').count() == 1  # the approval, with who and when
    no_exception(page, "history-audit")

    page.get_by_role("link", name="Waitlist").click()
    page.get_by_role("heading", name="Waitlist", exact=True).wait_for(timeout=RUN_TIMEOUT_MS)
    page.get_by_text("waiting clients").first.wait_for(timeout=RUN_TIMEOUT_MS)
    settle(page)
    no_exception(page, "waitlist")
    shot(page, "waitlist")
    page.get_by_role("tab", name="Reviews due").click()
    settle(page)
    no_exception(page, "waitlist-reviews")
    shot(page, "waitlist-reviews")
    page.get_by_role("tab", name="Overrides and priorities").click()
    settle(page)
    no_exception(page, "waitlist-overrides")
    shot(page, "waitlist-overrides")


def test_a_funder_signs_in_and_sees_only_scenarios(browser, tmp_path):
    from caseload.auth import add_user

    auth = tmp_path / "auth.yaml"
    add_user(auth, "fatima", "correct horse battery", "funder")
    with running_app("auth", tmp_path, {"CASELOAD_AUTH_FILE": str(auth)}) as url:
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        for path in ("assignment", "staffing"):  # a page's own URL must not get round the sign-in
            page.goto(f"{url}/{path}")
            page.get_by_role("button", name="Sign in").wait_for(timeout=RUN_TIMEOUT_MS)
            assert page.get_by_text("Placed tonight").count() == 0
            assert page.get_by_role("heading", name="Nightly assignment", exact=True).count() == 0
        page.goto(url)
        page.get_by_role("textbox", name="User name").fill("fatima")
        page.get_by_role("textbox", name="Password").fill("correct horse battery")
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("heading", name="Scenarios", exact=True).wait_for(timeout=RUN_TIMEOUT_MS)
        settle(page)
        no_exception(page, "funder")
        assert page.get_by_role("link", name="Nightly assignment").count() == 0
        assert page.get_by_role("link", name="Staffing").count() == 0
        assert page.get_by_text("Signed in as").count() == 1
        shot(page, "funder-scenarios")
        page.get_by_role("button", name="Sign out").click()
        page.get_by_role("button", name="Sign in").wait_for(timeout=RUN_TIMEOUT_MS)
        no_exception(page, "signed-out")


def copy_for_readme(names: tuple[str, ...] = ("nightly-assignment", "history", "waitlist")) -> None:  # pragma: no cover
    """python -c 'from tests.app.test_browser import copy_for_readme; copy_for_readme()' (run by hand after
    a change to one of these pages; pass the names of the pictures to renew)

    The README's pictures: this test's screenshots of the sample agency without the sidebar (the nightly
    page down to the caseload chart; History and the Waitlist from the coordinator's loop), each that has
    been taken.
    """
    from PIL import Image, ImageChops

    target = REPO / "docs" / "screenshots"
    target.mkdir(parents=True, exist_ok=True)
    for name in names:
        if not (ARTIFACTS / f"{name}.png").exists():
            continue
        with Image.open(ARTIFACTS / f"{name}.png") as image:
            page = image.convert("RGB").crop((302, 0, image.size[0], min(image.size[1], 1400)))
            content = ImageChops.difference(page, Image.new("RGB", page.size, "white")).getbbox()
            bottom = min(page.size[1], content[3] + 40) if content else page.size[1]  # no blank tail
            page.crop((0, 0, page.size[0], bottom)).save(target / f"{name}.png", optimize=True)
