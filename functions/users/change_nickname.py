"""POST /users/{user_id}/change-nickname — self or admin. `{"new_nickname"}`."""

from __future__ import annotations

from typing import Any

from lib.accounts.rules import change_profile_field
from lib.http.dispatch import Call


def handler(call: Call) -> dict[str, Any]:
    return change_profile_field(call.services, call.caller, call.path["user_id"], "nickname", call.body["new_nickname"])
