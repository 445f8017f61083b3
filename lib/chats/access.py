"""Who may start a chat (a model of their plan), who may open a chat session (a JWT or a
single-use ticket, for one's own existing chat), and which session token may resume it."""

from __future__ import annotations

import secrets
from dataclasses import asdict
from typing import TYPE_CHECKING

from lib.accounts.principal import Principal, authenticate, principal_for
from lib.auth.tokens import TokenClaims
from lib.billing.entitlements import entitlements_for
from lib.chats import repository as chats
from lib.chats.repository import Chat
from lib.errors import Forbidden, NotFound, Unauthorized, UnprocessableContent
from lib.http import json

if TYPE_CHECKING:
    from lib.services import Services

__all__ = [
    "SESSION_SECONDS",
    "TICKET_PREFIX",
    "TICKET_SECONDS",
    "issue_ticket",
    "owned_chat",
    "remember_session",
    "resumable_session",
    "socket_principal",
    "start_chat",
]

TICKET_PREFIX = "kt_"
TICKET_SECONDS = 60
SESSION_SECONDS = 3600


def start_chat(services: Services, user_id: str, model: str) -> Chat:
    """A new chat of `user_id` with `model`. Raises UnprocessableContent when the model is not
    configured or not in the user's plan."""
    rights = entitlements_for(services, user_id)
    if not rights.allows(model):
        allowed = ", ".join(rights.models) or "none"
        raise UnprocessableContent(
            "invalid fields: model", errors={"model": [f"not available to you; choose one of: {allowed}"]}
        )
    return chats.create_chat(services.db, user_id, model, services.now())


def owned_chat(services: Services, user_id: str, chat_id: str) -> Chat:
    """The chat, if it exists and belongs to `user_id` (the path's user). Raises NotFound."""
    chat = chats.get_chat(services.db, chat_id)
    if chat is None or chat.user_id != user_id:
        raise NotFound("no such chat", code="chat_not_found")
    return chat


def issue_ticket(services: Services, principal: Principal, chat: Chat) -> str:
    """A single-use ticket for this user and chat, valid TICKET_SECONDS, usable as `auth_token`.

    It carries the claims of the token that asked for it, so revoking that token voids it too.
    """
    ticket = TICKET_PREFIX + secrets.token_urlsafe(24)
    payload = {"chat_id": chat.chat_id, "claims": asdict(principal.claims)}
    services.cache.set(f"ticket:{ticket}", json.dumps(payload).decode(), TICKET_SECONDS)
    return ticket


def socket_principal(services: Services, auth_token: str, user_id: str, chat_id: str) -> Principal:
    """The caller of a session: a JWT, or a ticket issued for exactly this chat. Raises
    Unauthorized (bad, expired, used or revoked credentials) or Forbidden (another user's path)."""
    if not auth_token:
        raise Unauthorized("auth_token is required", code="missing_token")
    if auth_token.startswith(TICKET_PREFIX):
        raw = services.cache.take(f"ticket:{auth_token}")
        if raw is None:
            raise Unauthorized("the ticket is unknown, expired or used", code="invalid_ticket")
        payload = json.loads(raw)
        if payload["chat_id"] != chat_id:
            raise Unauthorized("the ticket is for another chat", code="invalid_ticket")
        principal = principal_for(services, TokenClaims(**payload["claims"]))
    else:
        principal = authenticate(services, auth_token)
    if principal.user_id != user_id:
        raise Forbidden("a session is only for the chat's own user")
    return principal


def remember_session(services: Services, session_token: str, user_id: str, chat_id: str) -> None:
    """Let `session_token` resume this user's chat for SESSION_SECONDS (on any instance)."""
    services.cache.set(f"chat-session:{session_token}", f"{user_id}|{chat_id}", SESSION_SECONDS)


def resumable_session(services: Services, session_token: str, user_id: str, chat_id: str) -> str | None:
    """`session_token` if it names this user's chat (so it may resume), else None."""
    owner = services.cache.get(f"chat-session:{session_token}") if session_token else None
    return session_token if owner == f"{user_id}|{chat_id}" else None
