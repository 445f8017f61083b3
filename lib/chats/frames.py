"""The chat session's wire protocol, described once: its query parameters, the frames each side
sends, the `error` frame's codes, the close codes and the refusals before the upgrade.

The engine checks client frames against `CLIENT_FRAMES` (lib.chats.engine), and GET /asyncapi.json
(lib.asyncapi) and the session's OpenAPI entry (lib.openapi) are generated from this module, so
that what is validated and what is published cannot drift. The engine builds server frames as
plain dicts, encoded once (the delta relay stays lean); tests check them against `SERVER_FRAMES`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = [
    "CLIENT_FRAMES",
    "CLOSE_CODES",
    "ERROR_CODES",
    "QUERY",
    "REFUSALS",
    "SERVER_FRAMES",
    "UNKNOWN_TYPE_MESSAGE",
    "Field",
    "Frame",
]

_PYTHON_TYPES: dict[str, type] = {"string": str, "integer": int, "object": dict}


@dataclass(frozen=True)
class Field:
    """One field of a frame (or query parameter): its JSON type and what it means."""

    name: str
    type: str  # a JSON Schema type: string, integer or object
    description: str
    enum: tuple[str, ...] = ()
    fields: tuple[Field, ...] = ()  # an object's own fields
    non_blank: bool = False  # a string with something besides whitespace
    minimum: int | None = None
    required: bool = True

    def schema(self) -> dict[str, Any]:
        """The field's value as JSON Schema (draft-07, the AsyncAPI Schema's base)."""
        schema: dict[str, Any] = {"type": self.type, "description": self.description}
        if self.enum:
            schema["enum"] = list(self.enum)
        if self.non_blank:
            schema |= {"minLength": 1, "pattern": r"\S"}
        if self.minimum is not None:
            schema["minimum"] = self.minimum
        if self.fields:
            schema |= _object(self.fields)
        return schema

    def accepts(self, value: Any) -> bool:
        """Whether `value` is one of this field's (JSON `true` is not an integer)."""
        if self.type == "string":
            return isinstance(value, str) and (not self.non_blank or bool(value.strip()))
        return isinstance(value, _PYTHON_TYPES[self.type]) and not isinstance(value, bool)


@dataclass(frozen=True)
class Frame:
    """A JSON text frame: `{"type": <type>, <fields>...}`."""

    type: str
    summary: str
    fields: tuple[Field, ...] = ()
    closed: bool = False  # other fields are refused (`invalid_message`); else they are ignored

    def schema(self) -> dict[str, Any]:
        """The frame's payload as JSON Schema."""
        kind = Field("type", "string", f"always `{self.type}`", enum=(self.type,))
        schema = {"type": "object", **_object((kind, *self.fields))}
        if self.closed:
            schema["additionalProperties"] = False
        return schema

    def refusal(self, data: dict[str, Any]) -> str | None:
        """Why a client frame of this type is refused (the `invalid_message` text), or None."""
        if self.closed and not data.keys() <= {"type", *(f.name for f in self.fields)}:
            names = " and ".join(f"`{name}`" for name in ("type", *(f.name for f in self.fields)))
            return f"a {self.type} has only {names}"
        for field in self.fields:
            if (field.required or field.name in data) and not field.accepts(data.get(field.name)):
                return f"`{field.name}` must be a {'non-empty ' if field.non_blank else ''}{field.type}"
        return None


def _object(fields: tuple[Field, ...]) -> dict[str, Any]:
    return {
        "required": [f.name for f in fields if f.required],
        "properties": {f.name: f.schema() for f in fields},
    }


QUERY = (
    Field(
        "auth_token",
        "string",
        "the caller's JWT, or a single-use ticket (`kt_...`, 60 s) from POST /chats/{user_id}/{chat_id}/ticket, "
        "which keeps long-lived tokens out of URLs",
    ),
    Field(
        "session_token",
        "string",
        "to resume: the `session_token` of an earlier `session` frame of this chat (one that is unknown or "
        "names another chat is ignored: a new session starts)",
        required=False,
    ),
    Field(
        "last_index",
        "integer",
        "to resume: the `index` of the last `delta` seen (default -1); the missed deltas come first",
        required=False,
    ),
)

CLIENT_FRAMES: dict[str, Frame] = {
    frame.type: frame
    for frame in (
        Frame(
            "message",
            "Ask: starts a reply (one per chat at a time).",
            (Field("content", "string", "the user's message, at most KIROSHI_MAX_MESSAGE_CHARS", non_blank=True),),
            closed=True,
        ),
        Frame("stop", "Cancel the reply in progress; it ends with `done` (`finish_reason`: `stopped`)."),
    )
}

UNKNOWN_TYPE_MESSAGE = "send " + " or ".join(f'{{"type": "{name}"}}' for name in CLIENT_FRAMES)

ERROR_CODES: dict[str, str] = {
    "invalid_json": "the frame is not JSON",
    "unknown_type": "not an object, or its `type` is not a client frame's",
    "invalid_message": "a `message` with other fields, or without a non-empty string `content`",
    "message_too_long": "`content` over KIROSHI_MAX_MESSAGE_CHARS characters",
    "unsupported_frame": "a binary frame",
    "reply_in_progress": "a message while this chat's reply is in progress (one at a time)",
    "nothing_to_stop": "`stop` with no reply in progress",
    "rate_limited": "more than KIROSHI_MESSAGES_PER_MINUTE messages",
    "quota_exceeded": "the plan's token or money quota for the period is used up (the free tier's per calendar month)",
    "model_not_allowed": "the chat's model is no longer in the plan",
    "upstream_error": "the model server failed",
    "upstream_unreachable": "the model server could not be reached",
    "upstream_auth_failed": "the model server refused this server's credentials (OPENAI_API_KEY)",
    "upstream_rate_limited": "the model server is rate limiting this server; retry later",
    "upstream_timeout": "the model server did not answer in time",
    "upstream_unavailable": "the model server broke off the reply or sent what could not be read",
    "storage_failed": "the turn could not be stored",
    "chat_deleted": "the chat was deleted during the reply; the reply is not stored",
    "dependency_unavailable": "a dependency (database, cache) is down; retry later",
    "internal_error": "the frame or reply failed on a bug; the session goes on",
}

_USAGE = (
    Field("prompt_tokens", "integer", "tokens of the request (the model's count)", minimum=0),
    Field("completion_tokens", "integer", "tokens of the reply (the model's count)", minimum=0),
)

SERVER_FRAMES: dict[str, Frame] = {
    frame.type: frame
    for frame in (
        Frame(
            "session",
            "The first frame, sent on connect.",
            (Field("session_token", "string", "pass it back as `session_token` to resume after a drop"),),
        ),
        Frame(
            "delta",
            "The text that arrived from the model since the previous delta (a token from a slow model, "
            "several when they arrive together).",
            (
                Field("content", "string", "the text to append"),
                Field("index", "integer", "counts this reply's deltas from 0", minimum=0),
            ),
        ),
        Frame(
            "done",
            "The reply ended and the turn (message and reply) is stored: whole or not at all.",
            (
                Field("message_id", "string", "the stored reply's id"),
                Field(
                    "usage",
                    "object",
                    "what the model reported; for a stopped reply, the most it can have been",
                    fields=_USAGE,
                ),
                Field("finish_reason", "string", "`stopped` after a `stop`", enum=("stop", "stopped")),
                Field(
                    "model",
                    "string",
                    "the public name of the model that served the reply: the chat's, or the fallback that "
                    "served when it failed before its first token (KIROSHI_MODELS_FILE)",
                ),
            ),
        ),
        Frame(
            "error",
            "A refused frame or a failed reply; the session stays open.",
            (
                Field("code", "string", "stable: branch on it", enum=tuple(ERROR_CODES)),
                Field("message", "string", "for people; may change"),
            ),
        ),
    )
}

CLOSE_CODES: dict[int, str] = {
    1001: "the server is shutting down; replies in progress get a grace period and are stored",
    1007: "a text frame that is not UTF-8",
    1009: "a frame over 64 KiB",
    4401: "the credentials were revoked: logout, a password change or account deletion, at once, on every instance",
}

REFUSALS: dict[int, tuple[tuple[str, ...], str]] = {
    401: (
        ("missing_token", "invalid_token", "token_expired", "token_revoked", "invalid_ticket"),
        "no, bad or stale credentials",
    ),
    403: (("forbidden",), "another user's path"),
    404: (("chat_not_found",), "no such chat for this user"),
    422: (("validation_failed",), "`last_index` is not an integer"),
    426: (("websocket_required",), "a plain HTTP request, without Upgrade: websocket"),
    429: (("too_many_sessions",), "more than KIROSHI_SOCKETS_PER_USER open sessions; with Retry-After"),
    503: (("dependency_unavailable",), "a dependency is down; retry later"),
}
"""Status -> (problem codes, when): what the upgrade is answered instead of 101 Switching Protocols."""
