"""A real runner whose model server cannot be reached: the session says so (`upstream_unreachable`,
at once, not a timeout), the runner's log says why in one WARNING line without the key or the
user's text, and the failed turn costs nothing. Started without any model provider configured,
the runner warns at start (without calling the network)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.support.chat import ChatUser
from tests.support.runner import Runner, free_port, log_entry

pytestmark = pytest.mark.e2e

KEY = "sk-e2e-upstream-key-0123456789abcdef"
NO_PROVIDER = "no model provider is configured"


def test_an_unreachable_model_server_is_said_logged_once_and_not_charged(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    env = {"OPENAI_BASE_URL": f"http://127.0.0.1:{port}/v1", "OPENAI_API_KEY": KEY}
    runner = Runner(tmp_path, env).start()
    try:
        user = ChatUser.create(runner.url)
        ws, _ = user.connect()
        with ws:
            started = time.monotonic()
            failed = user.say(ws, "a question only its user may read")
            elapsed = time.monotonic() - started
        chat = user.chat()
        entries = [log_entry(line) for line in runner.stop_and_read()]
    finally:
        runner.stop()

    assert (failed[-1]["type"], failed[-1]["code"]) == ("error", "upstream_unreachable")
    assert elapsed < 10
    reply = chat["messages"][1]
    assert (reply["status"], reply["usage"]) == ("error", None)
    upstream = [e for e in entries if e.get("logger") == "kiroshi.llm"]
    assert [e["level"] for e in upstream] == ["warning"]
    assert upstream[0]["msg"].startswith(f"model server 127.0.0.1:{port} failed: upstream_unreachable (")
    assert "ConnectionRefusedError" in upstream[0]["msg"]
    text = json.dumps(entries)
    assert (KEY in text, "only its user may read" in text, NO_PROVIDER in text) == (False, False, False)


def test_without_a_model_provider_the_runner_warns_at_start(tmp_path: Path) -> None:
    runner = Runner(tmp_path, {"OPENAI_BASE_URL": "", "OPENAI_API_KEY": ""}).start()
    try:
        entries = [log_entry(line) for line in runner.stop_and_read()]
    finally:
        runner.stop()

    warned = [e for e in entries if NO_PROVIDER in str(e.get("msg"))]
    assert [(e["level"], e["logger"]) for e in warned] == [("warning", "kiroshi")]
    assert "OPENAI_API_KEY" in warned[0]["msg"] and "OPENAI_BASE_URL" in warned[0]["msg"]
