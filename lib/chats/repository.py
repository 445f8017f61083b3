"""The `chat`, `message` and `usage` tables.

A turn is written once, when it ends: the user's message, the reply and the tokens it used (added
to the user's usage), in one `Write` that the chat engine commits together with other turns'
(lib.db.group_commit). Reservations of replies in flight live in the cache
(lib.chats.quota). A turn (or usage) whose chat or user was deleted meanwhile is not stored: it
throws `kiroshi:chat_gone` (or `kiroshi:user_gone`) inside its transaction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from lib.chats.usage_repository import CHARGE, Charge, charge_params
from lib.db.connection import Database
from lib.db.group_commit import Write
from lib.db.paging import Cursor, page_rows
from lib.db.records import LinkKey, RecordKey, from_row, from_rows, new_id, record

__all__ = [
    "DELETE_CHATS_OF_USER",
    "Chat",
    "Message",
    "add_usage",
    "create_chat",
    "delete_chat",
    "get_chat",
    "get_messages",
    "list_chats",
    "recent_turns",
    "rename_chat",
    "spent",
    "tokens_used",
    "turn",
    "usage_key",
]

TITLE_LENGTH = 80

# Statements that delete everything of `$user` in these tables: for the account's deletion
# transaction (lib.accounts.repository.delete_user). Messages go chat by chat, through their index.
DELETE_CHATS_OF_USER = (
    "FOR $owned IN (SELECT VALUE id FROM chat WHERE user = $user) { DELETE message WHERE chat = $owned; };"
    " DELETE chat WHERE user = $user; DELETE usage WHERE user = $user; DELETE reply_usage WHERE user = $user;"
)


@dataclass(frozen=True)
class Chat:
    chat_id: RecordKey
    user_id: LinkKey
    model: str
    title: str
    message_count: int
    created_at: dt.datetime
    updated_at: dt.datetime


@dataclass(frozen=True)
class Message:
    message_id: RecordKey
    role: str
    content: str
    status: str
    usage: dict[str, int] | None
    created_at: dt.datetime


def create_chat(db: Database, user_id: str, model: str, now: dt.datetime) -> Chat:
    chat_id = new_id()
    row = db.one(
        "CREATE ONLY $chat CONTENT {user: $user, model: $model, title: '', message_count: 0, "
        "created_at: $now, updated_at: $now}",
        {"chat": record("chat", chat_id), "user": record("user", user_id), "model": model, "now": now},
    )
    chat = from_row(Chat, row)
    if chat is None:
        raise RuntimeError("CREATE returned no chat")
    return chat


def get_chat(db: Database, chat_id: str) -> Chat | None:
    return from_row(Chat, db.one("SELECT * FROM ONLY $chat", {"chat": record("chat", chat_id)}))


def list_chats(db: Database, user_id: str, *, after: Cursor | None, limit: int) -> list[Chat]:
    """The user's chats, newest first, strictly after the cursor."""
    rows = page_rows(
        db,
        "chat",
        after=after,
        limit=limit,
        newest_first=True,
        where=("user = $user",),
        params={"user": record("user", user_id)},
    )
    return from_rows(Chat, rows)


def rename_chat(db: Database, chat_id: str, title: str, now: dt.datetime) -> Chat | None:
    rows = db.one(
        "UPDATE $chat SET title = $title, updated_at = $now RETURN AFTER",
        {"chat": record("chat", chat_id), "title": title, "now": now},
    )
    return from_row(Chat, rows[0]) if rows else None


def delete_chat(db: Database, chat_id: str) -> None:
    db.transaction("DELETE message WHERE chat = $chat; DELETE $chat;", {"chat": record("chat", chat_id)})


PRUNE_BATCH = 500


def prune_older_than(db: Database, cutoff: dt.datetime, batch: int = PRUNE_BATCH) -> tuple[int, int]:
    """Delete up to `batch` chats untouched since `cutoff` (with their messages) and up to `batch`
    reply costs of days before it: how many of each went (more may be left where that is `batch`).
    Usage totals per period stay: the quota and the bills read them."""
    chats, costs = db.write(
        "LET $old = (SELECT VALUE id FROM chat WHERE updated_at < $cutoff LIMIT $batch);"
        " FOR $chat IN $old { DELETE message WHERE chat = $chat; DELETE $chat; };"
        " LET $costs = (SELECT VALUE id FROM reply_usage WHERE day < $day LIMIT $batch);"
        " DELETE $costs;"
        " RETURN [array::len($old), array::len($costs)];",
        {"cutoff": cutoff, "day": cutoff.date().isoformat(), "batch": batch},
    )[-1]
    return int(chats), int(costs)


def get_messages(db: Database, chat_id: str) -> list[Message]:
    rows = db.one("SELECT * FROM message WHERE chat = $chat ORDER BY seq", {"chat": record("chat", chat_id)})
    return from_rows(Message, rows)


def recent_turns(db: Database, chat_id: str, limit: int) -> tuple[int, list[dict[str, str]]]:
    """The chat's message count and its last `limit` messages as `{"role", "content"}`, oldest first."""
    count, rows = db.query(
        "SELECT VALUE message_count FROM ONLY $chat;"
        "SELECT role, content, seq FROM message WHERE chat = $chat ORDER BY seq DESC LIMIT $n;",
        {"chat": record("chat", chat_id), "n": limit},
    )
    return int(count or 0), [{"role": r["role"], "content": r["content"]} for r in reversed(rows or [])]


def turn(
    db: Database,
    chat: Chat,
    *,
    question: str,
    asked_at: dt.datetime,
    message_id: str,
    content: str,
    status: str,
    usage: dict[str, int] | None,
    period: tuple[dt.datetime, dt.datetime],
    now: dt.datetime,
    charge: Charge | None = None,
) -> Write:
    """Store a whole turn: the user's message (the first one titles the chat) and the assistant's
    reply, and add the tokens it used to the user's usage for the quota period. Its value is the
    chat's message count. A reply without `usage` (one that failed before the model answered a
    token) is stored without one and adds nothing to the usage. `charge` (which model served, its
    tokens and cost) is stored as the reply's `reply_usage` row and its cost added to the period's.

    Committing it raises Thrown("chat_gone") when the chat or its user was deleted before: then
    nothing of it is stored. (It writes the chat record, so it also conflicts with a deletion that
    commits alongside.)
    """
    key = usage_key(chat.user_id, period[0])
    generation = db.memo.generation(chat.user_id)
    return Write(
        (
            "IF !record::exists($chat) OR !record::exists($user) { THROW 'kiroshi:chat_gone' }",
            "UPSERT ONLY $usage SET user = $user, period_start = $period_start, period_end = $period_end,"
            " used = (used ?? 0) + $used, cost = (cost ?? 0dec) + <decimal> $cost RETURN used, cost",
            CHARGE,
            "LET $counted = (UPDATE ONLY $chat SET message_count += 2, updated_at = $now,"
            " title = IF title = '' THEN $title ELSE title END)",
            "CREATE ONLY $question CONTENT {chat: $chat, seq: $counted.message_count - 1, role: 'user',"
            " content: $question_text, status: 'complete', created_at: $asked_at}",
            "CREATE ONLY $message CONTENT {chat: $chat, seq: $counted.message_count, role: 'assistant',"
            " content: $content, status: $status, usage: $usage_counts, created_at: $now} RETURN VALUE seq",
        ),
        {
            **charge_params(charge, now, "session", record("message", message_id)),
            "usage": record("usage", key),
            "user": record("user", chat.user_id),
            "period_start": period[0],
            "period_end": period[1],
            "used": usage["prompt_tokens"] + usage["completion_tokens"] if usage is not None else 0,
            "chat": record("chat", chat.chat_id),
            "title": " ".join(question.split())[:TITLE_LENGTH],
            "question": record("message", new_id()),
            "question_text": question,
            "asked_at": asked_at,
            "message": record("message", message_id),
            "content": content,
            "status": status,
            "usage_counts": usage,
            "now": now,
        },
        # The new total is what the next turn's quota check reads: keep it rather than read it again.
        after=lambda results: _remember(db, chat.user_id, key, results[1], generation),
    )


def _remember(db: Database, user_id: str, key: str, row: object, generation: int) -> None:
    """Keep the period's new totals that a turn's write returned (the next quota check reads them)."""
    if isinstance(row, dict) and isinstance(row.get("used"), int):
        db.memo.replace(user_id, ("usage", key), (row["used"], Decimal(row.get("cost") or 0)), generation)
    else:
        db.memo.invalidate(user_id, ("usage", key))


def add_usage(
    db: Database,
    user_id: str,
    period: tuple[dt.datetime, dt.datetime],
    tokens: int,
    charge: Charge | None = None,
    now: dt.datetime | None = None,
) -> None:
    """Add tokens used outside a chat (the OpenAI-compatible endpoint) to the user's period usage,
    with the reply's `charge` (its `reply_usage` row, ended at `now`) and its cost.

    Raises Thrown("user_gone") when the account was deleted before: nothing is stored then.
    """
    key = usage_key(user_id, period[0])
    db.transaction(
        "IF !record::exists($user) { THROW 'kiroshi:user_gone' };"
        " UPSERT $usage SET user = $user, period_start = $period_start, period_end = $period_end,"
        " used = (used ?? 0) + $used, cost = (cost ?? 0dec) + <decimal> $cost; " + CHARGE + ";",
        {
            **charge_params(charge, now or dt.datetime.now(dt.UTC), "v1"),
            "usage": record("usage", key),
            "user": record("user", user_id),
            "period_start": period[0],
            "period_end": period[1],
            "used": tokens,
        },
    )
    db.memo.invalidate(user_id, ("usage", key))


def usage_key(user_id: str, period_start: dt.datetime) -> str:
    return f"{user_id}|{period_start.isoformat()}"


def tokens_used(db: Database, user_id: str, period_start: dt.datetime) -> int:
    """Tokens the user's replies used in the quota period starting at `period_start` (memoised)."""
    return spent(db, user_id, period_start)[0]


def spent(db: Database, user_id: str, period_start: dt.datetime) -> tuple[int, Decimal]:
    """The tokens the user's replies used and what they cost (exact, in the catalogue's currency)
    in the quota period starting at `period_start` (memoised)."""
    key = usage_key(user_id, period_start)

    def load() -> tuple[int, Decimal]:
        row = db.one("SELECT used, cost FROM ONLY $usage", {"usage": record("usage", key)}) or {}
        return int(row.get("used") or 0), Decimal(row.get("cost") or 0)

    return db.memo.load(user_id, ("usage", key), load)
