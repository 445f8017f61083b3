"""AWS Lambda handlers, one per route of functions/routes.py (named like main.py's targets), and the
three of the chat session on API Gateway WebSockets. serverless.yml points at these names."""

from __future__ import annotations

from typing import Any

from functions.routes import ROUTES
from lib.platform.aws import handler, make_handler

__all__ = ["chat_connect", "chat_default", "chat_disconnect", "handler"]

for _route in ROUTES:
    if not _route.websocket:
        globals()[_route.target] = make_handler(_route)


def chat_connect(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from lib.platform import aws_ws  # noqa: PLC0415 - HTTP functions never load the session engine

    return aws_ws.connect(event, context)


def chat_default(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from lib.platform import aws_ws  # noqa: PLC0415

    return aws_ws.default(event, context)


def chat_disconnect(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from lib.platform import aws_ws  # noqa: PLC0415

    return aws_ws.disconnect(event, context)
