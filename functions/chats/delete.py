"""DELETE /chats/{user_id}/{chat_id} — self or admin. The chat and its messages."""

from __future__ import annotations

from typing import Any

from lib.chats import repository as chats
from lib.chats.access import owned_chat
from lib.http.dispatch import Call


def handler(call: Call) -> dict[str, Any]:
    chat = owned_chat(call.services, call.path["user_id"], call.path["chat_id"])
    chats.delete_chat(call.services.db, chat.chat_id)
    return {"message": "Chat deleted"}
