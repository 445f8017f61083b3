"""POST /users/login — anyone. Answers a bearer JWT.

An unknown e-mail and a wrong password answer alike, after the same Argon2id work. A token is
issued only if the password it verified is still the account's (lib.accounts.repository.record_login): no
token obtained with the old password outlives a password change.
"""

from __future__ import annotations

from typing import Any

from lib.accounts import repository as users
from lib.accounts.rules import invalid_credentials
from lib.auth.passwords import verify_password, waste_time
from lib.http.dispatch import Call


def handler(call: Call) -> dict[str, Any]:
    services = call.services
    email, password = call.body["email"], call.body["password"]
    address, account = call.request.client_addr, users.email_key(email)
    services.login_per_address.attempt(address)
    services.login_per_account.attempt(account)
    user = users.get_user_by_email(services.db, email)
    if user is None:
        waste_time(password)
        raise invalid_credentials()
    if not verify_password(password, user.password_hash):
        raise invalid_credentials()
    services.login_per_address.refund(address)
    services.login_per_account.refund(account)
    now = services.now()
    if not users.record_login(services.db, user, now):  # the password changed while it was verified
        raise invalid_credentials()
    token, _ = services.tokens.issue(user.user_id, user.role, now)
    return {
        "message": "Logged in",
        "user_id": user.user_id,
        "token": token,
        "token_type": "Bearer",
        "expires_in": services.tokens.ttl_seconds,
    }
