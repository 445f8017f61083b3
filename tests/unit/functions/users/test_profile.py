"""GET /auth, GET /users/{id}, GET /users."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.support.client import Account, Client


def test_auth_answers_the_callers_profile_with_metadata(client: Client, alice: Account) -> None:
    answer = client.get("/auth", token=alice.token)

    assert answer.status == 200
    body = answer.json
    assert body["user_id"] == alice.user_id
    assert body["email"] == "alice@example.com"
    assert set(body) == {"user_id", "nickname", "name", "surname", "email", "metadata"}
    meta = body["metadata"]
    assert meta["role"] == "user"
    assert meta["subscription"] is None
    for key in ("created_at", "updated_at", "last_login_at"):
        assert dt.datetime.fromisoformat(meta[key]).tzinfo is not None


def test_a_user_reads_itself_but_not_others(client: Client, alice: Account, bob: Account) -> None:
    assert client.get(f"/users/{alice.user_id}", token=alice.token).json["email"] == alice.email
    answer = client.get(f"/users/{bob.user_id}", token=alice.token)
    assert answer.status == 403
    assert "bob" not in answer.body.decode()


def test_an_admin_reads_anyone_and_gets_404_for_nobody(client: Client, alice: Account, admin: Account) -> None:
    assert client.get(f"/users/{alice.user_id}", token=admin.token).json["email"] == alice.email
    nobody = client.get("/users/doesnotexist", token=admin.token)
    assert (nobody.status, nobody.json["code"], nobody.json["detail"]) == (404, "user_not_found", "no such user")


def test_only_admins_list_users(client: Client, alice: Account) -> None:
    assert client.get("/users", token=alice.token).status == 403


def test_the_user_list_pages_through_everyone_once(client: Client, admin: Account) -> None:
    created = {client.register().json["created_user"]["user_id"] for _ in range(5)} | {admin.user_id}
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        query = {"limit": "2"} | ({"cursor": cursor} if cursor else {})
        page = client.get("/users", token=admin.token, query=query).json
        assert len(page["users"]) <= 2
        seen += [u["user_id"] for u in page["users"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert sorted(seen) == sorted(created)
    assert set(page["users"][0]) == {"user_id", "nickname", "name", "surname", "email"}


@pytest.mark.parametrize(
    "query", [{"limit": "0"}, {"limit": "201"}, {"limit": "ten"}, {"cursor": "!!!"}, {"cursor": "WyJ4Il0"}, {"x": "1"}]
)
def test_bad_paging_parameters_are_422(client: Client, admin: Account, query: dict[str, str]) -> None:
    answer = client.get("/users", token=admin.token, query=query)

    assert answer.status == 422
    assert answer.json["errors"]
