"""POST /users/{user_id}/change-name — self or admin. `{"new_name"}`."""

from __future__ import annotations

from typing import Any

from lib.accounts.rules import change_profile_field
from lib.http.dispatch import Call


def handler(call: Call) -> dict[str, Any]:
    return change_profile_field(call.services, call.caller, call.path["user_id"], "name", call.body["new_name"])
