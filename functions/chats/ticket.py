"""POST /chats/{user_id}/{chat_id}/ticket — self. A single-use ticket (≤ 60 s) to use as the session's
`auth_token`, so that long-lived tokens stay out of URLs."""

from __future__ import annotations

from typing import Any

from lib.chats.access import TICKET_SECONDS, issue_ticket, owned_chat
from lib.http.dispatch import Call


def handler(call: Call) -> dict[str, Any]:
    chat = owned_chat(call.services, call.path["user_id"], call.path["chat_id"])
    return {"ticket": issue_ticket(call.services, call.caller, chat), "expires_in": TICKET_SECONDS}
