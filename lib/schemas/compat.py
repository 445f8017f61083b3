"""Schemas of the OpenAI-compatible endpoints (the request subset Kiroshi honours)."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, post_load, validate

from lib.schemas.base import StrictBoolean, StrictSchema

__all__ = ["CompletionIn"]


class Content(fields.Field):  # type: ignore[type-arg]
    """A message's content: a string, or a list of `{"type": "text", "text"}` parts (joined)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if isinstance(value, str):
            return value
        if isinstance(value, list) and all(
            isinstance(p, dict) and p.get("type") == "text" and isinstance(p.get("text"), str) for p in value
        ):
            return "".join(p["text"] for p in value)
        raise ValidationError("a string, or a list of text parts")


class ChatMessageIn(StrictSchema):
    role = fields.String(required=True, validate=validate.OneOf(["system", "developer", "user", "assistant"]))
    content = Content(
        required=True,
        metadata={
            "oneOf": [
                {"type": "string"},
                {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["type", "text"],
                        "properties": {"type": {"const": "text"}, "text": {"type": "string"}},
                    },
                },
            ]
        },
    )
    name = fields.String(validate=validate.Length(1, 64))

    @post_load
    def _plain(self, data: dict[str, Any], **_: Any) -> dict[str, str]:
        return {"role": data["role"], "content": data["content"]}


class StreamOptionsIn(StrictSchema):
    include_usage = StrictBoolean(load_default=False)


class CompletionIn(StrictSchema):
    model = fields.String(required=True, validate=validate.Length(1, 128))
    messages = fields.List(fields.Nested(ChatMessageIn), required=True, validate=validate.Length(1, 1000))
    stream = StrictBoolean(load_default=False)
    stream_options = fields.Nested(StreamOptionsIn, allow_none=True)
    max_tokens = fields.Integer(allow_none=True, validate=validate.Range(1, 10**6))
    max_completion_tokens = fields.Integer(allow_none=True, validate=validate.Range(1, 10**6))
    temperature = fields.Float(allow_none=True, validate=validate.Range(0, 2))
    top_p = fields.Float(allow_none=True, validate=validate.Range(0, 1))
    stop = fields.Raw(allow_none=True, metadata={"description": "a string or up to 4 strings"})
    presence_penalty = fields.Float(allow_none=True, validate=validate.Range(-2, 2))
    frequency_penalty = fields.Float(allow_none=True, validate=validate.Range(-2, 2))
    seed = fields.Integer(allow_none=True)
    user = fields.String(allow_none=True, validate=validate.Length(0, 256))
    n = fields.Integer(allow_none=True, validate=validate.Equal(1, error="only n=1 is supported"))
