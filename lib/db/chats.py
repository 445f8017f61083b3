"""The `chat`, `message` and `usage` tables.

A turn is two transactions: `begin_turn` reserves the reply's worst-case tokens against the
user's quota and stores the user's message; `finish_turn` stores the reply and settles the
reservation with what was really used.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from lib.db.connection import Database
from lib.db.records import new_id, record, record_key

__all__ = [
    "Chat",
    "Message",
    "Reservation",
    "begin_turn",
    "create_chat",
    "delete_chat",
    "finish_turn",
    "get_chat",
    "get_messages",
    "list_chats",
    "rename_chat",
]

TITLE_LENGTH = 80


@dataclass(frozen=True)
class Chat:
    chat_id: str
    user_id: str
    model: str
    title: str
    message_count: int
    created_at: dt.datetime
    updated_at: dt.datetime


@dataclass(frozen=True)
class Message:
    message_id: str
    role: str
    content: str
    status: str
    usage: dict[str, int] | None
    created_at: dt.datetime


@dataclass(frozen=True)
class Reservation:
    """Tokens held for a reply in flight, in the user's usage record for the quota period."""

    period_start: dt.datetime
    period_end: dt.datetime
    quota: int | None  # None: unlimited (usage is still recorded)
    tokens: int

    def key(self, user_id: str) -> str:
        return f"{user_id}|{self.period_start.isoformat()}"


def _chat(row: dict[str, Any] | None) -> Chat | None:
    if not row:
        return None
    return Chat(
        chat_id=record_key(row["id"]),
        user_id=record_key(row["user"]),
        model=row["model"],
        title=row["title"],
        message_count=row["message_count"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _message(row: dict[str, Any]) -> Message:
    return Message(
        message_id=record_key(row["id"]),
        role=row["role"],
        content=row["content"],
        status=row["status"],
        usage=row.get("usage"),
        created_at=row["created_at"],
    )


def create_chat(db: Database, user_id: str, model: str, now: dt.datetime) -> Chat:
    chat_id = new_id()
    row = db.one(
        "CREATE ONLY $chat CONTENT {user: $user, model: $model, title: '', message_count: 0, "
        "created_at: $now, updated_at: $now}",
        {"chat": record("chat", chat_id), "user": record("user", user_id), "model": model, "now": now},
    )
    chat = _chat(row)
    if chat is None:
        raise RuntimeError("CREATE returned no chat")
    return chat


def get_chat(db: Database, chat_id: str) -> Chat | None:
    return _chat(db.one("SELECT * FROM ONLY $chat", {"chat": record("chat", chat_id)}))


def list_chats(db: Database, user_id: str, *, after: tuple[dt.datetime, str] | None, limit: int) -> list[Chat]:
    """The user's chats, newest first, strictly after the cursor."""
    params: dict[str, Any] = {"user": record("user", user_id), "n": limit}
    where = "user = $user"
    if after is not None:
        where += " AND (created_at < $t OR (created_at = $t AND id < $id))"
        params |= {"t": after[0], "id": record("chat", after[1])}
    query = f"SELECT * FROM chat WHERE {where} ORDER BY created_at DESC, id DESC LIMIT $n"  # noqa: S608
    rows = db.one(query, params)
    return [c for c in map(_chat, rows or []) if c is not None]


def rename_chat(db: Database, chat_id: str, title: str, now: dt.datetime) -> Chat | None:
    rows = db.one(
        "UPDATE $chat SET title = $title, updated_at = $now RETURN AFTER",
        {"chat": record("chat", chat_id), "title": title, "now": now},
    )
    return _chat(rows[0]) if rows else None


def delete_chat(db: Database, chat_id: str) -> None:
    db.transaction("DELETE message WHERE chat = $chat; DELETE $chat;", {"chat": record("chat", chat_id)})


def get_messages(db: Database, chat_id: str) -> list[Message]:
    rows = db.one("SELECT * FROM message WHERE chat = $chat ORDER BY seq", {"chat": record("chat", chat_id)})
    return [_message(r) for r in rows or []]


_RESERVE = """
LET $usage_row = (UPSERT ONLY $usage SET user = $user, period_start = $period_start, period_end = $period_end,
                  used = used ?? 0, reserved = (reserved ?? 0) + $tokens);
IF $quota != NONE AND $usage_row.used + $usage_row.reserved > $quota { THROW 'kiroshi:quota_exceeded' };
"""


def begin_turn(db: Database, chat: Chat, content: str, reservation: Reservation, now: dt.datetime) -> Message:
    """Reserve the turn's tokens and store the user's message (the first one titles the chat).

    Raises Thrown("quota_exceeded") when the reservation does not fit the quota; nothing is stored then.
    """
    message_id = new_id()
    rows = db.transaction(
        _RESERVE  # noqa: S608 - constant SurrealQL; values are parameters
        + """
        LET $counted = (UPDATE ONLY $chat SET message_count += 1, updated_at = $now,
                        title = IF title = '' THEN $title ELSE title END);
        CREATE ONLY $message CONTENT {chat: $chat, seq: $counted.message_count, role: 'user', content: $content,
                                      status: 'complete', created_at: $now};
        """,
        {
            "usage": record("usage", reservation.key(chat.user_id)),
            "user": record("user", chat.user_id),
            "period_start": reservation.period_start,
            "period_end": reservation.period_end,
            "tokens": reservation.tokens,
            "quota": reservation.quota,
            "chat": record("chat", chat.chat_id),
            "message": record("message", message_id),
            "content": content,
            "title": " ".join(content.split())[:TITLE_LENGTH],
            "now": now,
        },
    )
    return _message(rows[-1])


def finish_turn(
    db: Database,
    chat: Chat,
    *,
    message_id: str,
    content: str,
    status: str,
    usage: dict[str, int],
    reservation: Reservation,
    now: dt.datetime,
) -> Message:
    """Store the assistant's reply and settle the reservation with the tokens really used."""
    rows = db.transaction(
        """
        UPDATE $usage SET used += $used, reserved -= $tokens;
        LET $counted = (UPDATE ONLY $chat SET message_count += 1, updated_at = $now);
        CREATE ONLY $message CONTENT {chat: $chat, seq: $counted.message_count, role: 'assistant', content: $content,
                                      status: $status, usage: $usage_counts, created_at: $now};
        """,
        {
            "usage": record("usage", reservation.key(chat.user_id)),
            "used": usage["prompt_tokens"] + usage["completion_tokens"],
            "tokens": reservation.tokens,
            "chat": record("chat", chat.chat_id),
            "message": record("message", message_id),
            "content": content,
            "status": status,
            "usage_counts": usage,
            "now": now,
        },
    )
    return _message(rows[-1])
