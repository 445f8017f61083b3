"""JSON in and out (orjson: strict UTF-8, no NaN, fast)."""

from __future__ import annotations

from typing import Any

import orjson

__all__ = ["JSONDecodeError", "dumps", "loads"]

JSONDecodeError = orjson.JSONDecodeError


def loads(data: bytes | str) -> Any:
    return orjson.loads(data)


def dumps(value: Any) -> bytes:
    try:
        return orjson.dumps(value)
    except TypeError:  # a mapping with keys that are not strings (the option costs every answer ~20%)
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)
