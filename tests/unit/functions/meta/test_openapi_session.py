"""The chat session's OpenAPI entry: its query, its 101, and each refusal the runner really answers."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable, MutableMapping
from typing import Any

import pytest

from functions.routes import ROUTES
from lib.http.routing import Router
from lib.services import Services
from local_runner.app import RunnerApp
from tests.support.client import Account, Client
from tests.unit.functions.chats.session_harness import new_chat

SESSION = next(route for route in ROUTES if route.websocket)


def _entry(client: Client) -> dict[str, Any]:
    return client.get("/openapi.json").json["paths"][SESSION.path]["get"]  # type: ignore[no-any-return]


def _upgrade(services: Services, path: str, query: str) -> tuple[int, str | None]:
    """Open a WebSocket on the runner (ASGI, as uvicorn drives it): 101 and None, or the refusal's
    status and problem code."""
    app = RunnerApp(services, Router(ROUTES))
    inbox: list[MutableMapping[str, Any]] = [{"type": "websocket.connect"}, {"type": "websocket.disconnect"}]
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> MutableMapping[str, Any]:
        return inbox.pop(0)

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "websocket",
        "path": path,
        "query_string": query.encode(),
        "headers": [],
        "client": ("127.0.0.1", 40000),
        "extensions": {"websocket.http.response": {}},
    }
    try:
        asyncio.run(app(scope, receive, send))
    finally:
        app.close()
    if sent[0]["type"] == "websocket.accept":
        assert json.loads(sent[1]["text"])["type"] == "session"
        return 101, None
    assert sent[0]["type"] == "websocket.http.response.start"
    return sent[0]["status"], json.loads(sent[1]["body"])["code"]


def test_the_entry_has_the_query_the_101_and_no_bearer_scheme(client: Client) -> None:
    entry = _entry(client)

    query = {p["name"]: p for p in entry["parameters"] if p["in"] == "query"}
    assert set(query) == {"auth_token", "session_token", "last_index"}
    assert query["auth_token"]["required"] is True
    assert "ticket" in query["auth_token"]["description"]
    assert not query["session_token"]["required"] and not query["last_index"]["required"]
    assert query["last_index"]["schema"]["type"] == "integer"
    assert entry["security"] == []
    assert "Switching Protocols" in entry["responses"]["101"]["description"]
    assert "200" not in entry["responses"]


def _documented(entry: dict[str, Any], status: int) -> set[str]:
    """The problem codes the entry names for `status`."""
    description = entry["responses"][str(status)]["description"]
    return set(re.findall(r"\w+", description.partition("`code`:")[2]))


def test_every_refusal_the_runner_answers_is_documented_with_its_code(
    client: Client, alice: Account, bob: Account, make_services: Callable[..., Services]
) -> None:
    services = client.services
    chat_id = new_chat(client, alice)
    path = f"/chats/{alice.user_id}/{chat_id}/session"
    ticket = client.post(f"/chats/{alice.user_id}/{chat_id}/ticket", token=alice.token).json["ticket"]
    revoked = client.login(alice.email).json["token"]
    client.post(f"/users/{alice.user_id}/logout", token=revoked)
    crowded = make_services(sockets_per_user=0)
    carol = Client(crowded).account()
    carols_chat = new_chat(Client(crowded), carol)

    answers = {
        "no token": _upgrade(services, path, ""),
        "not a token": _upgrade(services, path, "auth_token=nope"),
        "unknown ticket": _upgrade(services, path, "auth_token=kt_nope"),
        "revoked token": _upgrade(services, path, f"auth_token={revoked}"),
        "another user's path": _upgrade(services, path, f"auth_token={bob.token}"),
        "no such chat": _upgrade(services, f"/chats/{alice.user_id}/nope/session", f"auth_token={alice.token}"),
        "bad last_index": _upgrade(services, path, f"auth_token={alice.token}&last_index=two"),
        "too many sessions": _upgrade(
            crowded, f"/chats/{carol.user_id}/{carols_chat}/session", f"auth_token={carol.token}"
        ),
        "a ticket": _upgrade(services, path, f"auth_token={ticket}"),
        "a token, resuming": _upgrade(services, path, f"auth_token={alice.token}&session_token=x&last_index=3"),
    }

    entry = _entry(client)
    assert answers["a ticket"] == answers["a token, resuming"] == (101, None)
    refusals = {status: code for status, code in answers.values() if code is not None}
    assert set(refusals) == {401, 403, 404, 422, 429}
    for status, code in answers.values():
        if code is not None:
            assert code in _documented(entry, status), (status, code)
    assert set(entry["responses"]) == {"101", "401", "403", "404", "422", "426", "429", "503"}


@pytest.mark.parametrize("token", ["alice", "none"])
def test_a_plain_http_request_is_answered_as_documented(client: Client, alice: Account, token: str) -> None:
    chat_id = new_chat(client, alice)

    answer = client.get(f"/chats/{alice.user_id}/{chat_id}/session", token=alice.token if token == "alice" else None)

    assert answer.json["code"] in _documented(_entry(client), answer.status)
