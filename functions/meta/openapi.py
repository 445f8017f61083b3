"""GET /openapi.json — anyone. The OpenAPI 3.1 document of this API."""

from __future__ import annotations

from typing import Any

from lib.http.dispatch import Call
from lib.openapi import openapi_document


def handler(call: Call) -> dict[str, Any]:
    from functions.routes import ROUTES  # noqa: PLC0415 - the table imports every schema

    return openapi_document(ROUTES)
