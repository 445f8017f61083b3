"""POST /chats/{user_id} — self. `{"model"}` → `{"chat_id"}`; a model that is not configured or not
in the caller's plan is 422."""

from __future__ import annotations

from lib.chats.access import start_chat
from lib.chats.repository import Chat
from lib.http.dispatch import Call


def handler(call: Call) -> Chat:
    return start_chat(call.services, call.caller.user_id, call.body["model"])
