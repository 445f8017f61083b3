"""The invariants of a user's ledger, checked straight against the database."""

from __future__ import annotations

import itertools

from lib.db.connection import Database
from lib.db.records import record


def check_ledger(db: Database, user_id: str) -> list[dict[str, object]]:
    """Assert: periods never overlap; refunds never exceed what was paid; the subscriber's
    paid_until is the end of the last period. Returns the contracts in period order."""
    rows = db.one(
        "SELECT * FROM contract WHERE user = $user ORDER BY starts_at, ends_at",
        {"user": record("user", user_id)},
    )
    for row in rows:
        assert row["starts_at"] <= row["ends_at"], row
        if row.get("refunded_at") is not None:
            assert 0 <= row["refund_minor"] <= row["price_minor"], row
            assert row["ends_at"] <= max(row["refunded_at"], row["starts_at"]), row
    timeline = [r for r in rows if r["ends_at"] > r["starts_at"]]
    for before, after in itertools.pairwise(timeline):
        assert before["ends_at"] <= after["starts_at"], (before, after)
    # A contract refunded before it started keeps an empty period where it was; the paid period
    # ends where the last contract that held (or holds) time ends.
    held = [r for r in rows if r.get("refunded_at") is None or r["ends_at"] > r["starts_at"]]
    if held:
        head = db.one("SELECT * FROM ONLY $s", {"s": record("subscriber", user_id)})
        assert head["paid_until"] == max(r["ends_at"] for r in held), (head, rows)
    return rows  # type: ignore[no-any-return]
