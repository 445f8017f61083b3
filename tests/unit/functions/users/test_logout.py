from __future__ import annotations

from lib.accounts.repository import PRUNE_REVOCATIONS
from tests.support.client import Account, Client
from tests.support.clock import MovableClock


def test_logout_revokes_the_presented_token_only(client: Client, alice: Account) -> None:
    other_session = client.login(alice.email).json["token"]

    answer = client.post(f"/users/{alice.user_id}/logout", token=alice.token)

    assert answer.status == 200
    assert answer.json == {"message": "Logged out"}
    revoked = client.get("/auth", token=alice.token)
    assert revoked.status == 401
    assert revoked.json["code"] == "token_revoked"
    assert client.get("/auth", token=other_session).status == 200


def test_logging_out_twice_is_unauthorized(client: Client, alice: Account) -> None:
    assert client.post(f"/users/{alice.user_id}/logout", token=alice.token).status == 200
    assert client.post(f"/users/{alice.user_id}/logout", token=alice.token).status == 401


def test_nobody_logs_out_someone_else(client: Client, alice: Account, bob: Account, admin: Account) -> None:
    assert client.post(f"/users/{alice.user_id}/logout", token=bob.token).status == 403
    assert client.post(f"/users/{alice.user_id}/logout", token=admin.token).status == 403
    assert client.get("/auth", token=alice.token).status == 200


def test_a_revocation_is_durable_in_the_database(client: Client, alice: Account) -> None:
    client.post(f"/users/{alice.user_id}/logout", token=alice.token)

    rows = client.services.db.one("SELECT * FROM revoked_token")

    assert len(rows) == 1


def test_revocations_of_expired_tokens_are_forgotten_by_later_logouts(
    client: Client, alice: Account, bob: Account, clock: MovableClock
) -> None:
    tokens = [client.login(alice.email).json["token"] for _ in range(PRUNE_REVOCATIONS + 5)]
    for token in tokens:
        assert client.post(f"/users/{alice.user_id}/logout", token=token).status == 200
    ttl = client.services.settings.jwt_ttl_seconds
    clock.advance(ttl + 1)  # every token above has expired: its revocation guards nothing
    fresh = client.relogin(bob)

    assert client.post(f"/users/{bob.user_id}/logout", token=fresh).status == 200
    left = client.services.db.one("SELECT VALUE id FROM revoked_token")
    assert len(left) == 5 + 1  # the first logout after expiry removed PRUNE_REVOCATIONS; bob's own is live
    assert client.get("/auth", token=fresh).status == 401  # and what is live is still refused

    again = client.relogin(bob)
    assert client.post(f"/users/{bob.user_id}/logout", token=again).status == 200
    assert len(client.services.db.one("SELECT VALUE id FROM revoked_token")) == 2  # the backlog drained
