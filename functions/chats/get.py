"""GET /chats/{user_id}/{chat_id} — self or admin. The chat with its messages and their usage."""

from __future__ import annotations

from typing import Any

from lib.chats import repository as chats
from lib.chats.access import owned_chat
from lib.http.dispatch import Call


def handler(call: Call) -> dict[str, Any]:
    chat = owned_chat(call.services, call.path["user_id"], call.path["chat_id"])
    return vars(chat) | {"messages": chats.get_messages(call.services.db, chat.chat_id)}
