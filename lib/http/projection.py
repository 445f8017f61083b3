"""Answers shaped by their `out` schema at a fraction of `Schema.dump`'s cost.

A projector keeps exactly the fields the schema declares (nothing a handler adds by mistake
leaves the process) and leaves the values to orjson, which writes datetimes in ISO 8601 as
`Schema.dump` does. Handlers answer with typed records (frozen dataclasses), read attribute by
attribute, so the values already have the schema's types; the few a record does not hold as they
are shown (a price in minor units, a status as of now) are `Computed` fields
(lib.http.schemas), which the projector calls. The schema tests check each answer against the
OpenAPI document.

Answers that are dicts holding only declared keys pass through as they are (one key-set
comparison per dict, in C), and only what must change is copied.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from marshmallow import Schema, fields

from lib.http.schemas import Computed

if TYPE_CHECKING:
    from lib.clock import Clock

__all__ = ["Shape", "projector"]

Shape = Callable[..., Any]  # (value, clock=None) -> the answer's JSON value
_Project = Callable[[Any, dt.datetime | None], Any]
_MISSING = object()


def projector(schema: Schema) -> Shape:
    """A function `shape(value, clock=None)` that keeps, of a mapping or a record, the fields
    `schema` dumps. `clock` gives the answer's instant, read once, only for a schema that shows a
    field computed as of now (a contract's status); such a schema raises TypeError without it."""
    project, uses_now = _projector(schema)

    def shape(value: Any, clock: Clock | None = None) -> Any:
        if not uses_now:
            return project(value, None)
        if clock is None:
            raise TypeError(f"{type(schema).__name__} shows a field computed as of now: give it a clock")
        return project(value, clock())

    return shape


_Step = tuple[str, str, _Project | None, _Project | None]  # answer key, attribute, inner, compute


def _projector(schema: Schema) -> tuple[_Project, bool]:
    """The projection of `schema` and whether it (or a schema it nests) needs the answer's instant."""
    steps, uses_now = _steps(schema)
    copy = _copier(steps)
    renames = any(key != attribute for key, attribute, _, _ in steps)
    declared = frozenset(key for key, _, _, _ in steps)
    nested = [(key, inner) for key, _, inner, _ in steps if inner is not None]

    def project(value: Any, now: dt.datetime | None) -> Any:
        if renames or type(value) is not dict or not value.keys() <= declared:
            return copy(value, now)
        out = value  # only declared keys: the dict itself, unless a nested value must change
        for key, inner in nested:
            item = value.get(key)
            if item is not None:
                shaped = inner(item, now)
                if shaped is not item:
                    if out is value:
                        out = dict(value)
                    out[key] = shaped
        return out

    return project, uses_now


def _steps(schema: Schema) -> tuple[list[_Step], bool]:
    steps: list[_Step] = []
    uses_now = False
    for name, field in schema.dump_fields.items():
        inner, inner_uses_now = _values(field)
        compute = field.compute if isinstance(field, Computed) else None
        uses_now |= inner_uses_now or (isinstance(field, Computed) and field.uses_now)
        steps.append((field.data_key or name, field.attribute or name, inner, compute))
    return steps, uses_now


def _copier(steps: list[_Step]) -> _Project:
    """A copy of a mapping or a record with only the declared fields, each projected."""
    # A mapping is shaped already: its computed fields are read by their names.
    from_mapping = [(key, key if compute else attribute, inner) for key, attribute, inner, compute in steps]

    def copy(value: Any, now: dt.datetime | None) -> dict[str, Any]:
        out = {}
        if isinstance(value, dict) or isinstance(value, Mapping):  # noqa: SIM101 - a dict skips the ABC's check
            get = value.get
            for key, source, inner in from_mapping:
                item = get(source, _MISSING)
                if item is not _MISSING:
                    out[key] = item if inner is None or item is None else inner(item, now)
            return out
        for key, attribute, inner, compute in steps:
            item = getattr(value, attribute, _MISSING) if compute is None else compute(value, now)
            if item is not _MISSING:
                out[key] = item if inner is None or item is None else inner(item, now)
        return out

    return copy


def _values(field: fields.Field) -> tuple[_Project | None, bool]:  # type: ignore[type-arg]
    """How to project one field's value (None: taken as it is), and whether that needs now."""
    if isinstance(field, fields.Nested):
        nested = field.schema
        inner, uses_now = _projector(nested)
        return (_each(inner) if nested.many else inner), uses_now
    if isinstance(field, fields.List):
        each, uses_now = _values(field.inner)
        return (None if each is None else _each(each)), uses_now
    return None, False


def _each(inner: _Project) -> _Project:
    """Project every item of a list (the list itself when no item changed)."""

    def project(items: Any, now: dt.datetime | None) -> Any:
        shaped = [inner(item, now) for item in items]
        return items if type(items) is list and all(map(operator.is_, shaped, items)) else shaped

    return project
