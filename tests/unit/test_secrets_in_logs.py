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
