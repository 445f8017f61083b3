"""The one request pipeline every front door calls.

request id → content type (415) → size (413) → JSON (400) → authentication (401) →
authorization (403) → validation (422) → handler → answer; every failure is problem+json.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from marshmallow import ValidationError

from lib.auth.policies import Auth, authorize
from lib.auth.principal import Principal, authenticate, bearer_token
from lib.errors import ApiError, BadRequest, PayloadTooLarge, UnprocessableContent, UnsupportedMediaType
from lib.events.outbox import relay_outbox
from lib.http import json
from lib.http.messages import HttpRequest, HttpResponse, Reply
from lib.http.routing import Route, Router
from lib.logging import log_request
from lib.services import Services

__all__ = ["Call", "dispatch", "dispatch_request", "problem_response"]

log = logging.getLogger("kiroshi.http")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
JSON_TYPE = "application/json"
PROBLEM_TYPE = "application/problem+json"


@dataclass(frozen=True)
class Call:
    """A parsed, authenticated, validated call: what a handler receives."""

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


def problem_response(error: ApiError, request_id: str) -> HttpResponse:
    headers = {
        "content-type": PROBLEM_TYPE,
        "x-request-id": request_id,
        **{k.lower(): v for k, v in error.headers.items()},
    }
    return HttpResponse(error.status, json.dumps(error.problem()), headers)


def _json_body(route: Route, request: HttpRequest, max_bytes: int) -> Any:
    if route.body is None:
        return None
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type != JSON_TYPE:
        raise UnsupportedMediaType()
    if len(request.body) > max_bytes:
        raise PayloadTooLarge(f"the body is larger than {max_bytes} bytes")
    try:
        return json.loads(request.body)
    except json.JSONDecodeError:
        raise BadRequest() from None


def _validated(route: Route, kind: str, data: Any) -> dict[str, Any]:
    schema = route.schema(kind)
    if schema is None:
        return {}
    try:
        return schema.load(data)  # type: ignore[no-any-return]
    except ValidationError as exc:
        errors = exc.messages if isinstance(exc.messages, dict) else {"_body": exc.messages}
        fields = ", ".join(sorted(errors))
        raise UnprocessableContent(f"invalid fields: {fields}", errors=errors) from None


def _answer(route: Route, result: Any, request_id: str) -> HttpResponse:
    reply = result if isinstance(result, Reply) else Reply(result)
    headers = {"x-request-id": request_id, **{k.lower(): v for k, v in reply.headers.items()}}
    if reply.content_type is not None:
        headers["content-type"] = reply.content_type
        body = reply.body if isinstance(reply.body, bytes) else str(reply.body).encode()
    else:
        headers["content-type"] = JSON_TYPE
        out = route.schema("out")
        body = json.dumps(out.dump(reply.body) if out is not None else reply.body)
    return HttpResponse(reply.status or route.status, body, headers)


def _call(route: Route, path: Mapping[str, str], request: HttpRequest, services: Services, request_id: str) -> Call:
    raw = _json_body(route, request, services.settings.max_body_bytes)
    principal = None
    if route.auth is not Auth.PUBLIC:
        principal = authenticate(services, bearer_token(request.headers.get("authorization")))
        authorize(route.auth, principal, path)
    body = _validated(route, "body", raw)
    query = _validated(route, "query", dict(request.query))
    return Call(route, path, body, query, principal, services, request, request_id)


def _publish_events(services: Services) -> None:
    try:
        relay_outbox(services.db, services.bus)
    except Exception:  # events stay in the outbox; the next write (or the relay loop) sends them
        log.exception("outbox relay failed")


def dispatch(route: Route, path: Mapping[str, str], request: HttpRequest, services: Services) -> HttpResponse:
    """Serve one request for a matched route. Never raises."""
    started = time.perf_counter()
    request_id = request.headers.get("x-request-id", "")
    if not _REQUEST_ID.match(request_id):
        request_id = secrets.token_hex(8)
    call = None
    try:
        call = _call(route, path, request, services, request_id)
        response = _answer(route, route.handler()(call), request_id)
        if route.method != "GET":
            _publish_events(services)
    except ApiError as error:
        response = problem_response(error, request_id)
    except Exception:  # the one place that turns any bug into a clean 500
        log.exception("unhandled error in %s", route.name, extra={"request_id": request_id})
        response = problem_response(ApiError(), request_id)
    user_id = call.principal.user_id if call is not None and call.principal is not None else None
    log_request(request, route.name, response.status, time.perf_counter() - started, request_id, user_id)
    return response


def dispatch_request(router: Router, request: HttpRequest, services: Services) -> HttpResponse:
    """Match the path, then dispatch; unknown paths and methods are problem+json too."""
    try:
        route, path = router.match(request.method, request.path)
    except ApiError as error:
        response = problem_response(error, secrets.token_hex(8))
        log_request(request, None, response.status, 0.0, response.headers["x-request-id"], None)
        return response
    return dispatch(route, path, request, services)
