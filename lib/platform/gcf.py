"""Google Cloud Functions / functions-framework: one `def target(request)` per route."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING

from functions.routes import router as table
from lib.errors import ApiError
from lib.http.dispatch import dispatch, problem_response
from lib.http.messages import HttpRequest
from lib.http.routing import Route, Router
from lib.services import get_services

if TYPE_CHECKING:
    import flask

__all__ = ["make_target", "root_path", "target"]


def root_path(route: Route) -> str:
    """Where a deployed function serves its route besides the route's own path: at its own URL,
    `/`, followed by the route's path parameters in order (`/{user_id}` for `/users/{user_id}`)."""
    return "/" + "/".join("{" + name + "}" for name in route.params)


def make_target(route: Route) -> Callable[[flask.Request], flask.Response]:
    """A functions-framework function serving exactly `route`, at its path (`/users/{user_id}`) and
    at the function's root (`/{user_id}`, see `root_path`): a Cloud Function is called at its own URL."""
    at_root = root_path(route)
    router = Router([route] if at_root == route.path else [route, dataclasses.replace(route, path=at_root)])

    def serve(request: flask.Request) -> flask.Response:
        import flask  # noqa: PLC0415 - functions-framework has loaded it already

        try:
            _, params = router.match(request.method, request.path)
        except ApiError as error:
            response = problem_response(error, "-")
        else:
            http_request = HttpRequest(
                method=request.method,
                path=request.path,
                headers={k.lower(): v for k, v in request.headers.items()},
                query=request.args.to_dict(flat=True),
                body=request.get_data(cache=False),
                client_addr=request.remote_addr or "",
            )
            response = dispatch(route, params, http_request, get_services())
        return flask.Response(response.body, status=response.status, headers=response.headers)

    serve.__name__ = route.target
    serve.__doc__ = f"{route.method} {route.path} (or {route.method} {at_root} at the function's URL)"
    return serve


def target(name: str) -> Callable[[flask.Request], flask.Response]:
    """main.py's target for the route called `name` (`users.register`), built without importing
    the handler. Raises LookupError for a name the route table does not have."""
    return make_target(table.named(name))
