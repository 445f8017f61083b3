"""POST /subscriptions/subscribers — self or admin (`{"user_id"}` names the user). One per user (409)."""

from __future__ import annotations

from typing import Any

from lib.accounts import repository as users
from lib.auth.policies import require_owner
from lib.billing import subscribers_repository as subscribers
from lib.errors import NotFound
from lib.http.dispatch import Call


def handler(call: Call) -> dict[str, Any]:
    user_id = call.body["user_id"]
    require_owner(call.caller, user_id)
    if user_id != call.caller.user_id and users.get_user(call.services.db, user_id) is None:
        raise NotFound("no such user", code="user_not_found")
    fields: dict[str, Any] = {k: call.body[k] for k in ("auto_renew", "billing_email") if k in call.body}
    subscriber = subscribers.create_subscriber(call.services.db, user_id, fields, call.services.now())
    return {"message": "Subscriber created", "subscriber": subscriber}
