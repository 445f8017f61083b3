"""POST /users/{user_id}/change-email — self or admin. Needs `current_password` unless an admin
acts on another user; the new e-mail must be free (409 email_taken)."""

from __future__ import annotations

from typing import Any

from lib.accounts import repository as users
from lib.accounts.rules import confirm_password, target_user
from lib.http.dispatch import Call


def handler(call: Call) -> dict[str, Any]:
    user = target_user(call.services, call.caller, call.path["user_id"])
    confirm_password(call.services, call.caller, user, call.body.get("current_password"))
    users.change_email(call.services.db, user, call.body["new_email"], call.services.now())
    return {"message": "Email changed", "old_email": user.email, "new_email": call.body["new_email"]}
