from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from lib.services import Services
from tests.conftest import ADMIN_EMAIL
from tests.support.client import Client


def test_register_answers_the_created_user_without_secrets(client: Client) -> None:
    answer = client.register("Grace.Hopper@Navy.MIL ", nickname="amazing", name="Grace", surname="Hopper")

    assert answer.status == 201
    assert answer.headers["content-type"] == "application/json"
    body = answer.json
    assert body["message"]
    user = body["created_user"]
    assert set(user) == {"user_id", "nickname", "name", "surname", "email"}
    assert user["email"] == "Grace.Hopper@navy.mil"  # trimmed, domain lower-cased
    assert (user["nickname"], user["name"], user["surname"]) == ("amazing", "Grace", "Hopper")
    assert "password" not in answer.body.decode().lower()


def test_the_same_email_in_another_case_is_taken(client: Client) -> None:
    assert client.register("ada@example.com").status == 201

    answer = client.register("ADA@Example.com")

    assert answer.status == 409
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json["code"] == "email_taken"
    assert answer.json["status"] == 409


@pytest.mark.parametrize(
    ("password", "reason"),
    [("short1!", "at least 8"), ("x" * 129, "at most 128"), ("password123", "too common"), ("Qwerty123", "common")],
)
def test_weak_passwords_are_refused_with_the_field_named(client: Client, password: str, reason: str) -> None:
    answer = client.register(password=password)

    assert answer.status == 422
    assert answer.json["code"] == "validation_failed"
    assert reason in " ".join(answer.json["errors"]["password"])


@pytest.mark.parametrize("missing", ["email", "nickname", "name", "surname", "password"])
def test_every_field_is_required(client: Client, missing: str) -> None:
    body = {"email": "x@example.com", "nickname": "n", "name": "N", "surname": "S", "password": "a fine password"}
    del body[missing]

    answer = client.post("/users/register", body)

    assert answer.status == 422
    assert list(answer.json["errors"]) == [missing]


@pytest.mark.parametrize(
    "extra", [{"role": "admin"}, {"user_id": "chosen"}, {"created_at": "2020-01-01T00:00:00Z"}, {"is_admin": True}]
)
def test_mass_assignment_is_refused(client: Client, extra: dict[str, object]) -> None:
    answer = client.register(**extra)  # type: ignore[arg-type]

    assert answer.status == 422
    assert set(answer.json["errors"]) == set(extra)


@pytest.mark.parametrize(
    "email", ["", "no-at-sign", "two@@example.com", "a@b", "spaces in@example.com", "x" * 250 + "@example.com"]
)
def test_malformed_emails_are_refused(client: Client, email: str) -> None:
    answer = client.register(email)

    assert answer.status == 422
    assert "email" in answer.json["errors"]


@pytest.mark.parametrize("value", ["", "   ", "x" * 65, "tab\there", 42, None])
def test_names_must_be_short_printable_strings(client: Client, value: object) -> None:
    answer = client.register(nickname=value)  # type: ignore[arg-type]

    assert answer.status == 422
    assert "nickname" in answer.json["errors"]


def test_fifty_concurrent_registrations_of_one_email_create_one_account(client: Client) -> None:
    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(
            pool.map(lambda i: client.register("race@Example.com" if i % 2 else "RACE@example.com"), range(50))
        )

    statuses = sorted(a.status for a in answers)
    assert statuses == [201] + [409] * 49
    assert client.login("race@example.com").status == 200


def test_the_bootstrap_email_registers_an_admin(client: Client) -> None:
    admin = client.account(ADMIN_EMAIL)
    user = client.account("plain@example.com")

    assert client.get("/auth", token=admin.token).json["metadata"]["role"] == "admin"
    assert client.get("/auth", token=user.token).json["metadata"]["role"] == "user"


def test_registrations_are_limited_per_client_address(make_services: Callable[..., Services]) -> None:
    services = make_services(register_max_per_address=3)
    here, elsewhere = Client(services, "10.0.0.1"), Client(services, "10.0.0.2")

    statuses = [here.register().status for _ in range(4)]

    assert statuses == [201, 201, 201, 429]
    assert int(here.register().headers["retry-after"]) > 0
    assert elsewhere.register().status == 201
