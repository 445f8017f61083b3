"""GET /chats/{user_id}/{chat_id}/session — self. The chat session, a long-lived WebSocket function.

Connect with `?auth_token=<JWT or ticket>` (and `session_token`, `last_index` to resume). Before the
upgrade: 401 bad credentials, 403 another user's chat, 404 unknown chat, 429 too many sockets.
Frames: see the API documentation. A plain HTTP request here is answered 426."""

# The session in four steps, over the engine (lib.chats.engine) and in plain values, for any
# transport: `admit` before the upgrade, `on_open` once it is accepted, `on_message` per client
# frame, `on_close` when the socket goes. The runner's ASGI socket (local_runner.app) and API
# Gateway's $connect/$default/$disconnect (lib.platform.aws_ws) only translate frames to these;
# where no process holds the socket (API Gateway), `readmit` and `on_invocation` do the same per
# frame.

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lib.auth.tokens import TokenClaims
from lib.chats.access import owned_chat, resumable_session, socket_principal
from lib.chats.connections import Connection, Transport, error_frame
from lib.chats.engine import ChatEngine
from lib.chats.repository import Chat
from lib.errors import ApiError, RateLimited, UnprocessableContent, UpgradeRequired
from lib.http.dispatch import Call

if TYPE_CHECKING:
    from lib.services import Services

__all__ = [
    "Admission",
    "admit",
    "handler",
    "new_engine",
    "on_close",
    "on_invocation",
    "on_message",
    "on_open",
    "readmit",
]

log = logging.getLogger("kiroshi.chat")


@dataclass(frozen=True, slots=True)
class Admission:
    """A session let in: whose, on which chat, and where a resumed one picks up."""

    claims: TokenClaims
    chat: Chat
    session_token: str | None  # a session of this chat to resume; None: a new one starts
    last_index: int  # the index of the last delta the client saw (-1: none)


def handler(call: Call) -> None:
    """A plain HTTP request, without Upgrade: websocket."""
    raise UpgradeRequired(headers={"Upgrade": "websocket"})


def new_engine(services: Services) -> ChatEngine:
    """The process's session engine (one per process: it holds the sockets and replies in progress)."""
    return ChatEngine(services, services.llm)


def admit(
    services: Services, engine: ChatEngine | None, user_id: str, chat_id: str, query: Mapping[str, str]
) -> Admission:
    """Authenticate and authorise a session before the upgrade, from the path's ids and the query
    (`auth_token`, `session_token`, `last_index`). Raises ApiError: 401 bad credentials, 403
    another user's path, 404 no such chat, 429 `too_many_sessions` (KIROSHI_SOCKETS_PER_USER open
    on `engine`'s process; None where no process holds the sockets: API Gateway), 422 `last_index`.
    A ticket is used up even when a later check refuses."""
    principal = socket_principal(services, query.get("auth_token", ""), user_id, chat_id)
    chat = owned_chat(services, user_id, chat_id)
    if engine is not None and engine.socket_count(principal.user_id) >= services.settings.sockets_per_user:
        raise RateLimited(5, "too many open sessions for this user", code="too_many_sessions")
    try:
        last_index = int(query.get("last_index", "-1"))
    except ValueError:
        raise UnprocessableContent("invalid fields: last_index", errors={"last_index": ["not an integer"]}) from None
    session_token = resumable_session(services, query.get("session_token", ""), principal.user_id, chat.chat_id)
    return Admission(principal.claims, chat, session_token, last_index)


async def on_open(engine: ChatEngine, admission: Admission, transport: Transport) -> Connection:
    """The upgrade was accepted: send the `session` frame and, when resuming, what the client
    missed of a reply in progress before its live rest."""
    return await engine.open(admission.claims, admission.chat, transport, admission.session_token, admission.last_index)


async def on_message(engine: ChatEngine, connection: Connection, text: str | None) -> None:
    """One client frame (None: a binary one). Every problem costs the client an `error` frame,
    never the session."""
    if text is None:
        await connection.send(error_frame("unsupported_frame", "send JSON text frames, not binary ones"))
        return
    try:
        await engine.receive(connection, text)
    except ApiError as error:  # a dependency failed (503): tell the client, keep the session
        await connection.send(error_frame(error.code, error.detail))
    except Exception:  # a bug must cost one frame, never the session
        log.exception("chat frame failed")
        await connection.send(error_frame("internal_error", "the message could not be handled"))


def on_close(engine: ChatEngine, connection: Connection) -> None:
    """The socket went: forget it (a reply in progress goes on, and can be resumed)."""
    engine.close(connection)


def readmit(
    services: Services, claims: TokenClaims, chat_id: str, session_token: str | None, last_index: int
) -> Admission:
    """An admission kept between invocations (API Gateway): the chat may have been deleted since
    (NotFound)."""
    return Admission(claims, owned_chat(services, claims.user_id, chat_id), session_token, last_index)


async def on_invocation(
    engine: ChatEngine, admission: Admission, transport: Transport, text: str, *, opened: bool
) -> None:
    """One client frame where no process holds the socket: open the session (its first frame) or
    re-attach to it, handle the frame, and last as long as the reply it started."""
    if opened:
        connection = engine.attach(admission.claims, admission.chat, transport)
    else:
        connection = await on_open(engine, admission, transport)
    try:
        await on_message(engine, connection, text)
        await engine.reply_done(admission.chat.chat_id)
    finally:
        on_close(engine, connection)
