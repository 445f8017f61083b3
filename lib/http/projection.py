"""Answers shaped by their `out` schema at a fraction of `Schema.dump`'s cost.

A projector keeps exactly the fields the schema declares (nothing a handler adds by mistake
leaves the process) and leaves the values to orjson, which writes datetimes in ISO 8601 as
`Schema.dump` does. Handlers build their answers from typed records, so the values already have
the schema's types; the schema tests check each answer against the OpenAPI document.

Most answers are dicts that hold only declared keys already: those pass through as they are
(one key-set comparison per dict, in C), and only what must change is copied.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from typing import Any

from marshmallow import Schema, fields

__all__ = ["projector"]

Project = Callable[[Any], Any]
_MISSING = object()


def projector(schema: Schema) -> Project:
    """A function that keeps, of a mapping or an object, the fields `schema` dumps."""
    steps = [
        (field.data_key or name, field.attribute or name, _values(field)) for name, field in schema.dump_fields.items()
    ]
    renames = any(key != attribute for key, attribute, _ in steps)
    declared = frozenset(key for key, _, _ in steps)
    nested = [(key, inner) for key, _, inner in steps if inner is not None]

    def copy(value: Any) -> dict[str, Any]:
        get: Callable[[str, Any], Any] = (
            value.get if isinstance(value, Mapping) else lambda key, default: getattr(value, key, default)
        )
        out = {}
        for key, attribute, inner in steps:
            item = get(attribute, _MISSING)
            if item is not _MISSING:
                out[key] = item if inner is None or item is None else inner(item)
        return out

    def project(value: Any) -> Any:
        if renames or type(value) is not dict or not value.keys() <= declared:
            return copy(value)
        out = value  # only declared keys: the dict itself, unless a nested value must change
        for key, inner in nested:
            item = value.get(key)
            if item is not None:
                shaped = inner(item)
                if shaped is not item:
                    if out is value:
                        out = dict(value)
                    out[key] = shaped
        return out

    return project


def _values(field: fields.Field) -> Project | None:  # type: ignore[type-arg]
    """How to project one field's value: None where it is taken as it is."""
    if isinstance(field, fields.Nested):
        nested = field.schema
        inner = projector(nested)
        return _each(inner) if nested.many else inner
    if isinstance(field, fields.List):
        each = _values(field.inner)
        return None if each is None else _each(each)
    return None


def _each(inner: Project) -> Project:
    """Project every item of a list (the list itself when no item changed)."""

    def project(items: Any) -> Any:
        shaped = [inner(item) for item in items]
        return items if type(items) is list and all(map(operator.is_, shaped, items)) else shaped

    return project
