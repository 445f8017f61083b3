"""POST /subscriptions/subscribers — self or admin (`{"user_id"}` names the user). One per user (409)."""

from __future__ import annotations

from typing import Any

from lib.billing.purchases import subscribe
from lib.http.dispatch import Call


def handler(call: Call) -> dict[str, Any]:
    fields: dict[str, Any] = {k: call.body[k] for k in ("auto_renew", "billing_email") if k in call.body}
    subscriber = subscribe(call.services, call.caller, call.body["user_id"], fields)
    return {"message": "Subscriber created", "subscriber": subscriber}
