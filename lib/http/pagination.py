"""`?limit=&cursor=` pagination with opaque cursors and `next_cursor` in the answer."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from marshmallow import fields, validate

from lib.errors import UnprocessableContent
from lib.http import json
from lib.http.schemas import StrictSchema

__all__ = ["PageQuery", "decode_cursor", "decode_time_cursor", "encode_cursor", "invalid_cursor", "paginate"]

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


class PageQuery(StrictSchema):
    limit = fields.Integer(load_default=DEFAULT_LIMIT, validate=validate.Range(1, MAX_LIMIT))
    cursor = fields.String(load_default=None, validate=validate.Length(1, 512))


def encode_cursor(values: Sequence[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(values))).decode().rstrip("=")


def invalid_cursor() -> UnprocessableContent:
    return UnprocessableContent("invalid fields: cursor", errors={"cursor": ["not a valid cursor"]})


def decode_cursor(cursor: str | None, arity: int) -> list[str] | None:
    """The cursor's values, None for the first page. Raises UnprocessableContent for a forged one."""
    if cursor is None:
        return None
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError):
        raise invalid_cursor() from None
    if not isinstance(values, list) or len(values) != arity or not all(isinstance(v, str) for v in values):
        raise invalid_cursor()
    return values


def decode_time_cursor(cursor: str | None) -> tuple[dt.datetime, str] | None:
    """A (timestamp, id) cursor, as `encode_cursor((time.isoformat(), id))` made it."""
    values = decode_cursor(cursor, 2)
    if values is None:
        return None
    try:
        return dt.datetime.fromisoformat(values[0]), values[1]
    except ValueError:
        raise invalid_cursor() from None


def paginate(rows: list[T], limit: int, key: Callable[[T], Sequence[Any]]) -> tuple[list[T], str | None]:
    """Given up to limit+1 rows, the page and the cursor of the next one (None at the end)."""
    if len(rows) <= limit:
        return rows, None
    page = rows[:limit]
    return page, encode_cursor(key(page[-1]))
