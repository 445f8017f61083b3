"""The strict base schema and the field types shared by every area."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate

__all__ = ["Email", "Message", "StrictBoolean", "StrictSchema", "Text", "change_out", "page_out", "reply_out"]

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class StrictSchema(Schema):
    """Unknown fields are errors: a client can never set what a schema does not name."""

    class Meta:
        unknown = RAISE
        ordered = True


class Text(fields.String):
    """A trimmed, NFC-normalised single-line string without control characters."""

    def __init__(self, *, max_length: int = 64, min_length: int = 1, **kwargs: Any) -> None:
        super().__init__(validate=validate.Length(min_length, max_length), **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = unicodedata.normalize("NFC", super()._deserialize(value, attr, data, **kwargs)).strip()
        if any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in text):
            raise ValidationError("must not contain control characters")
        return text


class Email(fields.String):
    """An e-mail address, trimmed, with its domain lower-cased (API.md)."""

    def __init__(self, **kwargs: Any) -> None:
        metadata = {"format": "email", "maxLength": 254, **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        email = super()._deserialize(value, attr, data, **kwargs).strip()
        if len(email) > 254 or not _EMAIL.match(email) or any(ord(ch) < 32 for ch in email):
            raise ValidationError("not a valid e-mail address")
        local, _, domain = email.rpartition("@")
        return f"{local}@{domain.lower()}"


class StrictBoolean(fields.Boolean):
    """JSON true or false only (not 0, 1, "yes")."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise ValidationError("must be true or false")
        return value


class Message(StrictSchema):
    message = fields.String(required=True)


def page_out(name: str, key: str, item: type[Schema]) -> type[Schema]:
    """`{"<key>": [item, ...], "next_cursor"}`, the answer of every paginated list."""
    return StrictSchema.from_dict(
        {
            key: fields.List(fields.Nested(item), required=True),
            "next_cursor": fields.String(allow_none=True, required=True),
        },
        name=name,
    )


def reply_out(name: str, key: str, item: type[Schema]) -> type[Schema]:
    """`{"message", "<key>": item}`, the answer of a change that returns what it changed."""
    return StrictSchema.from_dict(
        {"message": fields.String(required=True), key: fields.Nested(item, required=True)}, name=name
    )


def change_out(field: str) -> type[Schema]:
    """`{"message", "old_<field>", "new_<field>"}`, the answer of every profile change."""
    return Schema.from_dict(
        {"message": fields.String(required=True), f"old_{field}": fields.String(), f"new_{field}": fields.String()},
        name=f"Change{field.title()}Out",
    )
