"""GET /ready — anyone. Each dependency's state and adapter; 503 when one is down."""

from __future__ import annotations

from lib.health import check_dependencies
from lib.http.dispatch import Call
from lib.http.messages import Reply


def handler(call: Call) -> Reply:
    checks = check_dependencies(call.services)
    ready = all(check["status"] == "ok" for check in checks.values())
    return Reply({"status": "ok" if ready else "unavailable", "checks": checks}, status=200 if ready else 503)
