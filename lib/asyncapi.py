"""The AsyncAPI 3.0 document of the chat session, generated from the route table (its address) and
lib.chats.frames (its query, frames and codes: the description the engine validates with)."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from lib import __version__
from lib.chats.frames import CLIENT_FRAMES, CLOSE_CODES, ERROR_CODES, QUERY, REFUSALS, SERVER_FRAMES, Field, Frame
from lib.http.routing import Route

__all__ = ["asyncapi_document"]

DESCRIPTION = """The chat session of Kiroshi: one WebSocket per open chat, JSON text frames.

The server speaks first (`session`). Send `message`; the reply streams as `delta` frames, then
`done` (or `error`). A reply keeps generating while its client is away: reconnect, on any instance,
with `session_token` and `last_index` and the missed deltas come first, then the rest live. The
turn (the message and the whole reply, with its usage) is stored in one transaction when it ends,
before `done` is sent. Errors never close the session: they are `error` frames.

Before the upgrade the server answers problem+json (RFC 9457) instead of 101: {refusals}.

Close codes: {closes}.
"""


PARAMETERS = {"user_id": "the caller's user id: the chat's owner", "chat_id": "the chat's id"}


def _listing(items: dict[Any, str]) -> str:
    return "; ".join(f"{key} {text}" for key, text in items.items())


def _message(frame: Frame, direction: str) -> dict[str, Any]:
    message = {
        "name": frame.type,
        "title": f"{frame.type} ({direction})",
        "summary": frame.summary,
        "contentType": "application/json",
        "payload": frame.schema(),
    }
    if frame is SERVER_FRAMES["error"]:
        message["description"] = "Codes:\n" + "\n".join(f"- `{code}`: {text}" for code, text in ERROR_CODES.items())
    return message


def _auth_token() -> Field:
    return next(f for f in QUERY if f.name == "auth_token")


def _operations(channel: str) -> dict[str, Any]:
    """From the server's side: it receives the client's frames and sends its own."""
    operations: dict[str, Any] = {}
    for action, frames in (("receive", CLIENT_FRAMES), ("send", SERVER_FRAMES)):
        for name, frame in frames.items():
            operations[f"{action}_{name}"] = {
                "action": action,
                "channel": {"$ref": f"#/channels/{channel}"},
                "summary": frame.summary,
                "messages": [{"$ref": f"#/channels/{channel}/messages/{name}"}],
            }
    return operations


@functools.cache
def _document(routes: tuple[Route, ...]) -> dict[str, Any]:
    session = next(route for route in routes if route.websocket)
    channel = session.target
    refusals = {status: f"{', '.join(codes)} ({when})" for status, (codes, when) in REFUSALS.items()}
    messages = {name: _message(f, "client to server") for name, f in CLIENT_FRAMES.items()}
    messages |= {name: _message(f, "server to client") for name, f in SERVER_FRAMES.items()}
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Kiroshi chat session",
            "version": __version__,
            "description": DESCRIPTION.format(refusals=_listing(refusals), closes=_listing(CLOSE_CODES)),
        },
        "defaultContentType": "application/json",
        "servers": {
            "local": {
                "host": "127.0.0.1:8080",
                "protocol": "ws",
                "description": "the local runner (`make run`); behind TLS, `wss` on the same path",
                "security": [{"$ref": "#/components/securitySchemes/authToken"}],
            }
        },
        "channels": {
            channel: {
                "address": session.path,
                "title": "Chat session",
                "description": f"{session.method} {session.path}: the WebSocket upgrade, with the query below.",
                "parameters": {name: {"description": PARAMETERS.get(name, name)} for name in session.params},
                "messages": {name: {"$ref": f"#/components/messages/{name}"} for name in messages},
                "bindings": {
                    "ws": {
                        "method": session.method,
                        "query": Field("query", "object", "the query string", fields=QUERY).schema(),
                        "bindingVersion": "0.1.0",
                    }
                },
            }
        },
        "operations": _operations(channel),
        "components": {
            "messages": messages,
            "securitySchemes": {
                "authToken": {
                    "type": "httpApiKey",
                    "in": "query",
                    "name": "auth_token",
                    "description": _auth_token().description,
                }
            },
        },
        "x-close-codes": {str(code): text for code, text in CLOSE_CODES.items()},
    }


def asyncapi_document(routes: Sequence[Route]) -> dict[str, Any]:
    return _document(tuple(routes))
