"""DELETE /users/{user_id} — self or admin. Deletes the account and everything it owns.

Its chats, messages, usage, revocations and subscriber go with it, in one transaction. Its contracts
stay, as the money records bookkeeping keeps, without personal data: the account's id then names no
one, and their transaction ids stay spent. Its tokens stop working at once, its sockets close (4401),
its replies stop, and a turn or completion that ends afterwards is not stored."""

from __future__ import annotations

from typing import Any

from lib.accounts import repository as users
from lib.accounts.rules import target_user
from lib.http.dispatch import Call


def handler(call: Call) -> dict[str, Any]:
    user = target_user(call.services, call.caller, call.path["user_id"])
    users.delete_user(call.services.db, user)
    call.services.signal("kiroshi.revocations", {"user_id": user.user_id, "all": True, "deleted": True})
    return {"message": "User deleted"}
