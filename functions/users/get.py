"""GET /users/{user_id} — self or admin. The user's profile with metadata."""

from __future__ import annotations

from typing import Any

from lib.accounts.profiles import profile
from lib.accounts.rules import target_user
from lib.http.dispatch import Call


def handler(call: Call) -> dict[str, Any]:
    return profile(call.services, target_user(call.services, call.caller, call.path["user_id"]))
