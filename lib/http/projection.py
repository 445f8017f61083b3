"""Answers shaped by their `out` schema at a fraction of `Schema.dump`'s cost.

A projector keeps exactly the fields the schema declares (nothing a handler adds by mistake
leaves the process) and leaves the values to orjson, which writes datetimes in ISO 8601 as
`Schema.dump` does. Handlers build their answers from typed records, so the values already have
the schema's types; the schema tests check each answer against the OpenAPI document.
"""

from __future__ import annotations

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

    def project(value: Any) -> dict[str, Any]:
        get: Callable[[str, Any], Any] = (
            value.get if isinstance(value, Mapping) else lambda key, default: getattr(value, key, default)
        )
        out = {}
        for key, attribute, inner in steps:
            item = get(attribute, _MISSING)
            if item is not _MISSING:
                out[key] = item if inner is None or item is None else inner(item)
        return out

    return project


def _values(field: fields.Field) -> Project | None:  # type: ignore[type-arg]
    """How to project one field's value: None where it is taken as it is."""
    if isinstance(field, fields.Nested):
        nested = field.schema
        inner = projector(nested)
        return (lambda items: [inner(item) for item in items]) if nested.many else inner
    if isinstance(field, fields.List):
        each = _values(field.inner)
        return None if each is None else (lambda items: [each(item) for item in items])
    return None
