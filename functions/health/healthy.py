"""GET /healthy — anyone. Liveness: the process can serve."""

from __future__ import annotations

from typing import Any

from lib.http.dispatch import Call


def handler(call: Call) -> dict[str, Any]:
    return {"status": "ok"}
