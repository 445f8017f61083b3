"""The strict base schema and the field types shared by every area."""

from __future__ import annotations

import datetime as dt
import re
import types
import typing
import unicodedata
from typing import Any, ClassVar

from marshmallow import RAISE, Schema, ValidationError, fields, validate

__all__ = [
    "Computed",
    "Email",
    "Message",
    "StrictBoolean",
    "StrictSchema",
    "Text",
    "change_out",
    "page_out",
    "record_out",
    "reply_out",
]

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


class Computed(fields.Field):  # type: ignore[type-arg]
    """An `out` field that the record does not hold as it is shown: the projector
    (lib.http.projection) calls `compute(record, now)`, `now` being the answer's instant where the
    class sets `uses_now` (else None). Mix it in before the field class that gives the JSON type:
    `class MinorAmount(Computed, fields.Raw)`. A mapping answer is taken as shaped already: its
    value is read by the field's name."""

    uses_now: ClassVar[bool] = False

    def compute(self, record: Any, now: dt.datetime | None) -> Any:
        raise NotImplementedError


def record_out(name: str, record: type, shown: str, /, **declared: fields.Field) -> type[Schema]:  # type: ignore[type-arg]
    """The `out` schema `name` of a record dataclass: the fields named in `shown` (space-separated,
    in the answer's order), each one `declared` here or else the record's attribute of that name,
    typed from its annotation (str, int, bool, datetime, `tuple[str, ...]`; `| None` allows null)
    and required, as an answer always carries it. Raises TypeError for a name that is neither, or
    an attribute of another type: declare those."""
    hints = typing.get_type_hints(record)
    built = {}
    for field_name in shown.split():
        if field_name in declared:
            built[field_name] = declared.pop(field_name)
            continue
        try:
            built[field_name] = _inferred(hints[field_name])
        except KeyError:
            raise TypeError(
                f"{name}: declare {field_name} (not a field of {record.__name__} of a known type)"
            ) from None
    if declared:
        raise TypeError(f"{name}: declared but not shown: {', '.join(declared)}")
    return StrictSchema.from_dict(built, name=name)


_TYPES: dict[Any, type[fields.Field]] = {  # type: ignore[type-arg]
    str: fields.String,
    int: fields.Integer,
    bool: StrictBoolean,
    dt.datetime: fields.DateTime,
}


def _inferred(hint: Any) -> fields.Field:  # type: ignore[type-arg]
    """The out field of a record attribute's type hint."""
    args = typing.get_args(hint)
    nullable = typing.get_origin(hint) in (types.UnionType, typing.Union) and types.NoneType in args
    if nullable:
        (hint,) = (arg for arg in args if arg is not types.NoneType)
    if typing.get_origin(hint) is tuple:
        (item, _) = typing.get_args(hint)  # tuple[str, ...]
        return fields.List(_TYPES[item](), required=True, allow_none=nullable)
    return _TYPES[hint](required=True, allow_none=nullable)


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
