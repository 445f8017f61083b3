"""GET /v1/models — any authenticated caller. The models the caller's plan allows, OpenAI-style."""

from __future__ import annotations

from typing import Any

from lib.billing.entitlements import entitlements_for
from lib.http.dispatch import Call


def handler(call: Call) -> dict[str, Any]:
    models = entitlements_for(call.services, call.caller.user_id).models
    return {
        "object": "list",
        "data": [{"id": m, "object": "model", "created": 0, "owned_by": "kiroshi"} for m in models],
    }
