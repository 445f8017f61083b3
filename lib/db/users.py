"""The `user` table (with its e-mail guards and token revocations)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Any

from lib.db.connection import Database, RecordExists
from lib.db.paging import Cursor, page_rows
from lib.db.records import new_id, record, record_key
from lib.errors import Conflict, NotFound
from lib.events.outbox import OUTBOX_STATEMENT, outbox_params

__all__ = [
    "User",
    "change_email",
    "create_user",
    "delete_user",
    "get_user",
    "get_user_by_email",
    "list_users",
    "load_for_token",
    "revoke_token",
    "set_password",
    "set_role_by_email",
    "touch_login",
    "update_field",
]

PROFILE_FIELDS = ("nickname", "name", "surname")


@dataclass(frozen=True)
class User:
    user_id: str
    email: str
    nickname: str
    name: str
    surname: str
    role: str
    created_at: dt.datetime
    updated_at: dt.datetime
    last_login_at: dt.datetime | None
    tokens_valid_after: dt.datetime | None  # tokens issued before it are revoked
    password_hash: str = field(repr=False)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def email_key(email: str) -> str:
    """The uniqueness key of an (already normalised) e-mail: case-insensitive as a whole."""
    return email.casefold()


def _user(row: dict[str, Any] | None) -> User | None:
    if not row:
        return None
    return User(
        user_id=record_key(row["id"]),
        email=row["email"],
        nickname=row["nickname"],
        name=row["name"],
        surname=row["surname"],
        role=row["role"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        last_login_at=row.get("last_login_at"),
        tokens_valid_after=row.get("tokens_valid_after"),
        password_hash=row["password_hash"],
    )


def _email_taken() -> Conflict:
    return Conflict("email already registered", code="email_taken")


def create_user(
    db: Database, *, email: str, nickname: str, name: str, surname: str, password_hash: str, role: str, now: dt.datetime
) -> User:
    """Create the user and its e-mail guard in one transaction. Raises Conflict(email_taken)."""
    user_id = new_id()
    params = {
        "user": record("user", user_id),
        "guard": record("email_guard", email_key(email)),
        "content": {
            "email": email,
            "nickname": nickname,
            "name": name,
            "surname": surname,
            "role": role,
            "password_hash": password_hash,
            "created_at": now,
            "updated_at": now,
        },
        **outbox_params("user.registered", {"user_id": user_id}),
    }
    try:
        results = db.transaction(
            f"CREATE $guard SET user = $user; CREATE ONLY $user CONTENT $content; {OUTBOX_STATEMENT}", params
        )
    except RecordExists:
        raise _email_taken() from None
    created = _user(results[1])
    if created is None:
        raise RuntimeError("CREATE returned no record")
    return created


def get_user(db: Database, user_id: str) -> User | None:
    return _user(db.one("SELECT * FROM ONLY $user", {"user": record("user", user_id)}))


def get_user_by_email(db: Database, email: str) -> User | None:
    return _user(db.one("RETURN $guard.user.*", {"guard": record("email_guard", email_key(email))}))


def load_for_token(db: Database, user_id: str, jti: str) -> tuple[User | None, bool]:
    """The token's user (None if deleted) and whether the token's jti is revoked, in one round trip
    (memoised per user and token where the database allows it; every write here invalidates)."""

    def load() -> tuple[User | None, bool]:
        user, revoked = db.query(
            "SELECT * FROM ONLY $user; SELECT VALUE id FROM ONLY $revoked;",
            {"user": record("user", user_id), "revoked": record("revoked_token", jti)},
        )
        return _user(user), revoked is not None

    return db.memo.load(user_id, jti, load)


def list_users(db: Database, *, after: Cursor | None, limit: int) -> list[User]:
    """Users in registration order, strictly after the (created_at, user_id) cursor."""
    return [u for u in map(_user, page_rows(db, "user", after=after, limit=limit)) if u is not None]


def update_field(db: Database, user_id: str, name: str, value: str, now: dt.datetime) -> tuple[str, User]:
    """Set one profile field; return the old value and the updated user. Raises NotFound."""
    if name not in PROFILE_FIELDS:
        raise ValueError(f"not a profile field: {name}")
    before = _user(
        db.one(
            f"UPDATE ONLY $user SET {name} = $value, updated_at = $now RETURN BEFORE",  # noqa: S608 - whitelisted
            {"user": record("user", user_id), "value": value, "now": now},
        )
    )
    db.memo.invalidate(user_id)
    if before is None:
        raise NotFound("no such user", code="user_not_found")
    changes: dict[str, Any] = {name: value, "updated_at": now}
    return str(getattr(before, name)), replace(before, **changes)


def change_email(db: Database, user: User, new_email: str, now: dt.datetime) -> User:
    """Move the user's e-mail guard and address in one transaction. Raises Conflict(email_taken)."""
    old_key, new_key = email_key(user.email), email_key(new_email)
    params = {
        "user": record("user", user.user_id),
        "old_guard": record("email_guard", old_key),
        "new_guard": record("email_guard", new_key),
        "email": new_email,
        "now": now,
    }
    swap_guard = "" if old_key == new_key else "DELETE $old_guard; CREATE $new_guard SET user = $user;"
    try:
        db.transaction(f"{swap_guard} UPDATE ONLY $user SET email = $email, updated_at = $now;", params)  # noqa: S608
    except RecordExists:
        raise _email_taken() from None
    finally:
        db.memo.invalidate(user.user_id)
    return replace(user, email=new_email, updated_at=now)


def set_password(db: Database, user_id: str, password_hash: str, now: dt.datetime) -> None:
    """Store a new hash and revoke every token issued before `now`."""
    db.query(
        "UPDATE ONLY $user SET password_hash = $hash, tokens_valid_after = $now, updated_at = $now",
        {"user": record("user", user_id), "hash": password_hash, "now": now},
    )
    db.memo.invalidate(user_id)


def touch_login(db: Database, user_id: str, now: dt.datetime) -> None:
    db.query("UPDATE $user SET last_login_at = $now RETURN NONE", {"user": record("user", user_id), "now": now})
    db.memo.invalidate(user_id)


def delete_user(db: Database, user: User) -> None:
    """Delete the account, its e-mail guard and everything it owns, in one transaction."""
    db.transaction(
        "DELETE $guard; DELETE revoked_token WHERE user = $user; DELETE contract WHERE user = $user;"
        f"DELETE $subscriber; DELETE $user; {OUTBOX_STATEMENT}",
        {
            "user": record("user", user.user_id),
            "subscriber": record("subscriber", user.user_id),
            "guard": record("email_guard", email_key(user.email)),
            **outbox_params("user.deleted", {"user_id": user.user_id}),
        },
    )
    db.memo.invalidate(user.user_id)


def revoke_token(db: Database, jti: str, user_id: str, expires_at: dt.datetime) -> None:
    """Record the revocation durably (idempotent); expired revocations are pruned later."""
    db.query(
        "UPSERT $revoked SET user = $user, expires_at = $expires",
        {"revoked": record("revoked_token", jti), "user": record("user", user_id), "expires": expires_at},
    )
    db.memo.invalidate(user_id)


def set_role_by_email(db: Database, email: str, role: str, now: dt.datetime) -> User | None:
    """Promote or demote the account with this e-mail; None when there is none."""
    user = get_user_by_email(db, email)
    if user is None:
        return None
    db.query(
        "UPDATE ONLY $user SET role = $role, updated_at = $now",
        {"user": record("user", user.user_id), "role": role, "now": now},
    )
    db.memo.invalidate(user.user_id)
    return replace(user, role=role, updated_at=now)
