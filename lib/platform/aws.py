"""AWS Lambda behind API Gateway (HTTP API, payload format 2.0): the same dispatch as every other
front door. `route_handler(name)` serves one route (one Lambda per function, see serverless.yml);
`handler` routes any path (for a grouped deployment)."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from functions.routes import router as table
from lib.errors import ApiError
from lib.http.dispatch import dispatch, problem_response
from lib.http.messages import HttpRequest, HttpResponse
from lib.http.routing import Route, Router
from lib.services import get_services

__all__ = ["handler", "make_handler", "route_handler"]

Event = dict[str, Any]
TEXT_TYPES = ("application/json", "application/problem+json", "text/")


def _request(event: Event) -> HttpRequest:
    http = event["requestContext"]["http"]
    body = (event.get("body") or "").encode()
    if event.get("isBase64Encoded"):
        body = base64.b64decode(body)
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    if event.get("cookies"):
        headers["cookie"] = "; ".join(event["cookies"])
    return HttpRequest(
        method=http["method"],
        path=event.get("rawPath") or http["path"],
        headers=headers,
        query=dict(event.get("queryStringParameters") or {}),
        body=body,
        client_addr=http.get("sourceIp", ""),
    )


def _result(response: HttpResponse) -> dict[str, Any]:
    text = response.headers.get("content-type", "").startswith(TEXT_TYPES)
    return {
        "statusCode": response.status,
        "headers": response.headers,
        "body": response.body.decode() if text else base64.b64encode(response.body).decode(),
        "isBase64Encoded": not text,
    }


def _serve(router: Router, event: Event) -> dict[str, Any]:
    request = _request(event)
    try:
        route, params = router.match(request.method, request.path)
    except ApiError as error:
        return _result(problem_response(error, event["requestContext"].get("requestId", "-")))
    return _result(dispatch(route, params, request, get_services()))


def make_handler(route: Route) -> Callable[[Event, Any], dict[str, Any]]:
    """A Lambda handler serving exactly `route`."""
    router = Router([route])

    def lambda_handler(event: Event, context: Any) -> dict[str, Any]:
        return _serve(router, event)

    lambda_handler.__name__ = route.target
    return lambda_handler


def route_handler(name: str) -> Callable[[Event, Any], dict[str, Any]]:
    """lambda_handlers.py's handler for the route called `name` (`users.register`), built without
    importing the endpoint's code. Raises LookupError for a name the route table does not have."""
    return make_handler(table.named(name))


def handler(event: Event, context: Any) -> dict[str, Any]:
    """One Lambda for every route."""
    return _serve(table, event)
