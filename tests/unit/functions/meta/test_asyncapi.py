"""GET /asyncapi.json: valid AsyncAPI 3.0, and what the engine really accepts and sends."""

from __future__ import annotations

import asyncio
import functools
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import orjson
import pytest

import lib.llm
from functions.routes import ROUTES
from lib.chats import engine as engine_module
from lib.chats.engine import ChatEngine
from lib.services import Services
from tests.support.client import Client
from tests.unit.functions.chats.session_harness import ScriptedModel, new_chat, open_session, until

ROOT = Path(__file__).resolve().parents[4]
SCHEMA = ROOT / "tests" / "support" / "asyncapi" / "asyncapi-3.0.0.schema.json"
SESSION = next(route for route in ROUTES if route.websocket)


@functools.cache
def _document() -> dict[str, Any]:
    from lib.asyncapi import asyncapi_document

    return asyncapi_document(ROUTES)


def _payload(name: str) -> dict[str, Any]:
    return _document()["components"]["messages"][name]["payload"]  # type: ignore[no-any-return]


def _names(action: str) -> set[str]:
    """The frames the document says the server receives (`receive`) or sends (`send`)."""
    operations = _document()["operations"].values()
    return {ref["$ref"].rsplit("/", 1)[1] for op in operations if op["action"] == action for ref in op["messages"]}


def _conforms(name: str, frame: dict[str, Any]) -> bool:
    return jsonschema.Draft7Validator(_payload(name)).is_valid(frame)


def _example(name: str) -> dict[str, Any]:
    """The smallest frame the document allows."""
    samples = {"string": "hello", "integer": 0}
    props = _payload(name)["properties"]
    return {key: props[key].get("enum", [samples[props[key]["type"]]])[0] for key in _payload(name)["required"]}


def _replies(services: Services, texts: list[str]) -> list[dict[str, Any]]:
    """The frames a fresh session answers to each client frame in `texts`, after its `session` frame."""
    client = Client(services)
    user = client.account()
    chat_id = new_chat(client, user)

    async def talk() -> list[dict[str, Any]]:
        engine = ChatEngine(services, ScriptedModel(words=3))
        connection, socket = await open_session(engine, services, user, chat_id)
        for text in texts:
            seen = len(socket.frames)
            await engine.receive(connection, text)
            if socket.frames[seen:] and socket.frames[-1]["type"] == "error":
                continue
            await until(lambda seen=seen: any(f["type"] in ("done", "error") for f in socket.frames[seen:]))
        await engine.shutdown(1)
        return socket.frames

    return asyncio.run(talk())


def test_the_document_is_served_and_valid_against_the_official_asyncapi_3_schema(client: Client) -> None:
    answer = client.get("/asyncapi.json")

    assert answer.status == 200
    document = answer.json
    jsonschema.Draft7Validator(json.loads(SCHEMA.read_text())).validate(document)
    assert document["asyncapi"] == "3.0.0"
    (channel,) = document["channels"].values()
    assert channel["address"] == SESSION.path
    assert set(channel["parameters"]) == {"user_id", "chat_id"}
    query = channel["bindings"]["ws"]["query"]
    assert set(query["properties"]) == {"auth_token", "session_token", "last_index"}
    assert query["required"] == ["auth_token"]
    assert set(document["x-close-codes"]) == {"1001", "1007", "1009", "4401"}


def test_the_documented_client_frames_are_exactly_those_the_engine_accepts(services: Services) -> None:
    documented = _names("receive")
    texts = [orjson.dumps(_example(name)).decode() for name in sorted(documented)]

    frames = _replies(services, [*texts, '{"type": "ping"}'])

    errors = [f for f in frames if f["type"] == "error"]
    assert documented == {"message", "stop"}
    assert "done" in {f["type"] for f in frames}  # the example message got its reply
    assert [f["code"] for f in errors] == ["nothing_to_stop", "unknown_type"]  # stop: no reply was running
    named = set(re.findall(r'"type": "(\w+)"', errors[-1]["message"]))
    assert named == documented


@pytest.mark.parametrize(
    "frame",
    [
        {"type": "message", "content": "hi"},
        {"type": "message", "content": " \n\u00a0"},
        {"type": "message", "content": ""},
        {"type": "message", "content": 5},
        {"type": "message"},
        {"type": "message", "content": "hi", "stream": True},
        {"type": "stop"},
        {"type": "stop", "reason": "enough"},
    ],
)
def test_the_engine_refuses_a_client_frame_exactly_when_the_document_does(
    services: Services, frame: dict[str, Any]
) -> None:
    (reply,) = [f for f in _replies(services, [orjson.dumps(frame).decode()]) if f["type"] in ("done", "error")]

    refused = reply["type"] == "error" and reply["code"] == "invalid_message"
    assert refused is not _conforms(frame["type"], frame)


def test_invalid_messages_are_told_what_the_document_says(services: Services) -> None:
    texts = ['{"type": "message", "content": "hi", "extra": 1}', '{"type": "message", "content": "  "}']

    errors = [f for f in _replies(services, texts) if f["type"] == "error"]

    assert [f["message"] for f in errors] == [
        "a message has only `type` and `content`",
        "`content` must be a non-empty string",
    ]


def test_the_frames_the_engine_sends_are_the_documented_ones(services: Services) -> None:
    frames = _replies(services, ['{"type": "message", "content": "hi"}', "not json", '{"type": "stop"}'])
    client = Client(services)
    user = client.account()

    async def stopped() -> dict[str, Any]:
        gate = asyncio.Event()
        engine = ChatEngine(services, ScriptedModel(words=5, gate=gate))
        connection, socket = await open_session(engine, services, user, new_chat(client, user))
        await engine.receive(connection, '{"type": "message", "content": "hi"}')
        await until(lambda: "delta" in socket.kinds())
        await engine.receive(connection, '{"type": "stop"}')
        await until(lambda: "done" in socket.kinds())
        await engine.shutdown(1)
        return next(f for f in socket.frames if f["type"] == "done")

    frames.append(asyncio.run(stopped()))

    assert {f["type"] for f in frames} == _names("send") == {"session", "delta", "done", "error"}
    assert frames[-1]["finish_reason"] == "stopped"
    for frame in frames:
        assert _conforms(frame["type"], frame), frame
        assert set(frame) == set(_payload(frame["type"])["properties"]), frame  # no undocumented field


def _codes_in_source() -> set[str]:
    """Every `error` frame code written in the session's code, and every model failure's code."""
    codes: set[str] = set()
    for path in [*(ROOT / "lib" / "chats").glob("*.py"), ROOT / "local_runner" / "app.py", ROOT / "lib/llm/openai.py"]:
        text = path.read_text()
        codes |= set(re.findall(r'error_frame\(\s*"(\w+)"', text))
        codes |= set(re.findall(r'UpstreamError\(\s*"(\w+)"', text))
        if path.name == "engine.py":
            codes |= set(re.findall(r'code="(\w+)"', text))
    pending: list[type] = [lib.llm.UpstreamError]
    while pending:
        cls = pending.pop()
        pending += cls.__subclasses__()
        codes |= {cls.__dict__["default_code"]} if "default_code" in cls.__dict__ else set()
    return codes


def test_every_error_code_the_session_can_send_is_documented() -> None:
    documented = set(_payload("error")["properties"]["code"]["enum"])

    assert _codes_in_source() <= documented
    assert {"internal_error", "dependency_unavailable", "invalid_message", "upstream_timeout"} <= documented


def test_the_engines_close_codes_are_documented() -> None:
    close_codes = set(_document()["x-close-codes"])

    assert {str(engine_module.CLOSE_REVOKED), str(engine_module.CLOSE_GOING_AWAY)} <= close_codes
