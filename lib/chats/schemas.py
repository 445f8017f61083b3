"""Schemas of the chat endpoints."""

from __future__ import annotations

from marshmallow import fields, validate

from lib.http.schemas import StrictSchema, Text, page_out, reply_out

__all__ = [
    "ChatCreatedOut",
    "ChatIn",
    "ChatOut",
    "ChatReplyOut",
    "ChatSummaryOut",
    "ChatsPageOut",
    "RenameIn",
    "TicketOut",
]


class ChatIn(StrictSchema):
    model = fields.String(required=True, validate=validate.Length(1, 128))


class ChatCreatedOut(StrictSchema):
    chat_id = fields.String(required=True)


class ChatSummaryOut(StrictSchema):
    chat_id = fields.String(required=True)
    model = fields.String(required=True)
    title = fields.String(required=True, metadata={"description": "set from the first message; PATCH renames"})
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)
    message_count = fields.Integer(required=True)


ChatsPageOut = page_out("ChatsPageOut", "chats", ChatSummaryOut)


class UsageOut(StrictSchema):
    prompt_tokens = fields.Integer(required=True)
    completion_tokens = fields.Integer(required=True)


class MessageOut(StrictSchema):
    message_id = fields.String(required=True)
    role = fields.String(required=True, metadata={"enum": ["user", "assistant"]})
    content = fields.String(required=True)
    status = fields.String(
        required=True,
        metadata={"enum": ["complete", "stopped", "error"], "description": "how an assistant reply ended"},
    )
    created_at = fields.DateTime(required=True)
    usage = fields.Nested(UsageOut, allow_none=True, required=True)


class ChatOut(StrictSchema):
    chat_id = fields.String(required=True)
    model = fields.String(required=True)
    title = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)
    messages = fields.List(fields.Nested(MessageOut), required=True)


class RenameIn(StrictSchema):
    title = Text(required=True, max_length=200)


ChatReplyOut = reply_out("ChatReplyOut", "chat", ChatSummaryOut)


class TicketOut(StrictSchema):
    ticket = fields.String(required=True, metadata={"description": "single use, bound to this user and chat"})
    expires_in = fields.Integer(required=True, metadata={"description": "seconds"})
