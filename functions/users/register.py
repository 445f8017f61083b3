"""POST /users/register — anyone. Creates a `user` (the first `admin` for the bootstrap e-mail,
while no admin exists)."""

from __future__ import annotations

from typing import Any

from lib.accounts import repository as users
from lib.accounts.rules import is_bootstrap_admin
from lib.auth.passwords import hash_password
from lib.http.dispatch import Call


def handler(call: Call) -> dict[str, Any]:
    services, body = call.services, call.body
    services.register_per_address.attempt(call.request.client_addr)
    user = users.create_user(
        services.db,
        email=body["email"],
        nickname=body["nickname"],
        name=body["name"],
        surname=body["surname"],
        password_hash=hash_password(body["password"]),
        now=services.now(),
        first_admin=is_bootstrap_admin(services, body["email"]),
    )
    return {"created_user": user, "message": "User registered"}
