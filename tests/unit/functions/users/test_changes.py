"""change-nickname, change-name, change-surname, change-email, change-password."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from lib.services import Services
from tests.support.client import Account, Client


@pytest.mark.parametrize("field", ["nickname", "name", "surname"])
def test_a_user_changes_a_profile_field(client: Client, alice: Account, field: str) -> None:
    before = client.get("/auth", token=alice.token).json

    answer = client.post(f"/users/{alice.user_id}/change-{field}", {f"new_{field}": "  Renamed  "}, token=alice.token)

    assert answer.status == 200
    assert answer.json == {"message": answer.json["message"], f"old_{field}": before[field], f"new_{field}": "Renamed"}
    after = client.get("/auth", token=alice.token).json
    assert after[field] == "Renamed"
    assert after["metadata"]["updated_at"] > before["metadata"]["updated_at"]


@pytest.mark.parametrize("field", ["nickname", "name", "surname"])
def test_profile_changes_are_validated(client: Client, alice: Account, field: str) -> None:
    path = f"/users/{alice.user_id}/change-{field}"
    assert client.post(path, {f"new_{field}": ""}, token=alice.token).status == 422
    assert client.post(path, {f"new_{field}": "ok", "role": "admin"}, token=alice.token).status == 422
    assert client.post(path, {}, token=alice.token).status == 422


def test_an_admin_changes_another_users_nickname(client: Client, alice: Account, admin: Account) -> None:
    answer = client.post(f"/users/{alice.user_id}/change-nickname", {"new_nickname": "moderated"}, token=admin.token)

    assert answer.status == 200
    assert client.get("/auth", token=alice.token).json["nickname"] == "moderated"


def test_a_user_cannot_change_another_user(client: Client, alice: Account, bob: Account) -> None:
    answer = client.post(f"/users/{bob.user_id}/change-nickname", {"new_nickname": "pwned"}, token=alice.token)

    assert answer.status == 403
    assert client.get("/auth", token=bob.token).json["nickname"] == "nick"


def test_change_email_needs_the_current_password(client: Client, alice: Account) -> None:
    path = f"/users/{alice.user_id}/change-email"
    missing = client.post(path, {"new_email": "new@example.com"}, token=alice.token)
    wrong = client.post(path, {"new_email": "new@example.com", "current_password": "nope nope"}, token=alice.token)

    assert missing.status == 422
    assert "current_password" in missing.json["errors"]
    assert wrong.status == 403
    assert wrong.json["code"] == "wrong_password"
    assert client.login("alice@example.com").status == 200


def test_change_email_moves_the_login_and_frees_the_old_address(client: Client, alice: Account) -> None:
    answer = client.post(
        f"/users/{alice.user_id}/change-email",
        {"new_email": "Alice@New.Example", "current_password": alice.password},
        token=alice.token,
    )

    assert answer.status == 200
    assert answer.json["old_email"] == "alice@example.com"
    assert answer.json["new_email"] == "Alice@new.example"
    assert client.login("alice@new.example").status == 200
    assert client.login("alice@example.com").status == 401
    assert client.register("alice@example.com").status == 201


def test_change_email_to_a_taken_address_is_409(client: Client, alice: Account, bob: Account) -> None:
    answer = client.post(
        f"/users/{alice.user_id}/change-email",
        {"new_email": "BOB@example.com", "current_password": alice.password},
        token=alice.token,
    )

    assert answer.status == 409
    assert answer.json["code"] == "email_taken"
    assert client.login("alice@example.com").status == 200


def test_an_admin_changes_another_users_email_without_a_password(
    client: Client, alice: Account, admin: Account
) -> None:
    answer = client.post(f"/users/{alice.user_id}/change-email", {"new_email": "a2@example.com"}, token=admin.token)

    assert answer.status == 200
    assert client.login("a2@example.com").status == 200


def test_an_admin_changing_their_own_email_still_needs_a_password(client: Client, admin: Account) -> None:
    answer = client.post(f"/users/{admin.user_id}/change-email", {"new_email": "r2@example.com"}, token=admin.token)

    assert answer.status == 422


def test_change_password_revokes_older_tokens_and_never_echoes(client: Client, alice: Account) -> None:
    second_device = client.login(alice.email).json["token"]

    answer = client.post(
        f"/users/{alice.user_id}/change-password",
        {"new_password": "an entirely new secret", "current_password": alice.password},
        token=alice.token,
    )

    assert answer.status == 200
    assert set(answer.json) == {"message"}
    assert "secret" not in answer.body.decode()
    assert client.get("/auth", token=alice.token).status == 401
    assert client.get("/auth", token=second_device).status == 401
    assert client.login(alice.email).status == 401
    fresh = client.login(alice.email, "an entirely new secret")
    assert fresh.status == 200
    assert client.get("/auth", token=fresh.json["token"]).status == 200


def test_change_password_enforces_the_policy(client: Client, alice: Account) -> None:
    answer = client.post(
        f"/users/{alice.user_id}/change-password",
        {"new_password": "password1", "current_password": alice.password},
        token=alice.token,
    )

    assert answer.status == 422
    assert "new_password" in answer.json["errors"]


def test_an_admin_resets_another_users_password(client: Client, alice: Account, admin: Account) -> None:
    answer = client.post(
        f"/users/{alice.user_id}/change-password", {"new_password": "reset by the admin"}, token=admin.token
    )

    assert answer.status == 200
    assert client.get("/auth", token=alice.token).status == 401
    assert client.login(alice.email, "reset by the admin").status == 200


@pytest.mark.parametrize("field", ["nickname", "name", "surname"])
def test_a_profile_change_says_what_changed(client: Client, alice: Account, field: str) -> None:
    answer = client.post(f"/users/{alice.user_id}/change-{field}", {f"new_{field}": "Renamed"}, token=alice.token)

    assert answer.json["message"] == f"{field.title()} changed"


def test_a_missing_or_wrong_current_password_says_so(client: Client, alice: Account) -> None:
    path = f"/users/{alice.user_id}/change-password"

    missing = client.post(path, {"new_password": "an entirely new secret"}, token=alice.token)
    wrong = client.post(path, {"new_password": "an entirely new secret", "current_password": "x"}, token=alice.token)

    assert (missing.status, missing.json["code"], missing.json["detail"]) == (
        422,
        "validation_failed",
        "current_password is required",
    )
    assert missing.json["errors"] == {"current_password": ["Missing data for required field."]}
    assert (wrong.status, wrong.json["code"], wrong.json["detail"]) == (
        403,
        "wrong_password",
        "the current password is wrong",
    )
    assert client.login(alice.email).status == 200  # the password did not change


def test_a_wrong_current_password_counts_against_the_accounts_login_limit(
    make_services: Callable[..., Services],
) -> None:
    """Confirmations share the login limit (3 here): a correct one gives its attempt back."""
    client = Client(make_services(login_max_failures_per_account=3))
    alice, bob = client.account("alice@example.com"), client.account("bob@example.com")
    path = f"/users/{alice.user_id}/change-email"

    def confirm(password: str) -> int:
        body = {"new_email": bob.email, "current_password": password}  # taken: a correct one answers 409
        return client.post(path, body, token=alice.token).status

    statuses = [confirm("wrong 1"), confirm("wrong 2"), *(confirm(alice.password) for _ in range(3))]
    statuses += [confirm("wrong 3"), confirm(alice.password)]

    assert statuses == [403, 403, 409, 409, 409, 403, 429]
    assert client.login(alice.email).status == 429
    assert client.login(bob.email).status == 200
