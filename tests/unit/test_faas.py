"""The FaaS front doors: the same handlers behind API Gateway (HTTP and WebSocket) events."""

from __future__ import annotations

import base64
import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from functions.routes import ROUTES
from lib.http.background_loop import run_coroutine
from lib.platform import aws_ws
from lib.platform.serverless import render
from lib.services import Services, get_services, reset_services
from tests.support.client import PASSWORD, Client

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def installed(services: Services) -> Iterator[Services]:
    """The test's services as the process-wide ones, as a Lambda container would hold them."""
    reset_services(services)
    yield services
    reset_services(None)


def http_event(method: str, path: str, body: Any = None, token: str | None = None, **extra: Any) -> dict[str, Any]:
    """An API Gateway HTTP API (payload 2.0) event, as AWS sends it."""
    headers = {"content-type": "application/json", "user-agent": "curl/8"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "api",
            "domainName": "api.example.com",
            "stage": "$default",
            "requestId": "req-1",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.9",
                "userAgent": "curl/8",
            },
        },
        "body": json.dumps(body) if body is not None else None,
        "isBase64Encoded": False,
        **extra,
    }


def test_serverless_yml_is_generated_from_the_route_table() -> None:
    committed = (ROOT / "serverless.yml").read_text()
    assert committed == render()
    functions = yaml.safe_load(committed)["functions"]
    for route in ROUTES:
        if route.websocket:
            continue
        event = functions[route.target]["events"][0]["httpApi"]
        assert (event["method"], event["path"]) == (route.method, route.path)
        assert functions[route.target]["handler"] == f"lambda_handlers.{route.target}"
    routes = {f["events"][0]["websocket"]["route"] for n, f in functions.items() if n.startswith("chat_")}
    assert routes == {"$connect", "$default", "$disconnect"}


def test_lambda_serves_the_account_lifecycle_from_api_gateway_events(installed: Services) -> None:
    import lambda_handlers as aws

    body = {"email": "lambda@example.com", "nickname": "l", "name": "L", "surname": "A", "password": PASSWORD}
    created = aws.users_register(http_event("POST", "/users/register", body), None)
    login = aws.users_login(http_event("POST", "/users/login", {"email": body["email"], "password": PASSWORD}), None)
    token = json.loads(login["body"])["token"]
    user_id = json.loads(login["body"])["user_id"]
    me = aws.users_me(http_event("GET", "/auth", token=token), None)
    profile = aws.users_get(http_event("GET", f"/users/{user_id}", token=token), None)
    anonymous = aws.users_me(http_event("GET", "/auth"), None)

    assert created["statusCode"] == 201
    assert json.loads(me["body"])["email"] == "lambda@example.com"
    assert json.loads(profile["body"])["user_id"] == user_id
    assert anonymous["statusCode"] == 401
    assert anonymous["headers"]["content-type"] == "application/problem+json"


def test_a_cold_lambda_configures_its_logging_and_writes_each_access_line_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """No runner starts a Lambda: its first request configures logging from the environment, as
    it creates the services; each access line is on stdout when the handler returns."""
    import lambda_handlers as aws
    import lib.logging
    import lib.services

    for name, value in {
        "KIROSHI_DATABASE_URL": "mem://",
        "KIROSHI_DATA_DIR": str(tmp_path),
        "KIROSHI_JWT_SECRET": "lambda-secret-" + "l" * 40,
        "KIROSHI_LOG_LEVEL": "INFO",
        "KIROSHI_LOKI_URL": "",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(lib.services, "_logging_configured", False)
    monkeypatch.setattr(lib.logging, "_held", None)
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    reset_services(None)
    try:
        body = {"email": "cold@example.com", "nickname": "c", "name": "C", "surname": "L", "password": PASSWORD}
        created = aws.users_register(http_event("POST", "/users/register", body), None)
        registered = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
        login = aws.users_login(
            http_event("POST", "/users/login", {"email": body["email"], "password": PASSWORD}), None
        )
        token = json.loads(login["body"])["token"]
        me = aws.users_me(http_event("GET", "/auth", token=token), None)
        output = capsys.readouterr().out
        get_services().close()
    finally:
        reset_services(None)
        root.handlers[:] = handlers
        root.setLevel(level)

    [access] = [line for line in registered if line["logger"] == "kiroshi.access"]
    assert (access["route"], access["status"], access["path"]) == ("users.register", 201, "/users/register")
    assert access["request_id"] == created["headers"]["x-request-id"]
    lines = [json.loads(line) for line in output.splitlines()]
    assert [(line["route"], line["status"]) for line in lines] == [("users.login", 200), ("users.me", 200)]
    assert lines[1]["request_id"] == me["headers"]["x-request-id"]
    assert token not in output


def test_lambda_decodes_base64_bodies_and_encodes_binary_answers(installed: Services) -> None:
    import lambda_handlers as aws

    raw = json.dumps({"email": "b64@example.com", "password": "whatever it is"}).encode()
    event = http_event("POST", "/users/login") | {"body": base64.b64encode(raw).decode(), "isBase64Encoded": True}
    icon = aws.meta_docs_asset(http_event("GET", "/docs/favicon-32x32.png"), None)

    assert aws.users_login(event, None)["statusCode"] == 401  # parsed: a wrong login, not a 400
    assert icon["isBase64Encoded"] is True
    assert base64.b64decode(icon["body"]).startswith(b"\x89PNG")


def test_the_grouped_handler_routes_any_path(installed: Services) -> None:
    import lambda_handlers as aws

    assert aws.handler(http_event("GET", "/healthy"), None)["statusCode"] == 200
    assert aws.handler(http_event("GET", "/nowhere"), None)["statusCode"] == 404
    assert aws.handler(http_event("PUT", "/healthy"), None)["statusCode"] == 405


def _frames(data: bytes) -> list[dict[str, Any]]:
    """moto concatenates what was posted to a connection: split it back into JSON frames."""
    decoder, text, frames, at = json.JSONDecoder(), data.decode(), [], 0
    while at < len(text):
        frame, at = decoder.raw_decode(text, at)
        frames.append(frame)
    return frames


def test_the_chat_session_runs_on_api_gateway_websockets(make_services: Any) -> None:
    import boto3
    from moto import mock_aws
    from moto.apigatewaymanagementapi.models import apigatewaymanagementapi_backends

    import lambda_handlers as aws
    from tests.support.fake_openai import WORDS, FakeOpenAI

    fake = FakeOpenAI(tokens=5).serve_in_thread()
    services = make_services(openai_base_url=fake.base_url, openai_api_key="k")
    reset_services(services)
    try:
        client = Client(services)
        user = client.account("socket@example.com")
        chat_id = client.post(f"/chats/{user.user_id}", {"model": "gpt-4o-mini"}, token=user.token).json["chat_id"]
        context = {
            "connectionId": "conn-1",
            "domainName": "ws1.execute-api.eu-west-1.amazonaws.com",
            "stage": "prod",
            "requestId": "r",
            "apiId": "ws",
        }
        query = {"user_id": user.user_id, "chat_id": chat_id, "auth_token": user.token}
        with mock_aws():
            boto3.setup_default_session(region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="y")
            refused = aws.chat_connect(
                {"requestContext": context, "queryStringParameters": {**query, "auth_token": "bad"}}, None
            )
            connected = aws.chat_connect({"requestContext": context, "queryStringParameters": query}, None)
            message = json.dumps({"type": "message", "content": "hello from lambda"})
            answered = aws.chat_default({"requestContext": context, "body": message}, None)
            backend = apigatewaymanagementapi_backends["123456789012"]["eu-west-1"]
            frames = _frames(backend.connections["conn-1"].data)
            stored = client.get(f"/chats/{user.user_id}/{chat_id}", token=user.token).json["messages"]
            aws.chat_disconnect({"requestContext": context}, None)
            gone = aws.chat_default({"requestContext": context, "body": message}, None)
    finally:
        reset_services(None)
        if aws_ws._engine is not None:  # its model client's HTTP session lives on the background loop
            run_coroutine(aws_ws._engine.llm.close())
            aws_ws._engine = None
        fake.stop()

    assert refused["statusCode"] == 401
    assert (connected["statusCode"], answered["statusCode"], gone["statusCode"]) == (200, 200, 410)
    assert frames[0]["type"] == "session"
    assert [f["index"] for f in frames[1:-1]] == list(range(len(frames) - 2))
    assert "".join(f["content"] for f in frames[1:-1]) == stored[1]["content"] == "".join(WORDS[:5])
    assert frames[-1]["type"] == "done"
    assert [m["role"] for m in stored] == ["user", "assistant"]


def test_a_function_imports_only_the_clients_it_uses(tmp_path: Path) -> None:
    script = """
import json, sys
import main
from werkzeug.test import EnvironBuilder
from flask import Request
body = {"email": "lean@example.com", "nickname": "n", "name": "N", "surname": "S", "password": "lean passphrase 1"}
request = Request(EnvironBuilder(method="POST", path="/users/register", json=body).get_environ())
response = main.users_register(request)
assert response.status_code == 201, response.get_data()
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in
      ("openai", "nats", "redis", "surrealdb", "aiohttp", "requests", "boto3", "prometheus_client", "uvicorn"))))
"""
    env = {"KIROSHI_DATA_DIR": str(tmp_path), "KIROSHI_DATABASE_URL": "mem://", "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True
    ).stdout
    loaded = json.loads(out.strip().splitlines()[-1])

    assert not [m for m in loaded if m.split(".")[0] in ("openai", "nats", "redis", "aiohttp", "requests", "boto3")]
    assert "surrealdb" not in loaded  # only its engine extension, without the SDK's Python half
