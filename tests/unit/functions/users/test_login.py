from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from lib.accounts import repository as users
from lib.services import Services
from tests.support.client import Account, Client
from tests.support.clock import MovableClock


def test_login_answers_a_bearer_token_that_works(client: Client, alice: Account) -> None:
    answer = client.login("alice@example.com")

    assert answer.status == 200
    body = answer.json
    assert body["user_id"] == alice.user_id
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["message"]
    assert client.get("/auth", token=body["token"]).json["user_id"] == alice.user_id


def test_login_ignores_the_case_of_the_email(client: Client, alice: Account) -> None:
    assert client.login(" ALICE@example.COM").status == 200


def test_unknown_email_and_wrong_password_look_the_same(client: Client, alice: Account) -> None:
    wrong_password = client.login("alice@example.com", "not her password")
    unknown_email = client.login("nobody@example.com", "not her password")

    assert wrong_password.status == unknown_email.status == 401
    strip = lambda a: {k: v for k, v in a.json.items()}  # noqa: E731
    assert strip(wrong_password) == strip(unknown_email)
    assert (wrong_password.json["code"], wrong_password.json["detail"]) == (
        "invalid_credentials",
        "invalid email or password",
    )


def test_login_records_the_last_login_time(client: Client, alice: Account, clock: MovableClock) -> None:
    first = client.get("/auth", token=alice.token).json["metadata"]["last_login_at"]
    clock.advance(90)
    token = client.relogin(alice)

    latest = client.get("/auth", token=token).json["metadata"]["last_login_at"]
    assert first is not None
    moved = dt.datetime.fromisoformat(latest) - dt.datetime.fromisoformat(first)
    assert dt.timedelta(seconds=90) <= moved < dt.timedelta(seconds=100)


def test_a_login_time_for_an_account_deleted_meanwhile_creates_nothing(client: Client, alice: Account) -> None:
    verified = users.get_user(client.services.db, alice.user_id)  # the login that raced the delete read it
    assert verified is not None
    client.delete(f"/users/{alice.user_id}", token=alice.token)

    assert users.record_login(client.services.db, verified, client.services.now()) is False
    assert client.services.db.one("SELECT * FROM user") == []


def test_failures_are_limited_per_account_and_the_window_reopens(
    make_services: Callable[..., Services], clock: object
) -> None:
    services = make_services(login_max_failures_per_account=5, login_window_seconds=600)
    client = Client(services)
    client.register("target@example.com")

    failures = [client.login("target@example.com", f"guess number {i}").status for i in range(5)]
    locked = client.login("target@example.com", "guess number 6")
    locked_even_with_the_password = client.login("target@example.com")

    assert failures == [401] * 5
    assert locked.status == 429
    assert 0 < int(locked.headers["retry-after"]) <= 600
    assert locked.json["code"] == "rate_limited"
    assert locked_even_with_the_password.status == 429
    clock.advance(601)  # type: ignore[attr-defined]
    assert client.login("target@example.com").status == 200


def test_an_unknown_account_is_throttled_like_a_known_one(make_services: Callable[..., Services]) -> None:
    client = Client(make_services(login_max_failures_per_account=2))

    statuses = [client.login("ghost@example.com", "some password").status for _ in range(3)]

    assert statuses == [401, 401, 429]


def test_correct_passwords_do_not_use_up_the_limit(make_services: Callable[..., Services]) -> None:
    client = Client(make_services(login_max_failures_per_account=2))
    client.register("busy@example.com")

    assert [client.login("busy@example.com").status for _ in range(5)] == [200] * 5


def test_failures_are_limited_per_client_address(make_services: Callable[..., Services]) -> None:
    services = make_services(login_max_failures_per_address=3)
    attacker, neighbour = Client(services, "203.0.113.7"), Client(services, "203.0.113.8")

    statuses = [attacker.login(f"victim{i}@example.com", "some password").status for i in range(4)]

    assert statuses == [401, 401, 401, 429]
    assert neighbour.login("victim9@example.com", "some password").status == 401
