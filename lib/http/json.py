"""JSON in and out (orjson: strict UTF-8, no NaN, fast).

`loads` reads a number with a fraction or an exponent as a binary float, which rounds anything
beyond ~17 significant digits (99999.989999999999999999 reads as 99999.99). Bodies that carry
money are read with `loads_exact` instead, which keeps each such number as the Decimal of its text.
"""

from __future__ import annotations

import json as _std
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson

__all__ = ["JSONDecodeError", "dumps", "loads", "loads_exact"]

JSONDecodeError = orjson.JSONDecodeError


def loads(data: bytes | str) -> Any:
    return orjson.loads(data)


def loads_exact(data: bytes | str) -> Any:
    """Like `loads`, refusing what it refuses, but every number with a fraction or an exponent is
    the Decimal of its JSON text (integers stay ints), and a number too large for a float (1e400)
    is read too, for the schema to judge. Slower: for the few bodies that carry money."""
    try:
        orjson.loads(data)  # the same checks and errors as `loads`: UTF-8, surrogates, no NaN, depth
    except JSONDecodeError as error:
        if "infinity" not in str(error):  # a float's limit, not the JSON's: a Decimal holds it
            raise
        return _checked(_exact(data))  # orjson stopped there: what follows is checked here
    return _exact(data)


def _exact(data: bytes | str) -> Any:
    try:
        text = data.decode() if isinstance(data, bytes) else data
        return _std.loads(text, parse_float=Decimal, parse_constant=_no_constant)
    except (ValueError, RecursionError, InvalidOperation) as error:  # its JSONDecodeError, bad UTF-8; nesting
        # orjson allows; an exponent past what a Decimal holds (1e+999999999999999999999999999999)
        raise JSONDecodeError(f"not valid JSON: {type(error).__name__}", "", 0) from None


def _checked(value: Any) -> Any:
    """`value`, if its strings are valid Unicode (no lone surrogates), as `loads` requires."""
    try:
        orjson.dumps(value, default=str)
    except orjson.JSONEncodeError:
        raise JSONDecodeError("a string is not valid Unicode, or the JSON is nested too deeply", "", 0) from None
    return value


def _no_constant(name: str) -> Any:
    raise JSONDecodeError(f"{name} is not JSON", name, 0)


def dumps(value: Any) -> bytes:
    try:
        return orjson.dumps(value)
    except TypeError:  # a mapping with keys that are not strings (the option costs every answer ~20%)
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)
