"""Passwords and tokens never appear in a log line or in an answer where they do not belong."""

from __future__ import annotations

import logging

import pytest

from lib.logging import JsonFormatter
from tests.support.client import Client


def test_no_password_or_token_is_ever_logged(
    client: Client, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    password, new_password = "first secret passphrase", "second secret passphrase"
    user = client.register("leak@example.com", password).json["created_user"]
    token = client.login("leak@example.com", password).json["token"]
    client.login("leak@example.com", "wrong secret passphrase")
    client.get("/auth", token=token, query={"auth_token": token})
    answer = client.post(
        f"/users/{user['user_id']}/change-password",
        {"new_password": new_password, "current_password": password},
        token=token,
    )
    client.post(f"/users/{user['user_id']}/logout", token=token)

    assert answer.status == 200
    formatter = JsonFormatter()
    lines = [formatter.format(record) for record in caplog.records] + capsys.readouterr().out.splitlines()
    assert any('"route":"users.login"' in line for line in lines)
    for secret in (password, new_password, "wrong secret passphrase", token, token.split(".")[2]):
        assert not any(secret in line for line in lines), secret
        assert secret not in answer.body.decode()


def test_no_route_logs_or_echoes_a_secret(
    client: Client, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    from functions.routes import ROUTES

    caplog.set_level(logging.DEBUG)
    secret_password = "an unguessable secret passphrase"
    account = client.account("every@example.com", secret_password)
    chat_id = client.post(f"/chats/{account.user_id}", {"model": "gpt-4o-mini"}, token=account.token).json["chat_id"]
    ticket_answer = client.post(f"/chats/{account.user_id}/{chat_id}/ticket", token=account.token)
    ticket = ticket_answer.json["ticket"]
    body = {"password": secret_password, "current_password": secret_password, "new_password": secret_password}
    answers = {}
    for route in ROUTES:
        if route.name in ("users.delete", "users.logout", "users.change_password", "compat.chat_completions"):
            continue  # they would end the session the loop needs; covered by the test above
        path = route.path.replace("{user_id}", account.user_id).replace("{chat_id}", chat_id)
        for param in route.params:
            path = path.replace("{" + param + "}", "x")
        answer = client.request(
            route.method,
            path,
            json_body=body if route.body else None,
            token=account.token,
            query={"auth_token": ticket, "session_token": account.token},
        )
        answers[route.name] = answer.body.decode(errors="replace")

    lines = [JsonFormatter().format(record) for record in caplog.records] + capsys.readouterr().out.splitlines()
    for secret in (secret_password, account.token, ticket):
        assert not [line for line in lines if secret in line], secret
        assert not [name for name, text in answers.items() if secret in text], secret
