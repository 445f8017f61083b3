"""GET /auth — any authenticated caller. The caller's own profile with metadata."""

from __future__ import annotations

from typing import Any

from lib.accounts.profiles import profile
from lib.http.dispatch import Call


def handler(call: Call) -> dict[str, Any]:
    return profile(call.services, call.caller.user)
