"""Deleting an account while its reply streams, on a real runner: the socket closes with 4401,
the reply stops, and the database (read directly once the runner has stopped) holds no chat,
message or usage row of the account — while another account's rows are all there."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from lib.config import Secret, Settings
from lib.db.connection import open_database
from lib.db.records import record
from tests.support.chat import ChatUser
from tests.support.fake_openai import FakeOpenAI
from tests.support.runner import Runner

pytestmark = pytest.mark.e2e


def _rows(data_dir: Path, user_id: str) -> dict[str, int]:
    settings = Settings(data_dir=data_dir, database_url=f"surrealkv://{data_dir}/kiroshi", jwt_secret=Secret("s" * 64))
    db = open_database(settings)
    try:
        rows = db.query(
            "SELECT VALUE id FROM chat WHERE user = $u; SELECT VALUE id FROM message WHERE chat.user = $u;"
            "SELECT VALUE id FROM usage WHERE user = $u; SELECT VALUE id FROM user WHERE id = $u;",
            {"u": record("user", user_id)},
        )
    finally:
        db.close()
    return dict(zip(("chat", "message", "usage", "user"), map(len, rows), strict=True))


def test_deleting_an_account_while_its_reply_streams_leaves_nothing_of_it(fake: FakeOpenAI, tmp_path: Path) -> None:
    runner = Runner(tmp_path, {"OPENAI_BASE_URL": fake.base_url, "OPENAI_API_KEY": "k"}).start()
    try:
        other = ChatUser.create(runner.url)
        ws, _ = other.connect()
        with ws:
            assert other.say(ws, "a stored turn")[-1]["type"] == "done"
        user = ChatUser.create(runner.url)
        ws, _ = user.connect()
        ws.send(json.dumps({"type": "message", "content": "my secret [tokens=400] [delay=10]"}))
        deltas = [json.loads(ws.recv(timeout=10)) for _ in range(3)]
        assert [d["type"] for d in deltas] == ["delta"] * 3

        deleted = httpx.delete(f"{runner.url}/users/{user.user_id}", headers=user.auth)
        started = time.monotonic()
        with pytest.raises(ConnectionClosed) as closed:
            while True:  # deltas already on their way, then the close
                ws.recv(timeout=5)
        assert deleted.status_code == 200
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
        assert time.monotonic() - started < 1.0
        time.sleep(0.5)  # the reply would have ended 4 s later: it was stopped, and its turn refused
    finally:
        runner.stop()

    assert _rows(tmp_path, user.user_id) == {"chat": 0, "message": 0, "usage": 0, "user": 0}
    assert _rows(tmp_path, other.user_id) == {"chat": 1, "message": 2, "usage": 1, "user": 1}
