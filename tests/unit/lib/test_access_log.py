"""Access lines: held in memory by a runner and written in batches, never out of order with the
other log lines, and written at once where nobody batches (FaaS)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator

import pytest

import lib.logging as logs
from lib.http.messages import HttpRequest

REQUEST = HttpRequest("GET", "/auth", {}, {}, b"", "127.0.0.1")


@pytest.fixture
def stdout_logs(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[], None]]:
    """Call it to log onto the captured stdout; the process's logging is restored afterwards."""
    monkeypatch.setattr(logs, "_held", None)
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield lambda: logs.configure_logging("INFO")
    root.handlers[:] = handlers
    root.setLevel(level)


def _lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_without_a_batch_each_line_is_written_at_once(
    stdout_logs: Callable[[], None], capsys: pytest.CaptureFixture[str]
) -> None:
    stdout_logs()
    logs.log_request(REQUEST, "users.me", 200, 0.00025, "r1", "u1")

    [line] = _lines(capsys)
    assert line["request_id"] == "r1" and line["duration_ms"] == 0.25 and line["logger"] == "kiroshi.access"


def test_held_lines_leave_on_flush_and_before_any_other_record(
    stdout_logs: Callable[[], None], capsys: pytest.CaptureFixture[str]
) -> None:
    stdout_logs()
    logs.hold_access_lines()
    logs.log_request(REQUEST, "users.me", 200, 0.001, "r1", "u1")
    logs.log_request(REQUEST, "users.me", 401, 0.001, "r2", None)
    assert _lines(capsys) == []

    logging.getLogger("kiroshi.test").warning("something else happened")
    logs.log_request(REQUEST, "users.me", 200, 0.001, "r3", "u1")
    assert [line.get("request_id", line["msg"]) for line in _lines(capsys)] == ["r1", "r2", "something else happened"]

    logs.flush_access_lines()
    assert [line["request_id"] for line in _lines(capsys)] == ["r3"]


def test_held_lines_are_bounded_and_leave_in_order(
    stdout_logs: Callable[[], None], capsys: pytest.CaptureFixture[str]
) -> None:
    stdout_logs()
    logs.hold_access_lines()
    for n in range(logs.MAX_HELD_LINES * 3 + 5):  # no flush came: a stalled loop, a burst
        logs.log_request(REQUEST, "users.me", 200, 0.001, f"r{n}", "u1")

    assert logs._held is not None and len(logs._held) < logs.MAX_HELD_LINES
    logs.flush_access_lines()
    assert [line["request_id"] for line in _lines(capsys)] == [f"r{n}" for n in range(logs.MAX_HELD_LINES * 3 + 5)]
