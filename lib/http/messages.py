"""The transport-neutral request and response every front door translates to and from."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["HttpRequest", "HttpResponse", "Reply"]


@dataclass(frozen=True)
class HttpRequest:
    """What the dispatch needs of a request. Header names are lower-case."""

    method: str
    path: str
    headers: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    client_addr: str = ""


@dataclass(frozen=True)
class HttpResponse:
    status: int
    body: bytes
    headers: dict[str, str]
    stream: AsyncIterator[bytes] | None = None  # a streamed body (server-sent events), sent after `body`


@dataclass(frozen=True)
class Reply:
    """What a handler returns when the route's default status or JSON body is not enough."""

    body: Any = None
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str | None = None
