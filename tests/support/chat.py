"""Driving a real runner's chat session as a browser would: HTTP for accounts, WebSocket for chat."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
from websockets.sync.client import ClientConnection, connect

PASSWORD = "a chatty passphrase"
_ids = itertools.count(1)


def frames_until_end(ws: ClientConnection, timeout: float = 15.0) -> list[dict[str, Any]]:
    """Frames up to and including `done` or `error`."""
    frames = []
    while True:
        frame = json.loads(ws.recv(timeout=timeout))
        frames.append(frame)
        if frame["type"] in ("done", "error"):
            return frames


def reply_text(frames: list[dict[str, Any]]) -> str:
    return "".join(f["content"] for f in frames if f["type"] == "delta")


@dataclass
class ChatUser:
    base_url: str
    user_id: str
    email: str
    token: str
    chat_id: str

    @classmethod
    def create(cls, base_url: str, email: str | None = None, model: str = "gpt-4o-mini") -> ChatUser:
        email = email or f"chatter{next(_ids)}@example.com"
        body = {"email": email, "nickname": "c", "name": "C", "surname": "C", "password": PASSWORD}
        assert httpx.post(f"{base_url}/users/register", json=body).status_code == 201
        login = httpx.post(f"{base_url}/users/login", json={"email": email, "password": PASSWORD}).json()
        user = cls(base_url, login["user_id"], email, login["token"], "")
        user.chat_id = user.new_chat(model)
        return user

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def new_chat(self, model: str = "gpt-4o-mini") -> str:
        answer = httpx.post(f"{self.base_url}/chats/{self.user_id}", json={"model": model}, headers=self.auth)
        assert answer.status_code == 201, answer.text
        return str(answer.json()["chat_id"])

    def chat(self) -> dict[str, Any]:
        return httpx.get(f"{self.base_url}/chats/{self.user_id}/{self.chat_id}", headers=self.auth).json()  # type: ignore[no-any-return]

    def session_url(self, **query: Any) -> str:
        params = {"auth_token": self.token} | {k: str(v) for k, v in query.items()}
        ws_base = self.base_url.replace("http://", "ws://")
        return f"{ws_base}/chats/{self.user_id}/{self.chat_id}/session?{urlencode(params)}"

    def connect(self, **query: Any) -> tuple[ClientConnection, str]:
        """An open session and its session token."""
        ws = connect(self.session_url(**query), max_size=None, legacy=True)
        first = json.loads(ws.recv(timeout=10))
        assert first["type"] == "session", first
        return ws, first["session_token"]

    def say(self, ws: ClientConnection, content: str) -> list[dict[str, Any]]:
        ws.send(json.dumps({"type": "message", "content": content}))
        return frames_until_end(ws)
