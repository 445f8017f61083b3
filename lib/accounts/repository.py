"""The `user` table (with its e-mail guards and token revocations)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Any

from lib.chats.repository import DELETE_CHATS_OF_USER
from lib.db.connection import Database, Event, RecordExists
from lib.db.paging import Cursor, page_rows
from lib.db.records import RecordKey, from_row, from_rows, new_id, record, record_key
from lib.errors import EmailTaken, PasswordChanged, UserNotFound

__all__ = [
    "ADMIN_BOOTSTRAP",
    "User",
    "bootstrap_admin",
    "change_email",
    "create_user",
    "delete_user",
    "get_user",
    "get_user_by_email",
    "list_users",
    "load_for_token",
    "record_login",
    "revoke_token",
    "set_password",
    "set_role_by_email",
    "update_field",
]

PROFILE_FIELDS = ("nickname", "name", "surname")
# Exists from the moment any admin exists (migration 0005): KIROSHI_BOOTSTRAP_ADMIN_EMAIL makes at
# most one admin, the first, and every path that makes an admin writes this record in its transaction.
ADMIN_BOOTSTRAP = record("admin_bootstrap", "once")


@dataclass(frozen=True)
class User:
    user_id: RecordKey
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


def create_user(
    db: Database,
    *,
    email: str,
    nickname: str,
    name: str,
    surname: str,
    password_hash: str,
    now: dt.datetime,
    first_admin: bool = False,
) -> User:
    """Create the user and its e-mail guard in one transaction. Raises EmailTaken.

    With `first_admin` (the address is KIROSHI_BOOTSTRAP_ADMIN_EMAIL) the user is created an admin
    if, in the same transaction, it spends the one-time admin bootstrap; once that is spent (an
    admin exists or existed), it is created a plain user. Concurrent claims: one wins.
    """
    user_id = new_id()
    content = {
        "email": email,
        "nickname": nickname,
        "name": name,
        "surname": surname,
        "role": "user",
        "password_hash": password_hash,
        "created_at": now,
        "updated_at": now,
    }
    if first_admin:
        try:
            return _insert_user(db, user_id, {**content, "role": "admin"}, claim=True)
        except RecordExists:
            pass  # the bootstrap is spent, or the e-mail is taken: the plain attempt says which
    try:
        return _insert_user(db, user_id, content, claim=False)
    except RecordExists:
        raise EmailTaken from None


def _insert_user(db: Database, user_id: str, content: dict[str, Any], *, claim: bool) -> User:
    """One registration transaction: the guard (marked as the address the user registered
    with), the user and its event; with `claim`, first the one-time admin bootstrap record."""
    params = {
        "user": record("user", user_id),
        "guard": record("email_guard", email_key(content["email"])),
        "bootstrap": ADMIN_BOOTSTRAP,
        "now": content["created_at"],
        "content": content,
    }
    spend = "CREATE $bootstrap SET user = $user, spent_at = $now;" if claim else ""
    results = db.write(
        f"{spend} CREATE $guard SET user = $user, registered = true; CREATE ONLY $user CONTENT $content;",
        params,
        events=[Event("user.registered", {"user_id": user_id})],
    )
    created = from_row(User, results[2 if claim else 1])
    if created is None:
        raise RuntimeError("CREATE returned no record")
    return created


def get_user(db: Database, user_id: str) -> User | None:
    return from_row(User, db.one("SELECT * FROM ONLY $user", {"user": record("user", user_id)}))


def get_user_by_email(db: Database, email: str) -> User | None:
    return from_row(User, db.one("RETURN $guard.user.*", {"guard": record("email_guard", email_key(email))}))


def load_for_token(db: Database, user_id: str, jti: str) -> tuple[User | None, bool]:
    """The token's user (None if deleted) and whether the token's jti is revoked, in one round trip
    (memoised per user and token where the database allows it; every write here invalidates)."""

    def load() -> tuple[User | None, bool]:
        user, revoked = db.query(
            "SELECT * FROM ONLY $user; SELECT VALUE id FROM ONLY $revoked;",
            {"user": record("user", user_id), "revoked": record("revoked_token", jti)},
        )
        return from_row(User, user), revoked is not None

    return db.memo.load(user_id, jti, load)


def list_users(db: Database, *, after: Cursor | None, limit: int) -> list[User]:
    """Users in registration order, strictly after the (created_at, user_id) cursor."""
    return from_rows(User, page_rows(db, "user", after=after, limit=limit))


def update_field(db: Database, user_id: str, name: str, value: str, now: dt.datetime) -> tuple[str, User]:
    """Set one profile field; return the old value and the updated user. Raises NotFound."""
    if name not in PROFILE_FIELDS:
        raise ValueError(f"not a profile field: {name}")
    results = db.write(
        f"UPDATE ONLY $user SET {name} = $value, updated_at = $now RETURN BEFORE",  # noqa: S608 - whitelisted
        {"user": record("user", user_id), "value": value, "now": now},
        stale=user_id,
    )
    before = from_row(User, results[0])
    if before is None:
        raise UserNotFound
    changes: dict[str, Any] = {name: value, "updated_at": now}
    return str(getattr(before, name)), replace(before, **changes)


def change_email(db: Database, user: User, new_email: str, now: dt.datetime) -> User:
    """Move the user's e-mail guard and address in one transaction. Raises EmailTaken."""
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
        db.write(f"{swap_guard} UPDATE ONLY $user SET email = $email, updated_at = $now;", params, stale=user.user_id)  # noqa: S608
    except RecordExists:
        raise EmailTaken from None
    return replace(user, email=new_email, updated_at=now)


def set_password(db: Database, user: User, password_hash: str, now: dt.datetime) -> None:
    """Replace `user.password_hash` (the hash the caller checked) with a new one and revoke every
    token issued before it: `tokens_valid_after` is `now`, or the user's last login if later (a
    login that verified the old hash and committed first, on a clock ahead of this one, issued its
    token at that instant). Raises PasswordChanged when the hash is no longer the one
    checked: of two changes racing with the same current password, one wins, the other is told."""
    results = db.write(
        "UPDATE $user SET password_hash = $hash, updated_at = $now,"
        " tokens_valid_after = IF last_login_at > $now THEN last_login_at ELSE $now END"
        " WHERE password_hash = $checked RETURN VALUE id;",
        {"user": record("user", user.user_id), "hash": password_hash, "checked": user.password_hash, "now": now},
        stale=user.user_id,
    )
    if not results[0]:
        raise PasswordChanged


def record_login(db: Database, user: User, now: dt.datetime) -> bool:
    """Record a login verified against `user.password_hash` at `now`, the `iat` of the token it
    will issue; False (nothing written, issue nothing) when the password changed since it was read.

    With set_password, this closes the race of a login and a password change: either the change
    committed first (the hash differs: False), or this write did, and the change then revokes
    every token issued up to `last_login_at`, kept as the latest login seen.
    """
    results = db.write(
        "UPDATE $user SET last_login_at = IF last_login_at > $now THEN last_login_at ELSE $now END"
        " WHERE password_hash = $hash RETURN VALUE id;",
        {"user": record("user", user.user_id), "hash": user.password_hash, "now": now},
        stale=user.user_id,
    )
    return bool(results[0])


def delete_user(db: Database, user: User) -> None:
    """Delete the account, its e-mail guard and everything it owns, in one transaction: its
    revocations, its chats with their messages, its usage, its subscriber (billing e-mail).

    Its contracts stay, as they are: they are the money records (what was paid, when, for which
    plan, what was refunded) that bookkeeping must keep, and they hold no personal data, only
    the account's id, which no longer names anyone. Their transaction ids stay spent (their
    tombstones). A turn that ends after this is not stored (lib.chats.repository.turn checks its chat).
    """
    db.write(
        f"DELETE $guard; DELETE revoked_token WHERE user = $user; {DELETE_CHATS_OF_USER}"
        " DELETE $subscriber; DELETE $user;",
        {
            "user": record("user", user.user_id),
            "subscriber": record("subscriber", user.user_id),
            "guard": record("email_guard", email_key(user.email)),
        },
        events=[Event("user.deleted", {"user_id": user.user_id})],
        stale=user.user_id,
    )


PRUNE_REVOCATIONS = 50  # expired revocations each new one removes: the table holds live ones, and a backlog drains


def revoke_token(db: Database, jti: str, user_id: str, expires_at: dt.datetime, now: dt.datetime) -> None:
    """Record the revocation durably (idempotent), and forget up to PRUNE_REVOCATIONS revocations
    of tokens expired by `now` (an expired token is refused anyway): the table holds what is live."""
    db.write(
        "UPSERT $revoked SET user = $user, expires_at = $expires;"
        " DELETE (SELECT VALUE id FROM revoked_token WHERE expires_at < $now LIMIT $prune);",
        {
            "revoked": record("revoked_token", jti),
            "user": record("user", user_id),
            "expires": expires_at,
            "now": now,
            "prune": PRUNE_REVOCATIONS,
        },
        stale=user_id,
    )


def set_role_by_email(db: Database, email: str, role: str, now: dt.datetime) -> User | None:
    """Promote or demote the account with this e-mail; None when there is none.

    A promotion spends the admin bootstrap in the same transaction (an admin now exists)."""
    user = get_user_by_email(db, email)
    if user is None:
        return None
    set_role = "UPDATE ONLY $user SET role = $role, updated_at = $now;"
    db.write(
        "UPSERT $bootstrap SET spent_at = spent_at ?? $now;" + set_role if role == "admin" else set_role,
        {"user": record("user", user.user_id), "bootstrap": ADMIN_BOOTSTRAP, "role": role, "now": now},
        stale=user.user_id,
    )
    return replace(user, role=role, updated_at=now)


def bootstrap_admin(db: Database, email: str, now: dt.datetime) -> User | None:
    """At start: make the account that registered with `email` the first admin. None (and nothing
    changed) when no admin may be made: the bootstrap is spent (an admin exists or existed), there
    is no such account, or its user took the address by a later e-mail change.

    One transaction that spends the bootstrap: processes starting together promote at most once.
    """
    guard = record("email_guard", email_key(email))
    row = db.one("SELECT user, registered FROM ONLY $guard", {"guard": guard})
    if not row or row.get("registered") is not True:
        return None
    user_id = record_key(row["user"])
    params = {"guard": guard, "user": record("user", user_id), "bootstrap": ADMIN_BOOTSTRAP, "now": now}
    try:
        results = db.write(
            "IF $bootstrap.id = NONE AND $guard.user = $user AND $guard.registered = true {"
            " CREATE $bootstrap SET user = $user, spent_at = $now;"
            " RETURN UPDATE ONLY $user SET role = 'admin', updated_at = $now; };",
            params,
            stale=user_id,
        )
    except RecordExists:  # another process spent it meanwhile
        return None
    return from_row(User, results[0])
