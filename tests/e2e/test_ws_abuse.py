"""WebSocket abuse: invalid UTF-8, floods, too many sockets, a thousand idle clients. Limits hold
with the right close codes or error frames, and a normal client is still served."""

from __future__ import annotations

import asyncio
import json
import resource
from collections.abc import Iterator
from pathlib import Path

import pytest
from websockets.asyncio.client import connect as connect_async
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from tests.support.chat import ChatUser
from tests.support.fake_openai import WORDS, FakeOpenAI
from tests.support.runner import Runner

pytestmark = pytest.mark.e2e


@pytest.fixture
def user(runner: Runner) -> ChatUser:
    return ChatUser.create(runner.url)


def test_invalid_utf8_closes_with_1007_and_the_user_can_reconnect(user: ChatUser) -> None:
    ws, _ = user.connect()
    ws.send(b'{"type": "message", "content": "\xff\xfe"}', text=True)

    with pytest.raises(ConnectionClosed) as closed:
        ws.recv(timeout=10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1007
    again, _ = user.connect()
    with again:
        assert user.say(again, "fine now")[-1]["type"] == "done"


def test_a_flood_of_messages_gets_error_frames_not_a_crash(user: ChatUser) -> None:
    ws, _ = user.connect()
    with ws:
        for i in range(60):
            ws.send(json.dumps({"type": "message", "content": f"flood {i} [tokens=1]"}))
        frames = []
        while len(frames) < 200:
            try:
                frames.append(json.loads(ws.recv(timeout=3)))
            except TimeoutError:
                break
        codes = [f["code"] for f in frames if f["type"] == "error"]

    assert {"rate_limited", "reply_in_progress"} >= set(codes)
    assert codes.count("rate_limited") >= 60 - 8 - codes.count("reply_in_progress")
    assert sum(1 for f in frames if f["type"] == "done") <= 8  # KIROSHI_MESSAGES_PER_MINUTE in the fixture


def test_hundreds_of_sockets_for_one_user_stop_at_the_limit(user: ChatUser) -> None:
    opened, refused = [], 0
    try:
        for _ in range(100):
            try:
                opened.append(connect(user.session_url(), legacy=True))
            except InvalidStatus as rejected:
                assert rejected.response.status_code == 429
                refused += 1
        assert (len(opened), refused) == (4, 96)  # KIROSHI_SOCKETS_PER_USER in the fixture
    finally:
        for ws in opened:
            ws.close()


@pytest.fixture
def roomy(fake: FakeOpenAI, tmp_path: Path) -> Iterator[Runner]:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 8192)), hard))
    env = {
        "OPENAI_BASE_URL": fake.base_url,
        "OPENAI_API_KEY": "k",
        "KIROSHI_SOCKETS_PER_USER": "5000",
        "KIROSHI_LOG_LEVEL": "WARNING",
    }
    started = Runner(tmp_path, env).start()
    yield started
    started.stop()


def test_a_thousand_idle_and_slow_clients_do_not_stop_a_normal_one(roomy: Runner) -> None:
    crowd, normal = ChatUser.create(roomy.url), ChatUser.create(roomy.url)

    async def scenario() -> list[dict[str, object]]:
        url = crowd.session_url().replace("http://", "ws://")
        idle = []
        for _ in range(4):
            idle += await asyncio.gather(*(connect_async(url, ping_interval=None) for _ in range(250)))
        # Slow clients: they never read what they are sent.
        for ws in idle[:50]:
            await ws.send(json.dumps({"type": "message", "content": "x" * 10}))
        async with connect_async(normal.session_url().replace("http://", "ws://")) as ws:
            await ws.recv()
            await ws.send(json.dumps({"type": "message", "content": "am I still served? [tokens=5]"}))
            frames = []
            while not frames or frames[-1]["type"] not in ("done", "error"):
                frames.append(json.loads(await asyncio.wait_for(ws.recv(), 30)))
        await asyncio.gather(*(ws.close() for ws in idle))
        return frames

    frames = asyncio.run(scenario())

    assert frames[-1]["type"] == "done"
    assert "".join(str(f["content"]) for f in frames if f["type"] == "delta") == "".join(WORDS[:5])
    assert roomy.process is not None and roomy.process.poll() is None  # still running
