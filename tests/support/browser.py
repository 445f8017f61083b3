"""Debian's headless Chromium driven by selenium, as the browser tests and bench/console.py use it.

`KIROSHI_TEST_CHROMEDRIVER` names the driver (`.ci/run` installs chromium and chromium-driver and sets
it); `KIROSHI_TEST_CHROMIUM` the browser, /usr/bin/chromium by default.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["chromedriver", "headless_chromium"]


def chromedriver() -> str:
    """The driver's path, or "" where none is configured."""
    return os.environ.get("KIROSHI_TEST_CHROMEDRIVER", "")


@contextlib.contextmanager
def headless_chromium(profile: Path, *, height: int = 900, browser_log: bool = False) -> Iterator[Any]:
    """A fresh headless Chromium (its profile in `profile`), quit on exit; with `browser_log`, what the
    page logs is kept for `driver.get_log("browser")`. Nothing goes to the network but the pages asked."""
    os.environ["SE_AVOID_STATS"] = "true"  # selenium-manager would otherwise report usage over the network
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = os.environ.get("KIROSHI_TEST_CHROMIUM", "/usr/bin/chromium")
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--window-size=1280,{height}",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    if browser_log:
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=chromedriver()), options=options)
    try:
        yield driver
    finally:
        driver.quit()
