"""The session function (functions.chats.session) on plain values: what each front door that
translates to it (the runner's ASGI socket, API Gateway's $connect/$default) answers alike."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from functions.chats import session
from lib.chats.engine import ChatEngine
from lib.errors import ApiError, RateLimited, ServiceUnavailable
from lib.services import Services, reset_services
from tests.support.client import Client
from tests.unit.functions.chats.session_harness import ScriptedModel, Socket, new_chat

CONTEXT = {
    "connectionId": "conn-1",
    "domainName": "ws1.execute-api.eu-west-1.amazonaws.com",
    "stage": "prod",
    "requestId": "r",
    "apiId": "ws",
}


@pytest.fixture
def lambda_container(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[Services], None]]:
    """Install services as a Lambda container holds them, with a cold engine."""
    from lib.http.background_loop import run_coroutine
    from lib.platform import aws_ws

    monkeypatch.setattr(aws_ws, "_engine", None)
    yield reset_services
    reset_services(None)
    if aws_ws._engine is not None:  # its model client's HTTP session lives on the background loop
        run_coroutine(aws_ws._engine.llm.close())


def test_the_socket_limit_counts_the_sockets_a_process_holds(make_services: Callable[..., Services]) -> None:
    services = make_services(sockets_per_user=1)
    client = Client(services)
    user = client.account()
    query = {"auth_token": user.token}

    async def admit_twice() -> tuple[session.Admission, str]:
        engine = ChatEngine(services, ScriptedModel())
        first = session.admit(services, engine, user.user_id, new_chat(client, user), query)
        await session.on_open(engine, first, Socket())
        with pytest.raises(RateLimited) as crowded:
            session.admit(services, engine, user.user_id, first.chat.chat_id, query)
        await engine.shutdown(1)
        return session.admit(services, None, user.user_id, first.chat.chat_id, query), crowded.value.code

    without_process, code = asyncio.run(admit_twice())

    assert code == "too_many_sessions"
    assert without_process.claims.user_id == user.user_id  # API Gateway: no process holds the sockets


def test_a_failing_frame_costs_one_error_frame_never_the_session(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    client = Client(services)
    user = client.account()
    admission = session.admit(services, None, user.user_id, new_chat(client, user), {"auth_token": user.token})
    failures: list[Exception] = [ServiceUnavailable("the cache is down"), RuntimeError("a bug")]

    async def talk() -> Socket:
        engine = ChatEngine(services, ScriptedModel())
        socket = Socket()
        connection = await session.on_open(engine, admission, socket)
        await session.on_message(engine, connection, None)  # a binary frame

        async def failing(*_: Any) -> None:
            raise failures.pop(0)

        engine.receive = failing  # type: ignore[method-assign]
        await session.on_message(engine, connection, '{"type": "stop"}')
        await session.on_message(engine, connection, '{"type": "stop"}')
        assert not connection.closed
        session.on_close(engine, connection)
        await engine.shutdown(1)
        return socket

    with caplog.at_level(logging.ERROR, logger="kiroshi.chat"):
        socket = asyncio.run(talk())

    assert socket.kinds() == ["session", "error", "error", "error"]
    assert [f["code"] for f in socket.frames[1:]] == ["unsupported_frame", "dependency_unavailable", "internal_error"]
    assert [r.getMessage() for r in caplog.records] == ["chat frame failed"]


def test_api_gateway_refuses_what_the_runner_refuses(
    make_services: Callable[..., Services], lambda_container: Callable[[Services], None]
) -> None:
    import lambda_handlers as aws

    services = make_services()
    lambda_container(services)
    client = Client(services)
    user = client.account()
    chat_id = new_chat(client, user)
    query = {"user_id": user.user_id, "chat_id": chat_id, "auth_token": user.token}

    def connect(**changes: str) -> tuple[int, str | None]:
        answer = aws.chat_connect({"requestContext": CONTEXT, "queryStringParameters": {**query, **changes}}, None)
        return answer["statusCode"], json.loads(answer["body"])["code"] if "body" in answer else None

    assert connect(auth_token="") == (401, "missing_token")
    assert connect(chat_id="nope") == (404, "chat_not_found")
    assert connect(last_index="two") == (422, "validation_failed")
    assert connect(last_index="2", session_token="unknown") == (200, None)

    with pytest.raises(ApiError) as refused:
        session.admit(services, None, user.user_id, chat_id, {"auth_token": user.token, "last_index": "two"})
    assert refused.value.status == 422


def _frames(data: bytes) -> list[dict[str, Any]]:
    """moto concatenates what was posted to a connection: split it back into JSON frames."""
    decoder, text, frames, at = json.JSONDecoder(), data.decode(), [], 0
    while at < len(text):
        frame, at = decoder.raw_decode(text, at)
        frames.append(frame)
    return frames


def test_api_gateway_resumes_from_the_last_index_the_client_saw(
    make_services: Callable[..., Services], lambda_container: Callable[[Services], None]
) -> None:
    import boto3
    from moto import mock_aws
    from moto.apigatewaymanagementapi.models import apigatewaymanagementapi_backends

    import lambda_handlers as aws
    from tests.support.fake_openai import FakeOpenAI

    fake = FakeOpenAI(tokens=5).serve_in_thread()
    services = make_services(openai_base_url=fake.base_url, openai_api_key="k")
    lambda_container(services)
    client = Client(services)
    user = client.account()
    query = {"user_id": user.user_id, "chat_id": new_chat(client, user), "auth_token": user.token}
    try:
        with mock_aws():
            boto3.setup_default_session(region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="y")
            first = {**CONTEXT, "connectionId": "conn-1"}
            aws.chat_connect({"requestContext": first, "queryStringParameters": query}, None)
            message = json.dumps({"type": "message", "content": "hello [delay=5]"})  # a delta per token
            aws.chat_default({"requestContext": first, "body": message}, None)
            backend = apigatewaymanagementapi_backends["123456789012"]["eu-west-1"]
            seen = _frames(backend.connections["conn-1"].data)
            token = seen[0]["session_token"]

            again = {**CONTEXT, "connectionId": "conn-2"}
            resume = {**query, "session_token": token, "last_index": "2"}
            aws.chat_connect({"requestContext": again, "queryStringParameters": resume}, None)
            aws.chat_default({"requestContext": again, "body": json.dumps({"type": "stop"})}, None)
            resumed = _frames(backend.connections["conn-2"].data)
    finally:
        fake.stop()

    assert [f.get("index") for f in seen[1:-1]] == [0, 1, 2, 3, 4]
    assert resumed[0] == {"type": "session", "session_token": token}
    assert resumed[1:4] == seen[4:]  # deltas 3 and 4, and `done`
    assert resumed[4]["code"] == "nothing_to_stop"
