"""DELETE /users/{user_id} — self or admin. Deletes the account and everything it owns; its
tokens stop working at once."""

from __future__ import annotations

from typing import Any

from lib.accounts import target_user
from lib.db import users
from lib.http.dispatch import Call


def handler(call: Call) -> dict[str, Any]:
    user = target_user(call)
    users.delete_user(call.services.db, user)
    call.services.signal("kiroshi.revocations", {"user_id": user.user_id, "all": True})
    return {"message": "User deleted"}
