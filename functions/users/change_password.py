"""POST /users/{user_id}/change-password — self or admin. Needs `current_password` unless an
admin acts on another user. Revokes every token issued before the change; never echoes it. Of two
changes racing from the same password, one wins and the other answers 409 `password_changed`."""

from __future__ import annotations

from typing import Any

from lib.accounts import repository as users
from lib.accounts.rules import confirm_password, target_user
from lib.auth.passwords import hash_password
from lib.http.dispatch import Call


def handler(call: Call) -> dict[str, Any]:
    user = target_user(call.services, call.caller, call.path["user_id"])
    confirm_password(call.services, call.caller, user, call.body.get("current_password"))
    users.set_password(call.services.db, user, hash_password(call.body["new_password"]), call.services.now())
    call.services.signal("kiroshi.revocations", {"user_id": user.user_id, "all": True})
    return {"message": "Password changed; sign in again"}
