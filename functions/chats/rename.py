"""PATCH /chats/{user_id}/{chat_id} — self. `{"title"}`."""

from __future__ import annotations

from typing import Any

from lib.chats import repository as chats
from lib.chats.access import owned_chat
from lib.errors import NotFound
from lib.http.dispatch import Call


def handler(call: Call) -> dict[str, Any]:
    chat = owned_chat(call.services, call.path["user_id"], call.path["chat_id"])
    renamed = chats.rename_chat(call.services.db, chat.chat_id, call.body["title"], call.services.now())
    if renamed is None:
        raise NotFound("no such chat", code="chat_not_found")
    return {"message": "Chat renamed", "chat": renamed}
