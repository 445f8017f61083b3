"""Schemas of the chat endpoints."""

from __future__ import annotations

from marshmallow import fields, validate

from lib.chats.repository import Chat, Message
from lib.chats.usage_repository import ModelDay, UserTotal
from lib.http.schemas import StrictSchema, Text, page_out, record_out, reply_out

__all__ = [
    "AllUsageOut",
    "ChatCreatedOut",
    "ChatIn",
    "ChatOut",
    "ChatReplyOut",
    "ChatSummaryOut",
    "ChatsPageOut",
    "RenameIn",
    "TicketOut",
    "UsageQuery",
    "UserUsageOut",
]


class ChatIn(StrictSchema):
    model = fields.String(required=True, validate=validate.Length(1, 128))


ChatCreatedOut = record_out("ChatCreatedOut", Chat, "chat_id")


ChatSummaryOut = record_out(
    "ChatSummaryOut",
    Chat,
    "chat_id model title created_at updated_at message_count",
    title=fields.String(required=True, metadata={"description": "set from the first message; PATCH renames"}),
)


ChatsPageOut = page_out("ChatsPageOut", "chats", ChatSummaryOut)


class UsageOut(StrictSchema):
    prompt_tokens = fields.Integer(required=True)
    completion_tokens = fields.Integer(required=True)


MessageOut = record_out(
    "MessageOut",
    Message,
    "message_id role content status created_at usage",
    role=fields.String(required=True, metadata={"enum": ["user", "assistant"]}),
    status=fields.String(
        required=True,
        metadata={"enum": ["complete", "stopped", "error"], "description": "how an assistant reply ended"},
    ),
    usage=fields.Nested(UsageOut, allow_none=True, required=True),
)


ChatOut = record_out(
    "ChatOut",
    Chat,
    "chat_id model title created_at updated_at messages",
    messages=fields.List(fields.Nested(MessageOut), required=True),
)


class RenameIn(StrictSchema):
    title = Text(required=True, max_length=200)


ChatReplyOut = reply_out("ChatReplyOut", "chat", ChatSummaryOut)


class TicketOut(StrictSchema):
    ticket = fields.String(required=True, metadata={"description": "single use, bound to this user and chat"})
    expires_in = fields.Integer(required=True, metadata={"description": "seconds"})


class UsageQuery(StrictSchema):
    """`?from=&to=`: UTC days (YYYY-MM-DD), both included; default the current month up to today."""

    first = fields.Date(data_key="from", load_default=None, metadata={"description": "default: the month's first day"})
    last = fields.Date(data_key="to", load_default=None, metadata={"description": "default: today (UTC)"})


_COST = fields.String(
    required=True,
    metadata={"description": "exact decimal text in `currency` (never rounded): sum the strings as decimals"},
)

ModelDayOut = record_out(
    "ModelDayOut",
    ModelDay,
    "day model currency prompt_tokens completion_tokens cost replies",
    day=fields.String(required=True, metadata={"format": "date", "description": "UTC day the replies ended"}),
    model=fields.String(required=True, metadata={"description": "the public name of the model that served"}),
    cost=_COST,
)

UserTotalOut = record_out(
    "UserTotalOut", UserTotal, "user_id currency prompt_tokens completion_tokens cost replies", cost=_COST
)


def _range() -> dict[str, fields.Field]:  # type: ignore[type-arg]
    return {"from": fields.Date(required=True), "to": fields.Date(required=True)}


UserUsageOut = StrictSchema.from_dict(
    {
        "user_id": fields.String(required=True),
        **_range(),
        "usage": fields.List(fields.Nested(ModelDayOut), required=True),
    },
    name="UserUsageOut",
)

AllUsageOut = StrictSchema.from_dict(
    {
        **_range(),
        "usage": fields.List(fields.Nested(ModelDayOut), required=True),
        "users": fields.List(fields.Nested(UserTotalOut), required=True),
    },
    name="AllUsageOut",
)
