"""The web console at `/` as a person uses it: a real headless Chromium, driven by the controls' accessible names,
against a real runner and the fake OpenAI-compatible upstream (and, in stripe mode, the fake Stripe, whose
`/pay/{session}` page plays Stripe's hosted checkout).

Needs Debian's chromium and chromium-driver; `KIROSHI_TEST_CHROMEDRIVER` names the driver (`.ci/run` installs
both and sets it), and without it the browser tests skip, saying why. The HTTP checks of `/` run everywhere.
"""

from __future__ import annotations

import gzip
import itertools
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.browser import chromedriver, headless_chromium
from tests.support.fake_openai import FakeOpenAI
from tests.support.fake_stripe import FakeStripe
from tests.support.runner import Runner
from tests.support.stripe_payments import WEBHOOK_SECRET

pytestmark = pytest.mark.e2e

ADMIN = "console-admin@example.com"
PASSWORD = "a long console passphrase"
CONSOLE = Path(__file__).resolve().parents[2] / "console"
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"


def runner_env(fake: FakeOpenAI) -> dict[str, str]:
    return {
        "OPENAI_BASE_URL": fake.base_url,
        "OPENAI_API_KEY": "test-key",
        "KIROSHI_MODELS": "gpt-4o-mini,small-model",
        "KIROSHI_BOOTSTRAP_ADMIN_EMAIL": ADMIN,
        "KIROSHI_MESSAGES_PER_MINUTE": "100",
    }


@pytest.fixture(scope="module")
def runner(tmp_path_factory: pytest.TempPathFactory, fake: FakeOpenAI) -> Iterator[Runner]:
    """Trust mode (the default): checkout answers 409 payments_not_configured; a transaction id buys."""
    started = Runner(tmp_path_factory.mktemp("console"), runner_env(fake)).start()
    yield started
    started.stop()


@pytest.fixture(scope="module")
def stripe() -> Iterator[FakeStripe]:
    """The fake Stripe, its sessions' `url` its own `/pay/{id}` page: a browser can go there and pay."""
    fake = FakeStripe(checkout_page=True).serve_in_thread()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def stripe_runner(tmp_path_factory: pytest.TempPathFactory, fake: FakeOpenAI, stripe: FakeStripe) -> Iterator[Runner]:
    env = runner_env(fake) | {
        "KIROSHI_PAYMENTS": "stripe",
        "STRIPE_API_KEY": stripe.api_key,
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "STRIPE_API_BASE": stripe.base_url,
    }
    started = Runner(tmp_path_factory.mktemp("console-stripe"), env).start()
    yield started
    started.stop()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    if not chromedriver():
        pytest.skip("KIROSHI_TEST_CHROMEDRIVER is unset: no headless Chromium to drive the console with")
    with headless_chromium(tmp_path_factory.mktemp("chromium"), browser_log=True) as driver:
        yield driver


# -- helpers ----------------------------------------------------------------------------------------------


def wait(browser: Any, until: Callable[[Any], Any], seconds: float = 15) -> Any:
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(
        browser, seconds, poll_frequency=0.05, ignored_exceptions=(StaleElementReferenceException,)
    ).until(until)


def named(browser: Any, name: str, seconds: float = 15) -> Any:
    """The visible control whose accessible name is exactly `name`, as assistive technology computes it."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.common.by import By

    def find(page: Any) -> Any:
        for element in page.find_elements(By.CSS_SELECTOR, "button, input, textarea, select, a"):
            try:
                if element.is_displayed() and element.accessible_name == name:
                    return element
            except WebDriverException:  # redrawn meanwhile: look again
                return None
        return None

    return wait(browser, find, seconds)


def click(browser: Any, name: str) -> None:
    element = named(browser, name)
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    element.click()


def type_into(browser: Any, name: str, text: str) -> None:
    def typed(page: Any) -> bool:
        field = named(page, name)
        field.clear()
        field.send_keys(text)
        return True

    wait(browser, typed)  # again if the page redrew the field meanwhile


def open_console(browser: Any, runner: Runner) -> None:
    """A fresh tab state: the console at `/`, nobody signed in."""
    browser.get(f"{runner.url}/")
    browser.execute_script("sessionStorage.clear()")
    browser.get(f"{runner.url}/#/login")
    named(browser, "Log in")


def sign_up_and_log_in(browser: Any, runner: Runner, email: str) -> None:
    open_console(browser, runner)
    click(browser, "Sign up")
    named(browser, "Create account")
    type_into(browser, "Email", email)
    type_into(browser, "Name", "Grace")
    type_into(browser, "Surname", "Hopper")
    type_into(browser, "Nickname", email.split("@")[0])
    type_into(browser, "Password", PASSWORD)
    click(browser, "Create account")
    wait(browser, lambda page: named(page, "Email").get_attribute("value") == email)  # back at login, prefilled
    type_into(browser, "Password", PASSWORD)
    click(browser, "Log in")
    named(browser, "New chat")


def new_chat(browser: Any) -> None:
    click(browser, "New chat")
    named(browser, "Message")
    wait(browser, lambda page: "#/chats/" in page.current_url)


def send(browser: Any, text: str) -> None:
    from selenium.webdriver.common.keys import Keys

    box = named(browser, "Message")
    lines = text.split("\n")
    for index, line in enumerate(lines):
        box.send_keys(line)
        if index < len(lines) - 1:
            box.send_keys(Keys.SHIFT, Keys.ENTER)  # Shift+Enter: a new line, not a send
    box.send_keys(Keys.ENTER)


def replies(browser: Any) -> list[str]:
    script = "return [...document.querySelectorAll('.message.assistant .body')].map((b) => b.textContent.trim())"
    return browser.execute_script(script)  # type: ignore[no-any-return]


def reply_done(browser: Any) -> bool:
    script = "return !document.querySelector('.message.streaming') && !document.querySelector('.chat.replying')"
    return bool(browser.execute_script(script))


def refund_in_console(browser: Any, refund: Any, plan: str) -> None:
    """Refund (and confirm) with the contract's button; the page then shows it refunded and the free tier."""
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", refund)
    refund.click()
    click(browser, f"Confirm refund {plan}")
    wait(browser, lambda page: "refunded" in contracts_text(page))
    assert "Free tier" in browser.find_element("css selector", ".facts").text


def api_login(runner: Runner, email: str) -> dict[str, str]:
    answer = httpx.post(f"{runner.url}/users/login", json={"email": email, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    return {"authorization": f"Bearer {answer.json()['token']}"}


def admin_headers(runner: Runner) -> dict[str, str]:
    body = {"email": ADMIN, "nickname": "root", "name": "Ada", "surname": "Admin", "password": PASSWORD}
    httpx.post(f"{runner.url}/users/register", json=body)  # 201 the first time, 409 after
    return api_login(runner, ADMIN)


def create_plan(runner: Runner, **fields: Any) -> dict[str, Any]:
    plan = httpx.post(f"{runner.url}/subscriptions/plans", headers=admin_headers(runner), json=fields)
    assert plan.status_code == 201, plan.text
    return plan.json()["plan"]  # type: ignore[no-any-return]


def contracts_text(browser: Any) -> str:
    return browser.find_element("css selector", "section[aria-labelledby='contracts'] tbody").text  # type: ignore[no-any-return]


def usage_by_model(browser: Any) -> str:
    return browser.find_element("css selector", "table[aria-label='Usage by model'] tbody").text  # type: ignore[no-any-return]


def meter(browser: Any, label: str) -> tuple[float, float]:
    """(value, max) of the page's meter named `label`."""
    element = browser.find_element("css selector", f"meter[aria-label='{label}']")
    return float(element.get_attribute("value")), float(element.get_attribute("max"))


def no_console_errors(browser: Any) -> list[str]:
    """What the page logged at error level (a CSP or Trusted Types violation, an exception), but a 404 the console
    asks for on purpose is none: it never asks for one."""
    return [entry["message"] for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]


# -- GET / for browsers and for API clients ------------------------------------------------------------------


def test_root_serves_the_console_to_a_browser_and_json_to_everyone_else(runner: Runner) -> None:
    page = httpx.get(f"{runner.url}/", headers={"accept": BROWSER_ACCEPT})
    curl = httpx.get(f"{runner.url}/", headers={"accept": "*/*"})
    bare = httpx.get(f"{runner.url}/", headers={"accept": ""})
    client = httpx.get(f"{runner.url}/", headers={"accept": "application/json, text/html"})
    script = httpx.get(f"{runner.url}/console/app.js")

    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<script type="module" src="/console/app.js">' in page.text
    csp = page.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "require-trusted-types-for 'script'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert page.headers["vary"] == curl.headers["vary"] == "Accept"
    for answer in (curl, bare, client):
        assert answer.headers["content-type"] == "application/json"
        assert answer.json()["docs"] == "/docs"
    assert script.headers["content-type"].startswith("text/javascript")
    assert script.headers["content-security-policy"] == csp
    assert script.headers["x-content-type-options"] == "nosniff"
    for missing in ("nothing.js", "..%2Fpyproject.toml", "vendor"):
        answer = httpx.get(f"{runner.url}/console/{missing}")
        assert answer.status_code == 404 and answer.json()["code"] in ("not_found", "no_such_endpoint"), missing


def test_the_console_is_small_and_has_no_inline_script_or_style() -> None:
    served = [path for path in CONSOLE.iterdir() if path.suffix in (".js", ".css")]
    compressed = sum(len(gzip.compress(path.read_bytes(), 9)) for path in served)
    page = (CONSOLE / "index.html").read_text()

    assert compressed <= 150 * 1024, compressed
    assert not re.search(r"<script(?![^>]*\bsrc=)", page) and "<style" not in page and " style=" not in page
    assert (CONSOLE / "vendor" / "LICENSE-marked.md").exists() and (CONSOLE / "vendor" / "LICENSE-dompurify").exists()


# -- in a real browser ---------------------------------------------------------------------------------------


def test_sign_up_chat_stream_stop_reload_buy_and_refund(browser: Any, runner: Runner, tmp_path: Path) -> None:
    sign_up_and_log_in(browser, runner, "grace@example.com")
    new_chat(browser)
    send(browser, "Tell me about Kiroshi [tokens=40] [delay=60]")

    seen: list[str] = []  # the reply as drawn, sampled while it streams
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and len({text for text in seen if text}) < 3:
        seen += replies(browser)[-1:]
        time.sleep(0.05)
    grown = [text for text in dict.fromkeys(seen) if text]
    assert len(grown) >= 2, seen  # drawn in steps, not all at the end
    assert all(earlier in later for earlier, later in itertools.pairwise(grown))
    click(browser, "Stop")
    wait(browser, reply_done)
    stopped = replies(browser)[-1]
    assert 0 < len(stopped.split()) < 40
    assert named(browser, "Send").is_enabled() and not named(browser, "Stop").is_enabled()

    browser.refresh()
    wait(browser, lambda page: replies(page) == [stopped])
    body = browser.find_element("css selector", ".messages").text
    assert "Tell me about Kiroshi" in body and "stopped" in body
    chat_link = wait(browser, lambda page: page.find_elements("css selector", ".chat-list a"))
    assert chat_link[0].text.startswith("Tell me about Kiroshi")  # the first message titled the chat

    create_plan(runner, price=9.5, duration=30, title="Console Pro", token_quota=50000)
    click(browser, "Plans & usage")
    named(browser, "Buy plan")
    from selenium.webdriver.support.ui import Select

    Select(named(browser, "Plan")).select_by_visible_text("Console Pro — $9.50")
    # Trust mode: checkout answers 409 payments_not_configured, and the transaction id field appears.
    assert not browser.find_element("css selector", "input[name='transaction_id']").is_displayed()
    click(browser, "Buy plan")
    assert named(browser, "Transaction id").get_attribute("value").startswith("console-")
    assert "Console Pro" not in contracts_text(browser)  # nothing bought yet
    click(browser, "Buy plan")
    refund = named(browser, "Refund Console Pro")
    facts = browser.find_element("css selector", ".facts").text
    assert "Console Pro" in facts and "50,000 per period" in facts
    browser.save_screenshot(str(tmp_path / "plans.png"))
    refund_in_console(browser, refund, "console pro")
    # The one failed request: the checkout that answered 409 (Chromium logs every 4xx fetch as an error).
    errors = no_console_errors(browser)
    assert len(errors) == 1 and "/subscriptions/checkout" in errors[0] and "409" in errors[0], errors


def test_model_output_is_sanitised_markdown_and_runs_no_script(browser: Any, runner: Runner, tmp_path: Path) -> None:
    from selenium.common.exceptions import NoAlertPresentException

    sign_up_and_log_in(browser, runner, "mallory@example.com")
    new_chat(browser)
    send(
        browser,
        "[echo] **Bold** <img src=x onerror=alert(1)> <script>alert(2)</script>"
        ' <a href="javascript:alert(3)">link</a>\n\n```python\nprint(1)\n```',
    )
    wait(browser, lambda page: reply_done(page) and len(replies(page)) == 1)
    time.sleep(0.3)  # an onerror would have fired by now

    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert  # noqa: B018 - reading it raises when no alert is open
    reply = browser.find_element("css selector", ".message.assistant .body")
    assert reply.find_element("css selector", "strong").text == "Bold"
    assert reply.find_element("css selector", "pre code").text == "print(1)"
    assert browser.find_elements("css selector", ".messages img, .messages script, [onerror]") == []
    assert not [a for a in reply.find_elements("css selector", "a") if "javascript" in (a.get_attribute("href") or "")]
    question = browser.find_element("css selector", ".message.user .body").text
    assert "<img src=x onerror=alert(1)>" in question  # the user's own text, shown as text
    browser.save_screenshot(str(tmp_path / "chat.png"))
    # The only error: the CSP refusing to run the handler while the sanitiser parses the reply (inertly).
    assert [e for e in no_console_errors(browser) if "Executing inline event handler" not in e] == []


def test_a_reload_in_the_middle_of_a_reply_resumes_it_once(browser: Any, runner: Runner) -> None:
    words = " ".join(f"w{i:02d}" for i in range(1, 41))
    sign_up_and_log_in(browser, runner, "linus@example.com")
    new_chat(browser)
    send(browser, f"[echo] [delay=70] {words}")
    wait(browser, lambda page: len((replies(page) or [""])[-1].split()) >= 8)

    browser.refresh()
    partial = wait(browser, lambda page: (replies(page) or [""])[-1].strip(), 10)
    assert words.startswith(partial) and partial != words  # what was shown before the reload, shown again
    wait(browser, reply_done, 15)
    assert replies(browser) == [words]  # every word, once

    browser.refresh()
    wait(browser, lambda page: replies(page) == [words])  # as stored

    from selenium.webdriver.common.keys import Keys

    browser.find_element("css selector", ".chat-list button[aria-label^='Rename']").click()
    type_into(browser, "Chat title", "Counting")
    named(browser, "Chat title").send_keys(Keys.ENTER)
    wait(browser, lambda page: page.find_element("css selector", "h1").text == "Counting")
    click(browser, "Delete Counting")
    click(browser, "Confirm delete counting")
    wait(browser, lambda page: page.find_element("css selector", ".chat-list").text == "No chats yet.")


def test_an_address_cannot_steer_the_console_to_other_api_paths(browser: Any, runner: Runner) -> None:
    sign_up_and_log_in(browser, runner, "trudy@example.com")
    browser.execute_script("performance.clearResourceTimings()")
    browser.get(f"{runner.url}/#/chats/..%2F..%2Fusers")
    named(browser, "New chat")
    wait(browser, lambda page: page.execute_script("return performance.getEntriesByType('resource').length") > 0)
    fetched = browser.execute_script("return performance.getEntriesByType('resource').map((r) => r.name)")
    assert not [url for url in fetched if url.split("?")[0].endswith("/users")], fetched


def test_a_revoked_token_sends_the_page_back_to_log_in(browser: Any, runner: Runner) -> None:
    sign_up_and_log_in(browser, runner, "revoked@example.com")
    new_chat(browser)
    wait(browser, lambda page: page.execute_script("return !!document.querySelector('.chat')"))
    time.sleep(0.5)  # the session socket is open
    saved = browser.execute_script("return JSON.parse(sessionStorage.getItem('kiroshi.auth'))")
    logout = httpx.post(
        f"{runner.url}/users/{saved['userId']}/logout", headers={"authorization": f"Bearer {saved['token']}"}
    )
    assert logout.status_code == 200

    named(browser, "Log in", 10)  # the socket closed with 4401: the page went back to log in
    assert browser.execute_script("return sessionStorage.getItem('kiroshi.auth')") is None


def test_an_admin_creates_edits_and_archives_a_plan_and_lists_users(browser: Any, runner: Runner) -> None:
    headers = admin_headers(runner)  # the bootstrap admin exists
    completion = {"model": "small-model", "messages": [{"role": "user", "content": "Count [tokens=5]"}]}
    reply = httpx.post(f"{runner.url}/v1/chat/completions", headers=headers, json=completion, timeout=30)
    assert reply.status_code == 200, reply.text  # usage of the admin's own, through /v1
    open_console(browser, runner)
    type_into(browser, "Email", ADMIN)
    type_into(browser, "Password", PASSWORD)
    click(browser, "Log in")
    click(browser, "Admin")

    type_into(browser, "Title", "Team")
    type_into(browser, "Price", "19.99")
    type_into(browser, "Token quota", "200000")
    type_into(browser, "Models", "gpt-4o-mini")
    click(browser, "Create plan")
    click(browser, "Edit Team")
    type_into(browser, "Title", "Team plus")
    click(browser, "Save plan")
    click(browser, "Archive Team plus")
    click(browser, "Confirm archive team plus")
    # A plan nobody bought is deleted rather than archived: it leaves the table.
    wait(browser, lambda page: "Team plus" not in page.find_element("css selector", "tbody").text)

    users = browser.find_elements("css selector", "table")[-1].text
    assert ADMIN in users
    # This month's usage over every user (GET /usage): by model, and the costliest users by nickname.
    by_model = browser.find_element("css selector", "#view table[aria-label='Usage by model']").text
    assert re.search(r"^small-model \d+ \d+ \d+ ", by_model, re.M), by_model
    costliest = browser.find_element("css selector", "#view table[aria-label='Costliest users']").text
    assert re.search(r"^root \d+ \d+ ", costliest, re.M), costliest
    assert no_console_errors(browser) == []


# -- Stripe mode: the console goes to Checkout and comes back --------------------------------------------------


def test_checkout_is_409_in_trust_mode_and_the_fake_checkout_page_pays_and_returns(
    runner: Runner, stripe_runner: Runner, stripe: FakeStripe
) -> None:
    """What the console relies on, without a browser: trust mode refuses checkout by its code; in stripe mode the
    session's `url` is a page that pays it once and sends the browser to success_url, the session id filled in."""
    trusted = create_plan(runner, price=5, duration=30, title="Trusted")
    refused = httpx.post(
        f"{runner.url}/subscriptions/checkout", headers=admin_headers(runner), json={"plan_id": trusted["plan_id"]}
    )
    assert refused.status_code == 409 and refused.json()["code"] == "payments_not_configured"

    headers = admin_headers(stripe_runner)
    plan_id = create_plan(stripe_runner, price=5, duration=30, title="Paid")["plan_id"]
    back = f"{stripe_runner.url}/?checkout=success&session_id={{CHECKOUT_SESSION_ID}}#/plans"
    urls = {"success_url": back, "cancel_url": f"{stripe_runner.url}/?checkout=cancelled#/plans"}
    sessions = [
        httpx.post(f"{stripe_runner.url}/subscriptions/checkout", headers=headers, json={"plan_id": plan_id, **urls})
        for _ in range(2)
    ]
    assert [answer.status_code for answer in sessions] == [201, 201], sessions[0].text
    paid, cancelled = (answer.json() for answer in sessions)
    assert paid["url"] == f"{stripe.base_url}/pay/{paid['session_id']}"

    for _ in range(2):  # a second visit pays nothing more
        page = httpx.get(paid["url"])
        assert page.status_code == 303
        assert page.headers["location"] == back.replace("{CHECKOUT_SESSION_ID}", paid["session_id"])
    session = stripe.sessions[paid["session_id"]]
    assert session["payment_status"] == "paid" and len(stripe.payment_intents) == 1
    page = httpx.get(f"{cancelled['url']}?cancel")
    assert page.status_code == 303 and page.headers["location"] == urls["cancel_url"]
    assert stripe.sessions[cancelled["session_id"]]["payment_status"] == "unpaid"
    assert httpx.get(f"{stripe.base_url}/pay/cs_test_unknown").status_code == 404
    bought = httpx.post(
        f"{stripe_runner.url}/subscriptions/buy",
        headers=headers,
        json={"plan_id": plan_id, "transaction_id": paid["session_id"]},
    )
    assert bought.status_code == 201, bought.text
    assert bought.json()["contract"]["payment_intent_id"] == session["payment_intent"]
    console = httpx.get(page.headers["location"], headers={"accept": BROWSER_ACCEPT})  # the return lands on the page
    assert console.status_code == 200 and console.headers["content-type"].startswith("text/html")


def test_stripe_checkout_buys_from_the_console_shows_usage_and_refunds_once(
    browser: Any, stripe_runner: Runner, stripe: FakeStripe, tmp_path: Path
) -> None:
    from selenium.webdriver.support.ui import Select

    sign_up_and_log_in(browser, stripe_runner, "stripe-buyer@example.com")
    new_chat(browser)
    send(browser, "How much does this cost? [tokens=12]")
    wait(browser, lambda page: reply_done(page) and len([r for r in replies(page) if r]) == 1)

    create_plan(stripe_runner, price=12, duration=30, title="Stripe Pro", token_quota=40000, cost_quota=5)
    click(browser, "Plans & usage")
    named(browser, "Buy plan")
    # Usage this month, on the free tier: the reply's tokens, by model.
    wait(browser, lambda page: "gpt-4o-mini" in usage_by_model(page))
    row = usage_by_model(browser).split("\n")[0].split()
    assert row[0] == "gpt-4o-mini" and row[1] == "1" and int(row[2]) > 0 and int(row[3]) == 12, row

    before = len(stripe.sessions)
    Select(named(browser, "Plan")).select_by_visible_text("Stripe Pro — $12.00")
    assert not browser.find_element("css selector", "input[name='transaction_id']").is_displayed()
    click(browser, "Buy plan")
    # To the fake's checkout page, which pays and sends the browser back; the console buys with the session id.
    refund = named(browser, "Refund Stripe Pro", 20)
    assert browser.current_url == f"{stripe_runner.url}/#/plans"  # the session id is gone from the address
    assert len(stripe.sessions) == before + 1
    session = list(stripe.sessions.values())[-1]
    assert session["payment_status"] == "paid"
    token = browser.execute_script("return JSON.parse(sessionStorage.getItem('kiroshi.auth')).token")
    assert token not in session["success_url"] and token not in session["cancel_url"]  # no JWT in a URL
    assert session["success_url"] == f"{stripe_runner.url}/?checkout=success&session_id={{CHECKOUT_SESSION_ID}}#/plans"
    assert browser.execute_script("return sessionStorage.getItem('kiroshi.checkout')") is None
    facts = browser.find_element("css selector", ".facts").text
    assert "Stripe Pro" in facts and "40,000 per period" in facts and "$5.00 per period" in facts
    assert "Stripe Pro" in contracts_text(browser) and "active" in contracts_text(browser)
    # Usage against the plan: since the contract began (today), the reply counts against 40,000 tokens and $5.
    used, most = wait(browser, lambda page: meter(page, "Tokens used"))
    assert 12 < used < 1000 and most == 40000
    assert meter(browser, "Money used")[1] == 5
    browser.save_screenshot(str(tmp_path / "stripe-plans.png"))

    refund_in_console(browser, refund, "stripe pro")
    assert len(stripe.refunds) == 1 and stripe.refunds[0]["payment_intent"] == session["payment_intent"]
    assert len(stripe.refund_requests()) == 1

    browser.get(f"{stripe_runner.url}/?checkout=cancelled#/plans")  # a buyer who gave up at Checkout
    wait(browser, lambda page: "Checkout cancelled" in page.find_element("css selector", "#toast").text)
    assert browser.current_url == f"{stripe_runner.url}/#/plans"
    assert len(stripe.sessions) == before + 1 and len(contracts_text(browser).split("\n")) == 1
    assert no_console_errors(browser) == []
