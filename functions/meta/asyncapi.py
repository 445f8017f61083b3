"""GET /asyncapi.json — anyone. The AsyncAPI 3.0 document of the chat session's frames."""

from __future__ import annotations

from typing import Any

from lib.asyncapi import asyncapi_document
from lib.http.dispatch import Call


def handler(call: Call) -> dict[str, Any]:
    from functions.routes import ROUTES  # noqa: PLC0415 - the table imports every schema

    return asyncapi_document(ROUTES)
