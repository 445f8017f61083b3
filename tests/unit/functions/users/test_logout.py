from __future__ import annotations

from tests.support.client import Account, Client


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
