"""GET /ready — anyone. Each dependency's state and adapter; 503 when one is down.

`payments` says whether a purchase proves a payment: `{"mode": "trust", "verified": false, "warning"}`
while KIROSHI_PAYMENTS=trust (local development), `{"mode": "stripe", "verified": true}` otherwise.
Stripe itself is not asked here (a probe would cost an API call per check)."""

from __future__ import annotations

from lib.billing.payments import payments_state
from lib.health import check_dependencies
from lib.http.dispatch import Call
from lib.http.messages import Reply


def handler(call: Call) -> Reply:
    checks = check_dependencies(call.services)
    ready = all(check["status"] == "ok" for check in checks.values())
    body = {
        "status": "ok" if ready else "unavailable",
        "checks": checks,
        "payments": payments_state(call.services.settings),
    }
    return Reply(body, status=200 if ready else 503)
