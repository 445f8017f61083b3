"""`/v1/*` answers every error, those raised before the handler included, as OpenAI's error object
with the same status; every other route keeps problem+json."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import orjson
import pytest

from functions.routes import ROUTES
from lib.errors import UpstreamTimeout
from lib.llm import Usage
from lib.openapi import openapi_document
from lib.services import Services
from tests.support.client import Account, Client
from tests.unit.functions.chats.session_harness import ScriptedModel

HI = [{"role": "user", "content": "hi"}]


def _error(answer: Any, status: int) -> dict[str, Any]:
    assert answer.status == status, answer
    assert answer.headers["content-type"] == "application/json"
    assert set(answer.json) == {"error"}
    error: dict[str, Any] = answer.json["error"]
    assert set(error) == {"message", "type", "param", "code"}
    return error


@pytest.mark.parametrize("token", [None, "not-a-token"])
def test_a_missing_or_bad_token_is_invalid_api_key(client: Client, token: str | None) -> None:
    error = _error(client.post("/v1/chat/completions", {"model": "gpt-4o-mini", "messages": HI}, token=token), 401)

    assert (error["type"], error["code"], error["param"]) == ("invalid_request_error", "invalid_api_key", None)
    assert error["message"]
    assert _error(client.get("/v1/models", token=token), 401)["code"] == "invalid_api_key"


@pytest.mark.parametrize(
    ("fields", "param", "message"),
    [
        ({"n": 2}, "n", "n: only 1: Kiroshi answers one choice"),
        ({"temperature": 3}, "temperature", "temperature: Must be greater than or equal to 0"),
        ({"functions": []}, "functions", "functions: Unknown field"),
        ({"messages": [{"role": "wizard", "content": "x"}]}, "messages[0].role", "messages[0].role: Must be one of"),
        ({"tool_choice": "auto"}, "tool_choice", "tool_choice: only with tools"),
        ({"tools": [{"type": "function", "function": {"name": "a b"}}]}, "tools[0].function.name", "letters"),
    ],
)
def test_invalid_fields_are_named_with_their_reason(
    client: Client, alice: Account, fields: dict[str, Any], param: str, message: str
) -> None:
    body = {"model": "gpt-4o-mini", "messages": HI, **fields}

    error = _error(client.post("/v1/chat/completions", body, token=alice.token), 422)

    assert (error["type"], error["code"], error["param"]) == ("invalid_request_error", "validation_failed", param)
    assert message in error["message"], error


def test_errors_before_validation_keep_their_status(client: Client, alice: Account) -> None:
    def post(body: bytes, content_type: str = "application/json") -> Any:
        headers = {"content-type": content_type}
        return client.request("POST", "/v1/chat/completions", body=body, token=alice.token, headers=headers)

    assert _error(post(b"{not json"), 400)["code"] == "malformed_json"
    assert _error(post(b"{}", "text/plain"), 415)["code"] == "unsupported_media_type"
    too_large = _error(post(b" " * (client.services.settings.max_body_bytes + 1)), 413)
    assert (too_large["type"], too_large["code"]) == ("invalid_request_error", "body_too_large")


def test_a_model_outside_the_plan_is_404_model_not_found(client: Client, alice: Account) -> None:
    error = _error(client.post("/v1/chat/completions", {"model": "gpt-4o", "messages": HI}, token=alice.token), 404)

    assert (error["code"], error["param"]) == ("model_not_found", "model")
    assert "gpt-4o" in error["message"] and "gpt-4o-mini" in error["message"]


def test_quota_is_insufficient_quota_and_not_retried(make_services: Callable[..., Services]) -> None:
    client = Client(make_services(free_token_quota=10))
    user = client.account()

    answer = client.post("/v1/chat/completions", {"model": "gpt-4o-mini", "messages": HI}, token=user.token)

    error = _error(answer, 429)
    assert (error["type"], error["code"]) == ("insufficient_quota", "insufficient_quota")
    assert answer.headers["retry-after"] == "3600"
    assert answer.headers["x-should-retry"] == "false"  # the SDKs would retry at once: a longer wait is ignored


class FailingModel(ScriptedModel):
    """Says two words, then the model server times out."""

    async def stream(
        self, model: str, messages: list[dict[str, str]], max_tokens: int, options: dict[str, Any] | None = None
    ) -> AsyncIterator[str | Usage]:
        yield "half "
        yield "a reply"
        raise UpstreamTimeout()


def test_a_model_server_failure_is_502_server_error(services: Services, client: Client, alice: Account) -> None:
    services.model_client = FailingModel()
    body = {"model": "gpt-4o-mini", "messages": HI}

    error = _error(client.post("/v1/chat/completions", body, token=alice.token), 502)
    assert (error["type"], error["code"]) == ("server_error", "upstream_timeout")

    streamed = client.post("/v1/chat/completions", {**body, "stream": True}, token=alice.token)
    events = [e.removeprefix(b"data: ") for e in streamed.body.split(b"\n\n") if e]
    assert events[-1] == b"[DONE]"
    assert orjson.loads(events[-2])["error"] == {
        "message": "the model server did not answer in time",
        "type": "server_error",
        "param": None,
        "code": "upstream_timeout",
    }


def test_other_routes_keep_problem_json(client: Client) -> None:
    answer = client.get("/auth", token="not-a-token")

    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json["code"] == "invalid_token"


def test_the_document_gives_v1_errors_their_shape() -> None:
    paths = openapi_document(ROUTES)["paths"]

    for path, method in (("/v1/chat/completions", "post"), ("/v1/models", "get")):
        refused = paths[path][method]["responses"]["401"]["content"]
        assert refused == {"application/json": {"schema": {"$ref": "#/components/schemas/OpenAIError"}}}
    assert "application/problem+json" in paths["/auth"]["get"]["responses"]["401"]["content"]
