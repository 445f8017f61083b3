"""The chat session over a real WebSocket, against a real runner and the fake upstream."""

from __future__ import annotations

import contextlib
import json
import time
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from tests.e2e.conftest import _buy, _plan
from tests.support.chat import ChatUser, frames_until_end, reply_text
from tests.support.fake_openai import WORDS, FakeOpenAI
from tests.support.runner import Runner

pytestmark = pytest.mark.e2e


@pytest.fixture
def user(runner: Runner) -> ChatUser:
    return ChatUser.create(runner.url)


def test_a_message_streams_ordered_deltas_then_done_and_is_stored(user: ChatUser) -> None:
    ws, _ = user.connect()
    with ws:
        frames = user.say(ws, "Tell me about Kiroshi")

    deltas, done = frames[:-1], frames[-1]
    assert all(f["type"] == "delta" for f in deltas)
    # Tokens that arrive together leave in one delta: at most one frame per token, in order.
    assert [f["index"] for f in deltas] == list(range(len(deltas))) and 1 <= len(deltas) <= 8
    assert reply_text(frames) == "".join(WORDS[:8])
    assert done["type"] == "done"
    assert done["usage"]["completion_tokens"] == 8 and done["usage"]["prompt_tokens"] > 0
    chat = user.chat()
    assert chat["title"] == "Tell me about Kiroshi"
    assert [(m["role"], m["status"]) for m in chat["messages"]] == [("user", "complete"), ("assistant", "complete")]
    assert chat["messages"][1]["content"] == reply_text(frames)
    assert chat["messages"][1]["message_id"] == done["message_id"]
    assert chat["messages"][1]["usage"] == done["usage"]


def test_the_history_goes_to_the_model_with_each_turn(user: ChatUser, fake: FakeOpenAI) -> None:
    ws, _ = user.connect()
    with ws:
        user.say(ws, "first question")
        user.say(ws, "second question")

    sent = fake.requests[-1]["messages"]
    assert [m["role"] for m in sent] == ["user", "assistant", "user"]
    assert (sent[0]["content"], sent[2]["content"]) == ("first question", "second question")
    assert fake.requests[-1]["model"] == "gpt-4o-mini"


def test_stop_ends_the_reply_and_keeps_what_was_said(user: ChatUser) -> None:
    ws, _ = user.connect()
    with ws:
        ws.send(json.dumps({"type": "message", "content": "long one [tokens=400] [delay=10]"}))
        first = [json.loads(ws.recv(timeout=10)) for _ in range(3)]
        ws.send(json.dumps({"type": "stop"}))
        rest = frames_until_end(ws)

    frames = first + rest
    assert frames[-1]["type"] == "done"
    assert frames[-1]["finish_reason"] == "stopped"
    assert len(frames) < 100
    stored = user.chat()["messages"][-1]
    assert (stored["status"], stored["content"]) == ("stopped", reply_text(frames))


def test_one_reply_at_a_time_per_chat(user: ChatUser) -> None:
    ws, _ = user.connect()
    with ws:
        ws.send(json.dumps({"type": "message", "content": "slow [tokens=30] [delay=10]"}))
        ws.send(json.dumps({"type": "message", "content": "impatient"}))
        frames = frames_until_end(ws)
        frames += frames_until_end(ws) if frames[-1]["type"] == "error" else []

    errors = [f for f in frames if f["type"] == "error"]
    assert [e["code"] for e in errors] == ["reply_in_progress"]
    assert frames[-1]["type"] == "done"
    assert len(user.chat()["messages"]) == 2


def test_a_dropped_client_resumes_from_its_last_index(user: ChatUser) -> None:
    ws, token = user.connect()
    ws.send(json.dumps({"type": "message", "content": "resume me [tokens=40] [delay=15]"}))
    seen = [json.loads(ws.recv(timeout=10)) for _ in range(5)]
    ws.close()
    time.sleep(0.1)  # the reply keeps generating meanwhile

    again, same_token = user.connect(session_token=token, last_index=seen[-1]["index"])
    with again:
        rest = frames_until_end(again)

    assert same_token == token
    indexes = [f["index"] for f in seen + rest if f["type"] == "delta"]
    assert indexes == list(range(40))
    assert rest[-1]["type"] == "done"
    assert user.chat()["messages"][-1]["content"] == reply_text(seen + rest)


def test_resuming_without_last_index_replays_the_whole_reply(user: ChatUser) -> None:
    ws, token = user.connect()
    ws.send(json.dumps({"type": "message", "content": "again [tokens=20] [delay=15]"}))
    json.loads(ws.recv(timeout=10))
    ws.close()

    again, _ = user.connect(session_token=token)
    with again:
        frames = frames_until_end(again)

    # Tokens that reach Kiroshi together leave in one delta (a loaded machine merges some): every
    # index from 0, each once, and the whole reply as stored.
    indexes = [f["index"] for f in frames if f["type"] == "delta"]
    assert indexes == list(range(len(indexes))) and len(indexes) > 1
    assert frames[-1]["type"] == "done"
    assert user.chat()["messages"][-1]["content"] == reply_text(frames)


def test_bad_frames_get_error_frames_and_the_session_survives(user: ChatUser) -> None:
    ws, _ = user.connect()
    with ws:
        answers = []
        for frame in (
            "not json",
            "[1, 2]",
            '{"type": "dance"}',
            '{"type": "message"}',
            '{"type": "message", "content": 42}',
            '{"type": "message", "content": "   "}',
            '{"type": "message", "content": "x", "role": "system"}',
            '{"type": "stop"}',
        ):
            ws.send(frame)
            answers.append(json.loads(ws.recv(timeout=10)))
        ws.send(b"\x00\x01binary")
        answers.append(json.loads(ws.recv(timeout=10)))
        ws.send(json.dumps({"type": "message", "content": "x" * 2001}))
        answers.append(json.loads(ws.recv(timeout=10)))
        works = user.say(ws, "still there?")

    assert [a["type"] for a in answers] == ["error"] * 10
    assert [a["code"] for a in answers] == [
        "invalid_json",
        "unknown_type",
        "unknown_type",
        "invalid_message",
        "invalid_message",
        "invalid_message",
        "invalid_message",
        "nothing_to_stop",
        "unsupported_frame",
        "message_too_long",
    ]
    assert works[-1]["type"] == "done"


def test_oversized_frames_close_with_1009(user: ChatUser) -> None:
    ws, _ = user.connect()
    ws.send(json.dumps({"type": "message", "content": "y" * 70_000}))
    with pytest.raises(ConnectionClosed) as closed:
        ws.recv(timeout=10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009


def test_messages_per_minute_are_limited(user: ChatUser) -> None:
    ws, _ = user.connect()
    with ws:
        ends = [user.say(ws, f"quick {i} [tokens=1]")[-1] for i in range(9)]

    assert [e["type"] for e in ends[:8]] == ["done"] * 8
    assert (ends[8]["type"], ends[8]["code"]) == ("error", "rate_limited")


@pytest.mark.parametrize(
    ("prompt", "code"),
    [("[error=500]", "upstream_error"), ("[cut=3]", "upstream_unavailable"), ("[hang]", "upstream_timeout")],
)
def test_upstream_failures_are_error_frames_and_the_session_goes_on(user: ChatUser, prompt: str, code: str) -> None:
    ws, _ = user.connect()
    with ws:
        failed = user.say(ws, f"fail please {prompt}")
        works = user.say(ws, "and now?")

    assert (failed[-1]["type"], failed[-1]["code"]) == ("error", code)
    assert works[-1]["type"] == "done"
    statuses = [m["status"] for m in user.chat()["messages"] if m["role"] == "assistant"]
    assert statuses == ["error", "complete"]


def test_rejections_before_the_upgrade(runner: Runner, user: ChatUser) -> None:
    other = ChatUser.create(runner.url)
    base = runner.url.replace("http://", "ws://")

    def status(url: str) -> int:
        with pytest.raises(InvalidStatus) as rejected:
            connect(url, legacy=True)
        return rejected.value.response.status_code

    assert status(f"{base}/chats/{user.user_id}/{user.chat_id}/session?auth_token=garbage") == 401
    assert status(f"{base}/chats/{user.user_id}/{user.chat_id}/session") == 401
    assert status(f"{base}/chats/{other.user_id}/{other.chat_id}/session?auth_token={user.token}") == 403
    assert status(f"{base}/chats/{user.user_id}/nochat/session?auth_token={user.token}") == 404
    assert status(f"{base}/chats/{user.user_id}/{other.chat_id}/session?auth_token={user.token}") == 404


def test_a_ticket_opens_one_session(user: ChatUser) -> None:
    ticket_url = f"{user.base_url}/chats/{user.user_id}/{user.chat_id}/ticket"
    ticket = httpx.post(ticket_url, headers=user.auth).json()["ticket"]
    url = user.session_url(auth_token=ticket).replace(f"auth_token={user.token}", "")

    with connect(url) as ws:
        assert json.loads(ws.recv(timeout=10))["type"] == "session"
    with pytest.raises(InvalidStatus) as reused:
        connect(url, legacy=True)
    assert reused.value.response.status_code == 401


def test_logout_closes_the_users_live_sockets_within_a_second(user: ChatUser) -> None:
    ws, _ = user.connect()
    started = time.monotonic()
    httpx.post(f"{user.base_url}/users/{user.user_id}/logout", headers=user.auth)

    with pytest.raises(ConnectionClosed) as closed:
        ws.recv(timeout=5)
    assert time.monotonic() - started < 1.0
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401


def test_sockets_per_user_are_limited(user: ChatUser) -> None:
    sockets = [user.connect()[0] for _ in range(4)]
    try:
        with pytest.raises(InvalidStatus) as rejected:
            connect(user.session_url(), legacy=True)
        assert rejected.value.response.status_code == 429
    finally:
        for ws in sockets:
            ws.close()


def test_a_tiny_quota_refuses_before_calling_the_model(runner: Runner, admin: ChatUser, fake: FakeOpenAI) -> None:
    user = ChatUser.create(runner.url)
    _buy(runner, user, _plan(runner, admin, token_quota=100))
    calls = len(fake.requests)

    ws, _ = user.connect()
    with ws:
        refused = user.say(ws, "hello")

    assert (refused[-1]["type"], refused[-1]["code"]) == ("error", "quota_exceeded")
    assert len(fake.requests) == calls
    assert user.chat()["messages"] == []


def test_a_plan_without_the_chats_model_refuses_it(runner: Runner, admin: ChatUser) -> None:
    user = ChatUser.create(runner.url)  # its chat uses gpt-4o-mini
    _buy(runner, user, _plan(runner, admin, models=["small-model"]))

    ws, _ = user.connect()
    with ws:
        refused = user.say(ws, "hello")

    assert (refused[-1]["type"], refused[-1]["code"]) == ("error", "model_not_allowed")


def test_a_password_change_closes_the_users_sockets(user: ChatUser) -> None:
    ws, _ = user.connect()
    httpx.post(
        f"{user.base_url}/users/{user.user_id}/change-password",
        headers=user.auth,
        json={"new_password": "a different passphrase", "current_password": "a chatty passphrase"},
    )

    with pytest.raises(ConnectionClosed) as closed:
        ws.recv(timeout=5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401


def test_shutdown_finishes_replies_in_progress(fake: FakeOpenAI, tmp_path: Path) -> None:
    env = {"OPENAI_BASE_URL": fake.base_url, "OPENAI_API_KEY": "k"}
    runner = Runner(tmp_path, env).start()
    try:
        user = ChatUser.create(runner.url)
        ws, _ = user.connect()
        ws.send(json.dumps({"type": "message", "content": "finish me [tokens=30] [delay=20]"}))
        json.loads(ws.recv(timeout=10))
        assert runner.process is not None
        runner.process.terminate()  # SIGTERM: a graceful stop
        frames: list[dict[str, object]] = []
        with contextlib.suppress(ConnectionClosed):
            frames = frames_until_end(ws)
        assert runner.process.wait(timeout=30) in (0, -15)  # uvicorn re-raises SIGTERM after a clean stop
    finally:
        runner.stop()
    restarted = Runner(tmp_path, env, port=runner.port).start()
    try:
        stored = user.chat()["messages"][-1]
    finally:
        restarted.stop()
    # The reply was not lost: it finished (or, past the grace period, was stopped) and was stored.
    assert stored["role"] == "assistant"
    assert stored["status"] in ("complete", "stopped")
    assert stored["content"].startswith("Kiroshi")
    if frames:
        assert stored["content"].startswith(reply_text(frames)[:10])
