"""Schemas of the OpenAI-compatible endpoints: the standard request of `POST /v1/chat/completions`,
each field checked for its type and range (OpenAI's own limits), passed on to the model server."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, post_load, validate, validates_schema

from lib.http.schemas import StrictBoolean, StrictSchema

__all__ = ["CompletionIn"]

NAME = validate.Regexp(r"^[A-Za-z0-9_-]{1,64}$", error="1-64 letters, digits, underscores or dashes")
TOOL_CHOICES = ("none", "auto", "required")
TEXT_PARTS = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["type", "text"],
        "properties": {"type": {"const": "text"}, "text": {"type": "string"}},
    },
}


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


class ToolChoice(fields.Field):  # type: ignore[type-arg]
    """`none`, `auto`, `required`, or one function by name."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if value in TOOL_CHOICES:
            return value
        function = value.get("function") if isinstance(value, dict) else None
        if (
            isinstance(function, dict)
            and value.keys() == {"type", "function"}
            and value["type"] == "function"
            and function.keys() == {"name"}
            and isinstance(function["name"], str)
        ):
            return value
        raise ValidationError('"none", "auto", "required", or {"type": "function", "function": {"name": ...}}')


class CalledFunctionIn(StrictSchema):
    name = fields.String(required=True, validate=validate.Length(1, 64))
    arguments = fields.String(required=True, metadata={"description": "JSON text, as the model wrote it"})


class ToolCallIn(StrictSchema):
    id = fields.String(required=True, validate=validate.Length(1, 256))
    type = fields.String(required=True, validate=validate.OneOf(["function"]))
    function = fields.Nested(CalledFunctionIn, required=True)
    index = fields.Integer(strict=True, metadata={"description": "what a streamed call carried; not sent on"})

    @post_load
    def _sent(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        return {"id": data["id"], "type": data["type"], "function": data["function"]}


class ChatMessageIn(StrictSchema):
    role = fields.String(required=True, validate=validate.OneOf(["system", "developer", "user", "assistant", "tool"]))
    content = Content(
        allow_none=True,
        load_default=None,
        metadata={
            "description": "required, except in an assistant message with tool_calls",
            "oneOf": [{"type": "string"}, TEXT_PARTS, {"type": "null"}],
        },
    )
    name = fields.String(validate=validate.Length(1, 64))
    tool_calls = fields.List(
        fields.Nested(ToolCallIn), validate=validate.Length(1, 128), metadata={"description": "assistant messages"}
    )
    tool_call_id = fields.String(validate=validate.Length(1, 256), metadata={"description": "tool messages"})
    refusal = fields.String(allow_none=True, metadata={"description": "assistant messages; not sent on"})

    @validates_schema
    def _consistent(self, data: dict[str, Any], **_: Any) -> None:
        role = data.get("role")
        if data.get("content") is None and not (role == "assistant" and data.get("tool_calls")):
            raise ValidationError("required, except in an assistant message with tool_calls", "content")
        if "tool_calls" in data and role != "assistant":
            raise ValidationError("only in an assistant message", "tool_calls")
        if ("tool_call_id" in data) != (role == "tool"):
            raise ValidationError("required in a tool message, and only there", "tool_call_id")

    @post_load
    def _plain(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        message = {"role": data["role"], "content": data["content"]}
        for key in ("tool_calls", "tool_call_id"):
            if key in data:
                message[key] = data[key]
        return message


class FunctionIn(StrictSchema):
    name = fields.String(required=True, validate=NAME)
    description = fields.String()
    parameters = fields.Dict(keys=fields.String(), metadata={"description": "a JSON Schema object"})
    strict = StrictBoolean(allow_none=True)


class ToolIn(StrictSchema):
    type = fields.String(required=True, validate=validate.OneOf(["function"]))
    function = fields.Nested(FunctionIn, required=True)


class JsonSchemaIn(StrictSchema):
    name = fields.String(required=True, validate=NAME)
    description = fields.String()
    schema = fields.Dict(keys=fields.String(), metadata={"description": "a JSON Schema object"})
    strict = StrictBoolean(allow_none=True)


class ResponseFormatIn(StrictSchema):
    type = fields.String(required=True, validate=validate.OneOf(["text", "json_object", "json_schema"]))
    json_schema = fields.Nested(JsonSchemaIn)

    @validates_schema
    def _schema_given(self, data: dict[str, Any], **_: Any) -> None:
        if ("json_schema" in data) != (data.get("type") == "json_schema"):
            raise ValidationError('required with type "json_schema", and only then', "json_schema")


class StreamOptionsIn(StrictSchema):
    include_usage = StrictBoolean(load_default=False)
    include_obfuscation = StrictBoolean(metadata={"description": "accepted; Kiroshi's chunks carry no padding"})


class CompletionIn(StrictSchema):
    model = fields.String(required=True, validate=validate.Length(1, 128))
    messages = fields.List(fields.Nested(ChatMessageIn), required=True, validate=validate.Length(1, 1000))
    stream = StrictBoolean(load_default=False)
    stream_options = fields.Nested(StreamOptionsIn, allow_none=True)
    max_tokens = fields.Integer(strict=True, allow_none=True, validate=validate.Range(1, 10**6))
    max_completion_tokens = fields.Integer(strict=True, allow_none=True, validate=validate.Range(1, 10**6))
    temperature = fields.Float(allow_none=True, validate=validate.Range(0, 2))
    top_p = fields.Float(allow_none=True, validate=validate.Range(0, 1))
    stop = fields.Raw(allow_none=True, metadata={"description": "a string or up to 4 strings"})
    presence_penalty = fields.Float(allow_none=True, validate=validate.Range(-2, 2))
    frequency_penalty = fields.Float(allow_none=True, validate=validate.Range(-2, 2))
    seed = fields.Integer(strict=True, allow_none=True)
    user = fields.String(allow_none=True, validate=validate.Length(0, 256))
    n = fields.Integer(
        strict=True, allow_none=True, validate=validate.Equal(1, error="only 1: Kiroshi answers one choice")
    )
    tools = fields.List(fields.Nested(ToolIn), allow_none=True, validate=validate.Length(1, 128))
    tool_choice = ToolChoice(
        allow_none=True,
        metadata={
            "oneOf": [
                {"type": "string", "enum": list(TOOL_CHOICES)},
                {
                    "type": "object",
                    "required": ["type", "function"],
                    "properties": {
                        "type": {"const": "function"},
                        "function": {
                            "type": "object",
                            "required": ["name"],
                            "properties": {"name": {"type": "string"}},
                        },
                    },
                },
            ]
        },
    )
    parallel_tool_calls = StrictBoolean(allow_none=True)
    response_format = fields.Nested(ResponseFormatIn, allow_none=True)
    logit_bias = fields.Dict(
        keys=fields.String(validate=validate.Regexp(r"^\d{1,9}$", error="a token id")),
        values=fields.Float(validate=validate.Range(-100, 100)),
        allow_none=True,
        validate=validate.Length(max=1024),
    )
    logprobs = StrictBoolean(allow_none=True)
    top_logprobs = fields.Integer(strict=True, allow_none=True, validate=validate.Range(0, 20))
    reasoning_effort = fields.String(allow_none=True, validate=validate.Length(1, 32))
    verbosity = fields.String(allow_none=True, validate=validate.OneOf(["low", "medium", "high"]))
    safety_identifier = fields.String(allow_none=True, validate=validate.Length(1, 256))
    prompt_cache_key = fields.String(allow_none=True, validate=validate.Length(1, 256))

    @validates_schema
    def _consistent(self, data: dict[str, Any], **_: Any) -> None:
        tools, choice = data.get("tools") or [], data.get("tool_choice")
        if choice is not None and choice != "none" and not tools:
            raise ValidationError("only with tools", "tool_choice")
        if isinstance(choice, dict) and choice["function"]["name"] not in {t["function"]["name"] for t in tools}:
            raise ValidationError(f"no tool is named {choice['function']['name']!r}", "tool_choice")
        if data.get("top_logprobs") is not None and not data.get("logprobs"):
            raise ValidationError("only with logprobs: true", "top_logprobs")
