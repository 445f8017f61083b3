"""The one request pipeline every front door calls.

request id → content type (415) → size (413) → JSON (400) → authentication (401) →
authorization (403) → validation (422) → handler → answer; every failure is problem+json, or on the
routes that say so (`Route.error_shape`, the OpenAI-compatible `/v1`) OpenAI's error object.
"""

from __future__ import annotations

import itertools
import logging
import os
import re
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lib.auth.policies import Auth, authorize
from lib.errors import ApiError, BadRequest, PayloadTooLarge, Unauthorized, UnprocessableContent, UnsupportedMediaType
from lib.http import json
from lib.http.background_loop import run_coroutine
from lib.http.messages import HttpRequest, HttpResponse, Reply
from lib.http.routing import Route, Router
from lib.logging import log_request
from lib.metrics import count_request
from lib.services import Services

if TYPE_CHECKING:
    from lib.accounts.principal import Principal

__all__ = [
    "Call",
    "dispatch",
    "dispatch_async",
    "dispatch_request",
    "new_request_id",
    "openai_error",
    "problem_response",
    "request_id_of",
]

log = logging.getLogger("kiroshi.http")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
JSON_TYPE = "application/json"
PROBLEM_TYPE = "application/problem+json"
# Read once: on Python 3.11 `Auth.PUBLIC` goes through EnumType's attribute hook (~1k instructions).
_PUBLIC, _USER = Auth.PUBLIC, Auth.USER


@dataclass(slots=True)
class Call:
    """A parsed, authenticated, validated call: what a handler receives (built per request: slotted, not frozen)."""

    route: Route
    path: Mapping[str, str]
    body: dict[str, Any]
    query: dict[str, Any]
    principal: Principal | None
    services: Services
    request: HttpRequest
    request_id: str

    @property
    def caller(self) -> Principal:
        """The authenticated principal (routes above PUBLIC always have one)."""
        if self.principal is None:
            raise RuntimeError(f"{self.route.name} is public: it has no caller")
        return self.principal


def problem_response(error: ApiError, request_id: str, shape: str = "problem") -> HttpResponse:
    """The error as its route answers errors (`Route.error_shape`): problem+json, or OpenAI's
    `{"error": {...}}` with the same status and headers."""
    headers = {
        "content-type": JSON_TYPE if shape == "openai" else PROBLEM_TYPE,
        "x-request-id": request_id,
        **{k.lower(): v for k, v in error.headers.items()},
    }
    if shape != "openai":
        return HttpResponse(error.status, json.dumps(error.problem()), headers)
    wait = headers.get("retry-after", "")
    if wait.isdigit() and int(wait) > 60:  # OpenAI's SDKs ignore a longer Retry-After and retry at once
        headers["x-should-retry"] = "false"
    return HttpResponse(error.status, json.dumps({"error": openai_error(error)}), headers)


# The cases OpenAI names itself, as its API answers them: Kiroshi's code → OpenAI's type and code.
_OPENAI_CASES = {
    "quota_exceeded": ("insufficient_quota", "insufficient_quota"),
    "rate_limited": ("requests", "rate_limit_exceeded"),
    "request_too_large": ("invalid_request_error", "context_length_exceeded"),
}


def openai_error(error: ApiError) -> dict[str, Any]:
    """OpenAI's error object for `error`: `type` as OpenAI's API gives it (`invalid_request_error`
    below 500, `server_error` from 500, its own for quotas and rate limits), OpenAI's `code` where
    it names the case (`invalid_api_key` for every 401) and Kiroshi's otherwise; `param` names the
    first offending field (`messages[1].content`) and `message` says what is wrong with each."""
    default = ("invalid_request_error" if error.status < 500 else "server_error", error.code)
    kind, code = _OPENAI_CASES.get(error.code, default)
    if error.status == 401:
        code = "invalid_api_key"
    problems = list(_field_errors(error.extra.get("errors") or {}))
    param = error.extra.get("param") or next((path for path, _ in problems if path), None)
    shown = [f"{path}: {reason}" if path else reason for path, reason in problems[:8]]
    shown = [text.removesuffix(".") for text in shown]
    if len(problems) > 8:
        shown.append(f"and {len(problems) - 8} more")
    return {"message": "; ".join(shown) or error.detail, "type": kind, "param": param, "code": code}


def _field_errors(errors: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """(`messages[1].content`, reason) for each message of a marshmallow error dict."""
    if isinstance(errors, dict):
        for key, value in errors.items():
            name = str(key)
            if name.isdigit():
                name = f"{path}[{name}]"
            elif name.startswith("_"):  # `_body`, `_schema`: the whole (sub)object
                name = path
            else:
                name = f"{path}.{name}" if path else name
            yield from _field_errors(value, name)
    elif isinstance(errors, list):
        for item in errors:
            yield from _field_errors(item, path)
    else:
        yield path, str(errors)


def _json_body(request: HttpRequest, max_bytes: int, exact: bool = False) -> Any:
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type != JSON_TYPE:
        raise UnsupportedMediaType()
    if len(request.body) > max_bytes:
        raise PayloadTooLarge(f"the body is larger than {max_bytes} bytes")
    try:
        return json.loads_exact(request.body) if exact else json.loads(request.body)
    except json.JSONDecodeError:
        raise BadRequest() from None


def _validated(route: Route, kind: str, data: Any) -> dict[str, Any]:
    schema = route.schema(kind)
    if schema is None:
        return {}
    from marshmallow import ValidationError  # noqa: PLC0415 - loaded with the route's schema anyway

    try:
        return schema.load(data)  # type: ignore[no-any-return]
    except ValidationError as exc:
        errors = exc.messages if isinstance(exc.messages, dict) else {"_body": exc.messages}
        fields = ", ".join(sorted(errors))
        raise UnprocessableContent(f"invalid fields: {fields}", errors=errors) from None


def _json(route: Route, value: Any, call: Call) -> bytes:
    shape: Callable[..., Any] | None = route.shape  # it reads the clock only for a field computed as of now
    return json.dumps(shape(value, call.services.clock) if shape is not None else value)


def _answer(route: Route, result: Any, call: Call) -> HttpResponse:
    request_id = call.request_id
    if not isinstance(result, Reply):  # most answers: JSON with the route's status
        return HttpResponse(
            route.status, _json(route, result, call), {"x-request-id": request_id, "content-type": JSON_TYPE}
        )
    headers = {"x-request-id": request_id, **{k.lower(): v for k, v in result.headers.items()}}
    if isinstance(result.body, AsyncIterator):
        headers["content-type"] = result.content_type or "text/event-stream"
        return HttpResponse(result.status or route.status, b"", headers, stream=result.body)
    if result.content_type is not None:
        headers["content-type"] = result.content_type
        body = result.body if isinstance(result.body, bytes) else str(result.body).encode()
    else:
        headers["content-type"] = JSON_TYPE
        body = _json(route, result.body, call)
    return HttpResponse(result.status or route.status, body, headers)


def bearer_token(authorization: str | None) -> str:
    """The token of an `Authorization: Bearer <token>` header. Raises Unauthorized."""
    if not authorization:
        raise Unauthorized("a bearer token is required", code="missing_token")
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if not token or scheme.lower() != "bearer":
        raise Unauthorized("use the Bearer authorization scheme", code="invalid_token")
    return token


def _call(route: Route, path: Mapping[str, str], request: HttpRequest, services: Services, request_id: str) -> Call:
    raw = None
    if route.body is not None:  # a body schema that takes money asks for its numbers' exact text
        exact = getattr(route.schema("body"), "exact_numbers", False)
        raw = _json_body(request, services.settings.max_body_bytes, exact)
    principal = None
    if route.auth is not _PUBLIC:
        principal = services.authenticate(bearer_token(request.headers.get("authorization")))
        if route.auth is not _USER:  # any signed-in user may call a USER route
            authorize(route.auth, principal, path)
    body = _validated(route, "body", raw) if route.body is not None else {}
    query = _validated(route, "query", dict(request.query)) if route.query is not None else {}
    return Call(route, path, body, query, principal, services, request, request_id)


class _RequestIds:
    """New request ids: a random prefix per process (renewed in a forked child) and a counter,
    unique across processes without a random draw (a syscall) per request."""

    def __init__(self) -> None:
        self.renew()
        os.register_at_fork(after_in_child=self.renew)

    def renew(self) -> None:
        self._prefix, self._numbers = secrets.token_hex(4), itertools.count()

    def new(self) -> str:
        return self._prefix + "%08x" % next(self._numbers)  # noqa: UP031 - cheaper than format()


new_request_id = _RequestIds().new


def request_id_of(request: HttpRequest) -> str:
    """The caller's `X-Request-Id` when well-formed, else a new one."""
    request_id = request.headers.get("x-request-id")
    if request_id is not None and _REQUEST_ID.match(request_id):
        return request_id
    return new_request_id()


def _failed(route: Route, error: Exception, request_id: str) -> HttpResponse:
    if isinstance(error, ApiError):
        return problem_response(error, request_id, route.error_shape)
    log.error("unhandled error in %s", route.name, exc_info=error, extra={"request_id": request_id})
    return problem_response(ApiError(), request_id, route.error_shape)


def _done(
    call: Call | None,
    request: HttpRequest,
    route: Route,
    response: HttpResponse,
    started: float,
    request_id: str,
    services: Services,
) -> None:
    """After every request, on both paths: publish the events its writes committed, count it, log it."""
    services.outbox.after_request()
    user_id = call.principal.user.user_id if call is not None and call.principal is not None else None
    seconds = time.perf_counter() - started
    count_request(route.name, response.status, seconds)
    log_request(request, route.name, response.status, seconds, request_id, user_id)


def dispatch(route: Route, path: Mapping[str, str], request: HttpRequest, services: Services) -> HttpResponse:
    """Serve one request for a matched route. Never raises.

    A coroutine route runs on the background loop, its stream (if any) read to the end: sync
    front doors answer it whole. A route's first request imports its handler (inside the `try`:
    a handler that cannot be imported is a logged 500 problem answer, as any failure).
    """
    started, request_id, call = time.perf_counter(), request_id_of(request), None
    try:
        if route.asynchronous:
            return run_coroutine(_buffered(dispatch_async(route, path, request, services)))
        call = _call(route, path, request, services, request_id)
        response = _answer(route, route.handler(call), call)
    except Exception as error:  # the one place that turns any failure into a problem answer
        response = _failed(route, error, request_id)
    _done(call, request, route, response, started, request_id, services)
    return response


async def dispatch_async(
    route: Route, path: Mapping[str, str], request: HttpRequest, services: Services
) -> HttpResponse:
    """`dispatch` for routes whose handler is a coroutine (it awaits the model)."""
    started, request_id, call = time.perf_counter(), request_id_of(request), None
    try:
        call = _call(route, path, request, services, request_id)
        response = _answer(route, await route.handler(call), call)
    except Exception as error:  # the one place that turns any failure into a problem answer
        response = _failed(route, error, request_id)
    _done(call, request, route, response, started, request_id, services)
    return response


async def _buffered(pending: Awaitable[HttpResponse]) -> HttpResponse:
    response = await pending
    if response.stream is None:
        return response
    body = b"".join([chunk async for chunk in response.stream])
    return HttpResponse(response.status, response.body + body, response.headers)


def dispatch_request(router: Router, request: HttpRequest, services: Services) -> HttpResponse:
    """Match the path, then dispatch; unknown paths and methods are problem+json too."""
    try:
        route, path = router.match(request.method, request.path)
    except ApiError as error:
        response = problem_response(error, new_request_id())
        log_request(request, None, response.status, 0.0, response.headers["x-request-id"], None)
        return response
    return dispatch(route, path, request, services)
