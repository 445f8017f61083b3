"""The model adapter tells the client how the model server failed, with a code for each kind, and
logs the cause once as a WARNING (host, exception class, reason) without the API key or the user's
text. Against the fake OpenAI-compatible server, a closed port and a name that cannot resolve."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator

import pytest

from lib.llm import UpstreamError, Usage
from lib.llm.openai import OpenAICompatible
from tests.support.fake_openai import FakeOpenAI
from tests.support.runner import free_port

KEY = "sk-kiroshi-test-0123456789abcdef"
QUESTION = "my private question"


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI(tokens=6, api_key=KEY).serve_in_thread()
    yield server
    server.stop()


def _ask(base_url: str, knobs: str, api_key: str = KEY, timeout: int = 5) -> tuple[list[str], UpstreamError | None]:
    """Stream one reply: the deltas that arrived, and the error it ended with (None if none)."""

    async def ask() -> tuple[list[str], UpstreamError | None]:
        llm = OpenAICompatible(base_url, api_key, timeout)
        deltas: list[str] = []
        try:
            async for item in llm.stream("gpt-4o-mini", [{"role": "user", "content": f"{QUESTION} {knobs}"}], 50):
                if not isinstance(item, Usage):
                    deltas.append(item)
        except UpstreamError as failure:
            return deltas, failure
        finally:
            await llm.close()
        return deltas, None

    return asyncio.run(ask())


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "kiroshi.llm" and r.levelno == logging.WARNING]


@pytest.mark.parametrize(
    ("knobs", "code", "cause"),
    [
        ("[error=401]", "upstream_auth_failed", "AuthenticationError: HTTP 401 invalid_api_key"),
        ("[error=403]", "upstream_auth_failed", "PermissionDeniedError: HTTP 403"),
        ("[error=429]", "upstream_rate_limited", "RateLimitError: HTTP 429 rate_limit_exceeded"),
        ("[error=500]", "upstream_error", "InternalServerError: HTTP 500"),
        ("[error=404]", "upstream_error", "NotFoundError: HTTP 404"),
        ("[hang]", "upstream_timeout", "Timeout"),
        ("[tokens=3] [cut=2]", "upstream_unavailable", "raised as ReadError"),
    ],
)
def test_each_failure_of_the_server_has_its_code_and_one_warning(
    fake: FakeOpenAI, caplog: pytest.LogCaptureFixture, knobs: str, code: str, cause: str
) -> None:
    caplog.set_level(logging.DEBUG)

    _, failure = _ask(fake.base_url, knobs, timeout=1)

    assert failure is not None
    assert (failure.code, failure.status) == (code, 502)
    [line] = _warnings(caplog)
    assert line.startswith(f"model server 127.0.0.1:{fake.port} failed: {code} (")
    assert cause in line


def test_a_server_that_stops_answering_mid_reply_is_a_timeout(fake: FakeOpenAI) -> None:
    deltas, failure = _ask(fake.base_url, "[tokens=4] [delay=1500]", timeout=1)

    assert deltas == []
    assert failure is not None and failure.code == "upstream_timeout"


def test_a_closed_port_is_unreachable_at_once_not_a_timeout(caplog: pytest.LogCaptureFixture) -> None:
    port = free_port()  # nothing listens there

    started = time.monotonic()
    _, failure = _ask(f"http://127.0.0.1:{port}/v1", "", timeout=30)
    elapsed = time.monotonic() - started

    assert failure is not None
    assert failure.code == "upstream_unreachable"
    assert failure.message == "the model server could not be reached"
    assert elapsed < 10
    [line] = _warnings(caplog)
    assert f"model server 127.0.0.1:{port} failed: upstream_unreachable (ConnectionRefusedError" in line


def test_a_name_that_does_not_resolve_is_unreachable(caplog: pytest.LogCaptureFixture) -> None:
    _, failure = _ask("http://kiroshi-no-such-host.invalid/v1", "", timeout=30)

    assert failure is not None and failure.code == "upstream_unreachable"
    [line] = _warnings(caplog)
    assert line.startswith("model server kiroshi-no-such-host.invalid failed: upstream_unreachable (gaierror")


def test_a_refused_key_says_which_setting_to_check_and_is_never_logged(
    fake: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "sk-wrong-key-9876543210fedcba"

    _, failure = _ask(fake.base_url, "", api_key=wrong)

    assert failure is not None and failure.code == "upstream_auth_failed"
    assert "OPENAI_API_KEY" in failure.message and wrong not in failure.message
    logged = "\n".join(r.getMessage() + str(r.exc_info or "") for r in caplog.records)
    assert "upstream_auth_failed" in logged
    for secret in (wrong, KEY, wrong[-4:] + ".", "Incorrect API key", QUESTION):
        assert secret not in logged, secret


def test_a_reply_that_works_logs_nothing(fake: FakeOpenAI, caplog: pytest.LogCaptureFixture) -> None:
    deltas, failure = _ask(fake.base_url, "[tokens=3]")

    assert (len(deltas) > 0, failure) == (True, None)
    assert _warnings(caplog) == []
