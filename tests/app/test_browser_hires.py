"""The Recommend hires panel in a real browser (Debian's Chromium, as tests/app/test_browser.py): the plan,
the frontier, the bottlenecks and the projection drawn without an exception box or a browser error, and
the hires added to the workers table. Saves test-artifacts/staffing-recommend.png (and the panel alone,
staffing-recommend-panel.png, which `copy_for_readme` puts in docs/screenshots/).
"""

from __future__ import annotations

import pytest

from tests.app.conftest import REPO
from tests.app.test_browser import (
    ARTIFACTS,
    CHROMIUM,
    RUN_TIMEOUT_MS,
    browser,  # noqa: F401 - the fixture
    no_exception,
    page_errors,
    running_app,
    set_number,
    settle,
    shot,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"),
]

BUDGET = "400000"
PANEL = "staffing-recommend-panel"


def panel_shot(page, name: str = PANEL):
    """A picture of the panel alone, for the README: from its heading down to the workers table's, taken after
    `shot` has made the window as tall as the page (so both headings are on screen)."""
    ARTIFACTS.mkdir(exist_ok=True)
    top = page.get_by_role("heading", name="Recommend hires", exact=True).bounding_box()
    bottom = page.get_by_role("heading", name="Workers", exact=True).bounding_box()
    main = page.locator('[data-testid="stMainBlockContainer"]').bounding_box()
    path = ARTIFACTS / f"{name}.png"
    x, y = main["x"] + 40, top["y"] - 40
    page.screenshot(path=str(path), clip={"x": x, "y": y, "width": main["width"] - 80, "height": bottom["y"] - y - 8})
    return path


def fill_in_form(page, label: str, value: str) -> None:
    """A number in the panel's form: no Enter (it would submit the form), nothing reruns until the button."""
    box = page.get_by_label(label, exact=True)
    box.fill(value)
    box.press("Tab")


def test_the_recommend_hires_panel_in_a_real_browser(browser, tmp_path):  # noqa: F811 - the fixture
    with running_app("hires", tmp_path) as app_url:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        try:
            recommend_and_add(page, app_url)
        except Exception:
            shot(page, "failure-hires-last-state")
            raise
        assert not page_errors(errors)


def recommend_and_add(page, app_url: str) -> None:
    page.goto(f"{app_url}/staffing")
    page.get_by_role("heading", name="Staffing", exact=True).wait_for(timeout=RUN_TIMEOUT_MS)
    set_number(page, "Time limit per plan (s)", "10")
    page.get_by_text("Edit, add or remove workers").wait_for(timeout=RUN_TIMEOUT_MS)
    settle(page)
    fill_in_form(page, "Budget for hires ($ a year)", BUDGET)
    page.get_by_text("Candidate positions and the projection over time").click()
    fill_in_form(page, "Replications", "10")
    page.get_by_role("button", name="Recommend hires").click()
    page.get_by_text("The hires and the waiting clients each takes on").wait_for(timeout=RUN_TIMEOUT_MS)
    # The what-if under the panel stays usable while the jobs run.
    assert page.get_by_text("Edit, add or remove workers").count() == 1
    page.get_by_text("Worst monthly p90 wait without the hires").wait_for(timeout=RUN_TIMEOUT_MS)
    settle(page)
    no_exception(page, "hires")
    assert page.locator(".js-plotly-plot").count() >= 3  # the frontier, the projection, the caseload chart
    shot(page, "staffing-recommend")
    panel_shot(page)

    add = page.get_by_role("button", name="hire(s) to the workers table")
    add.click()
    page.get_by_text("Clients whose outcome changes").wait_for(timeout=RUN_TIMEOUT_MS)
    settle(page)
    no_exception(page, "hires-added")
    assert page.get_by_text("In the workers table below: HIRE-").count() == 1
    shot(page, "staffing-recommend-added")


def copy_for_readme() -> None:  # pragma: no cover
    """python -c 'from tests.app.test_browser_hires import copy_for_readme; copy_for_readme()' (by hand, after
    the test ran): the panel's picture into docs/screenshots/staffing-recommend.png."""
    from PIL import Image

    source = ARTIFACTS / f"{PANEL}.png"
    target = REPO / "docs" / "screenshots" / "staffing-recommend.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    with Image.open(source) as image:
        image.save(target, optimize=True)
