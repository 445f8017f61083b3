"""The dispatch pipeline's answers to bad requests: always problem+json, never a 500."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from lib.services import Services
from tests.support.client import Account, Client


def _problem(answer: object, status: int, code: str) -> None:
    assert answer.status == status, answer  # type: ignore[attr-defined]
    assert answer.headers["content-type"] == "application/problem+json"  # type: ignore[attr-defined]
    body = answer.json  # type: ignore[attr-defined]
    assert body["status"] == status
    assert body["code"] == code
    assert body["title"] and body["detail"] and body["type"]


def test_unknown_paths_are_404(client: Client) -> None:
    _problem(client.get("/nothing/here"), 404, "no_such_endpoint")


def test_wrong_methods_are_405_with_allow(client: Client) -> None:
    answer = client.request("PUT", "/users/register")

    _problem(answer, 405, "method_not_allowed")
    assert "POST" in answer.headers["allow"]


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
def test_bodies_must_be_json(client: Client, content_type: str | None) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    _problem(client.request("POST", "/users/login", body=b"{}", headers=headers), 415, "unsupported_media_type")


def test_json_with_a_charset_is_fine(client: Client) -> None:
    answer = client.request(
        "POST", "/users/login", body=b"{}", headers={"Content-Type": "application/json; charset=utf-8"}
    )
    assert answer.status == 422


@pytest.mark.parametrize("body", [b"", b"{", b"{'a': 1}", b"\xff\xfe", b'{"a": NaN}', b"[1,2"])
def test_malformed_json_is_400(client: Client, body: bytes) -> None:
    _problem(
        client.request("POST", "/users/login", body=body, headers={"Content-Type": "application/json"}),
        400,
        "malformed_json",
    )


@pytest.mark.parametrize("body", [b"[]", b"42", b'"text"', b"null"])
def test_json_that_is_not_an_object_is_422(client: Client, body: bytes) -> None:
    _problem(
        client.request("POST", "/users/login", body=body, headers={"Content-Type": "application/json"}),
        422,
        "validation_failed",
    )


def test_oversized_bodies_are_413(make_services: Callable[..., Services]) -> None:
    client = Client(make_services(max_body_bytes=2048))
    body = {"email": "a@example.com", "password": "x" * 4096}
    _problem(client.post("/users/login", body), 413, "body_too_large")


def test_wrong_types_name_the_fields(client: Client) -> None:
    answer = client.post("/users/login", {"email": 42, "password": ["x"]})

    _problem(answer, 422, "validation_failed")
    assert set(answer.json["errors"]) == {"email", "password"}


def test_every_answer_carries_a_request_id(client: Client, alice: Account) -> None:
    chosen = client.get("/auth", token=alice.token, headers={"X-Request-Id": "trace-123"})
    generated = client.get("/auth", token=alice.token, headers={"X-Request-Id": "bad id\n"})

    assert chosen.headers["x-request-id"] == "trace-123"
    assert generated.headers["x-request-id"] not in ("", "bad id\n")
    other = client.get("/auth", token=alice.token)
    assert other.headers["x-request-id"] != generated.headers["x-request-id"]


def test_answers_with_keys_that_are_not_strings_are_still_json() -> None:
    from lib.http import json

    assert json.loads(json.dumps({"usage": {1: "a", 2: None}})) == {"usage": {"1": "a", "2": None}}
