"""What a real runner process writes, read as someone who can read its logs would read them: no
line from any logger (uvicorn and websockets included) carries a token, a ticket, a session token
or a query string, and a refused upgrade is one access line, not an error an anonymous caller can
flood the error log with."""

from __future__ import annotations

import json
import re
import secrets
from collections import Counter
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from tests.support.chat import ChatUser, frames_until_end
from tests.support.fake_openai import FakeOpenAI
from tests.support.runner import Runner, log_entry

pytestmark = pytest.mark.e2e

SOCKETS_PER_USER = 2
TRACE = "upgrade-trace-1"  # a proxy's request id: the upgrade's access line carries it


def _refused(url: str) -> int:
    with pytest.raises(InvalidStatus) as rejected:
        connect(url, legacy=True)
    return rejected.value.response.status_code


def _exercise(runner: Runner) -> tuple[list[str], Counter[tuple[str, int]]]:
    """Every way into a session, accepted and refused: the secrets it used, and how many times
    each (path, status) was refused."""
    user, other, crowd = (ChatUser.create(runner.url) for _ in range(3))
    base = runner.url.replace("http://", "ws://")
    session = f"/chats/{user.user_id}/{user.chat_id}/session"

    ws, session_token = user.connect()  # a JWT in the query
    with ws:
        ws.send(json.dumps({"type": "message", "content": "hello [tokens=3]"}))
        last_index = frames_until_end(ws)[-2]["index"]
    again, _ = user.connect(session_token=session_token, last_index=last_index)  # a resume
    again.close()

    answer = httpx.post(f"{runner.url}/chats/{user.user_id}/{user.chat_id}/ticket", headers=user.auth)
    ticket = answer.json()["ticket"]
    with connect(f"{base}{session}?auth_token={ticket}", additional_headers={"X-Request-Id": TRACE}) as ws:  # a ticket
        assert json.loads(ws.recv(timeout=10))["type"] == "session"
    bogus = "eyJhbGciOiJIUzI1NiJ9." + secrets.token_urlsafe(16) + ".forged"
    refusals = {
        f"{base}{session}?auth_token={ticket}": 401,  # a used ticket
        f"{base}{session}?auth_token={bogus}": 401,
        f"{base}/chats/{other.user_id}/{other.chat_id}/session?auth_token={user.token}": 403,
        f"{base}/chats/{user.user_id}/nochat/session?auth_token={user.token}": 404,
        f"{base}{session}?auth_token={user.token}&last_index=soon": 422,
    }
    assert {url: _refused(url) for url in refusals} == refusals
    sockets = [crowd.connect()[0] for _ in range(SOCKETS_PER_USER)]
    try:
        assert [_refused(crowd.session_url()) for _ in range(3)] == [429] * 3
    finally:
        for ws in sockets:
            ws.close()
    # An HTTP request with a token in its query too (it is ignored, and must not be logged).
    httpx.get(f"{runner.url}/chats/{user.user_id}?auth_token={user.token}", headers=user.auth)

    secrets_used = [user.token, other.token, crowd.token, ticket, session_token, bogus]
    refused = Counter((url.removeprefix(base).split("?")[0], status) for url, status in refusals.items())
    refused[(f"/chats/{crowd.user_id}/{crowd.chat_id}/session", 429)] += 3
    return secrets_used, refused


def test_no_line_carries_a_secret_or_a_query_and_refusals_are_access_lines(fake: FakeOpenAI, tmp_path: Path) -> None:
    env = {
        "OPENAI_BASE_URL": fake.base_url,
        "OPENAI_API_KEY": "test-key",
        "KIROSHI_LOG_LEVEL": "INFO",
        "KIROSHI_SOCKETS_PER_USER": str(SOCKETS_PER_USER),
    }
    runner = Runner(tmp_path, env).start()
    try:
        secrets_used, refused = _exercise(runner)
        lines = runner.stop_and_read()
    finally:
        runner.stop()

    leaks = [line for line in lines if any(secret in line for secret in secrets_used)]
    queries = [line for line in lines if re.search(r"\?[\w%.-]+=", line)]
    assert (leaks, queries) == ([], [])
    entries = [log_entry(line) for line in lines]
    assert [e for e in entries if e["level"] not in ("info", "warning")] == []
    access = Counter((e.get("path"), e.get("status")) for e in entries if e.get("logger") == "kiroshi.access")
    assert {refusal: access[refusal] for refusal in refused} == refused  # one line per refused upgrade
    assert [(e["status"], e["route"]) for e in entries if e.get("request_id") == TRACE] == [(101, "chats.session")]
