"""GET /chats/{user_id}/{chat_id}/session — self. The chat session, a long-lived WebSocket function.

Connect with `?auth_token=<JWT or ticket>` (and `session_token`, `last_index` to resume). Before the
upgrade: 401 bad credentials, 403 another user's chat, 404 unknown chat, 429 too many sockets.
Frames: see the API documentation. A plain HTTP request here is answered 426."""

from __future__ import annotations

from lib.errors import UpgradeRequired
from lib.http.dispatch import Call


def handler(call: Call) -> None:
    raise UpgradeRequired(headers={"Upgrade": "websocket"})
