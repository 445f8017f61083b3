"""The web console in headless Chromium: first paint of `/`, and whether a reply streaming at 200 tokens/s
keeps the page's frames coming.

    KIROSHI_TEST_CHROMEDRIVER=/usr/bin/chromedriver .venv/bin/python bench/console.py [--rate 200] [--tokens 1000]

Starts the fake OpenAI-compatible upstream (one token every 1000/rate ms) and a local runner, then reports
first-paint and first-contentful-paint of `/` (a cold load with an empty cache, then a reload), the bytes the page
fetched, and, while one reply of `--tokens` tokens streams into the chat page: the frames the browser painted,
their interval p50/p99/max, how many frames were late (an interval over 50 ms: three missed at 60 Hz), the long
tasks (over 50 ms of script) and how much of the reply was shown in how many visible steps. Headless Chromium
paints at 60 Hz; this machine's load (2 cores) shows in every figure.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.browser import chromedriver, headless_chromium  # noqa: E402
from tests.support.fake_openai import FakeOpenAI  # noqa: E402
from tests.support.runner import Runner  # noqa: E402

PASSWORD = "a long console passphrase"
EMAIL = "bench@example.com"

FRAMES = """
window.__frames = []; window.__long = 0; window.__steps = [];
new PerformanceObserver((list) => { window.__long += list.getEntries().length; }).observe({type: 'longtask'});
const tick = (t) => {
  window.__frames.push(t);
  const body = document.querySelector('.message.assistant:last-of-type .body');
  const shown = body ? body.textContent.length : 0;
  const last = window.__steps[window.__steps.length - 1];
  if (shown !== (last === undefined ? 0 : last)) window.__steps.push(shown);
  if (!window.__stop) requestAnimationFrame(tick);
};
requestAnimationFrame(tick);
"""


def named(page: Any, name: str, seconds: float = 15) -> Any:
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    def find(driver: Any) -> Any:
        for element in driver.find_elements(By.CSS_SELECTOR, "button, input, textarea, select, a"):
            if element.is_displayed() and element.accessible_name == name:
                return element
        return None

    wait = WebDriverWait(page, seconds, poll_frequency=0.05, ignored_exceptions=(StaleElementReferenceException,))
    return wait.until(find)


def paints(page: Any) -> dict[str, float]:
    entries = page.execute_script(
        "return performance.getEntriesByType('paint').map((e) => [e.name, e.startTime])"
        ".concat([['bytes', performance.getEntriesByType('resource')"
        ".reduce((n, r) => n + r.transferSize, performance.getEntriesByType('navigation')[0].transferSize)]])"
    )
    return dict(entries)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=float, default=200.0, help="tokens per second of the streamed reply")
    parser.add_argument("--tokens", type=int, default=1000)
    args = parser.parse_args()
    if not chromedriver():
        sys.exit("set KIROSHI_TEST_CHROMEDRIVER to Debian's chromedriver (apt-get install chromium chromium-driver)")

    fake = FakeOpenAI(tokens=args.tokens, delay_ms=1000 / args.rate).serve_in_thread()
    with tempfile.TemporaryDirectory() as data, tempfile.TemporaryDirectory() as profile:
        env = {"OPENAI_BASE_URL": fake.base_url, "OPENAI_API_KEY": "bench", "KIROSHI_MODELS": "gpt-4o-mini"}
        runner = Runner(Path(data), env, quiet=True).start()
        try:
            with headless_chromium(Path(profile)) as page:
                body = {"email": EMAIL, "nickname": "bench", "name": "Bench", "surname": "Mark", "password": PASSWORD}
                httpx.post(f"{runner.url}/users/register", json=body).raise_for_status()

                page.get(f"{runner.url}/")
                named(page, "Log in")
                cold = paints(page)
                page.refresh()
                named(page, "Log in")
                warm = paints(page)

                named(page, "Email").send_keys(EMAIL)
                named(page, "Password").send_keys(PASSWORD)
                named(page, "Log in").click()
                named(page, "New chat").click()
                box = named(page, "Message")
                page.execute_script(FRAMES)
                started = time.monotonic()
                box.send_keys("stream, please\n")
                time.sleep(0.5)
                while page.execute_script("return !!document.querySelector('.message.streaming')"):
                    time.sleep(0.1)
                seconds = time.monotonic() - started
                page.execute_script("window.__stop = true")
                frames, long_tasks, steps = page.execute_script(
                    "return [window.__frames, window.__long, window.__steps]"
                )
        finally:
            runner.stop()
            fake.stop()

    gaps = [b - a for a, b in itertools.pairwise(frames)]
    gaps.sort()
    print(
        f"GET / cold: first paint {cold.get('first-paint', 0):.0f} ms, first contentful paint "
        f"{cold.get('first-contentful-paint', 0):.0f} ms, {cold['bytes'] / 1024:.1f} KiB transferred"
    )
    print(
        f"GET / reload: first paint {warm.get('first-paint', 0):.0f} ms, first contentful paint "
        f"{warm.get('first-contentful-paint', 0):.0f} ms"
    )
    print(f"a {args.tokens}-token reply at {args.rate:.0f} tokens/s, shown over {seconds:.1f} s:")
    print(
        f"  {len(frames)} frames ({len(frames) / seconds:.1f}/s); interval p50 {statistics.median(gaps):.1f} ms, "
        f"p99 {gaps[int(len(gaps) * 0.99)]:.1f} ms, max {gaps[-1]:.1f} ms; late frames (>50 ms): "
        f"{sum(g > 50 for g in gaps)}; long tasks: {long_tasks}"
    )
    print(f"  the reply grew in {len(steps)} visible steps to {steps[-1] if steps else 0} characters")


if __name__ == "__main__":
    main()
