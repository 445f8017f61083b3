"""`/docs` as a person sees it: the page rendered by a real headless Chromium, not its status codes.

Needs Debian's chromium and chromium-driver; `KIROSHI_TEST_CHROMEDRIVER` names the driver (`.ci/run` installs
both and sets it), and without it this test skips, saying why.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.browser import chromedriver, headless_chromium
from tests.support.runner import Runner

pytestmark = pytest.mark.e2e


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[object]:
    if not chromedriver():
        pytest.skip("KIROSHI_TEST_CHROMEDRIVER is unset: no headless Chromium to render pages with")
    with headless_chromium(tmp_path / "chromium", height=2000) as driver:
        yield driver


def test_the_docs_page_renders_every_operation_in_a_real_browser(browser: object, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.remote.webdriver import WebDriver
    from selenium.webdriver.support.ui import WebDriverWait

    assert isinstance(browser, WebDriver)
    runner = Runner(tmp_path / "runner").start()
    try:
        browser.get(f"{runner.url}/docs")
        operations = WebDriverWait(browser, 30).until(
            lambda page: page.find_elements(By.CSS_SELECTOR, ".opblock-summary") or None
        )
        shown = {
            (
                block.find_element(By.CSS_SELECTOR, ".opblock-summary-method").text,
                block.find_element(By.CSS_SELECTOR, ".opblock-summary-path").get_attribute("data-path"),
            )
            for block in operations
        }
        text = browser.find_element(By.TAG_NAME, "body").text
        browser.save_screenshot(str(tmp_path / "docs.png"))
    finally:
        runner.stop()

    assert "Unable to render this definition" not in text
    assert {("POST", "/users/register"), ("POST", "/users/login"), ("POST", "/subscriptions/buy")} <= shown
    assert ("GET", "/chats/{user_id}/{chat_id}") in shown
    assert len(shown) >= 30, sorted(shown)
