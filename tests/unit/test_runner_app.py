"""The local runner's translation of an ASGI request into the dispatch's HttpRequest."""

from __future__ import annotations

from functions.routes import ROUTES
from lib.http.routing import Router
from lib.services import Services
from local_runner.app import RunnerApp


def test_headers_are_decoded_and_a_repeated_one_keeps_every_value_in_order(services: Services) -> None:
    app = RunnerApp(services, Router(ROUTES))
    scope = {
        "method": "GET",
        "path": "/auth",
        "headers": [(b"accept", b"application/json"), (b"x-tag", b"one"), (b"x-name", b"caf\xe9"), (b"x-tag", b"two")],
        "query_string": b"limit=5&cursor=",
        "client": ("203.0.113.9", 40000),
    }
    try:
        request = app._request(scope, b"")
    finally:
        app.close()

    assert request.headers == {"accept": "application/json", "x-tag": "one, two", "x-name": "café"}
    assert request.query == {"limit": "5", "cursor": ""}
    assert request.client_addr == "203.0.113.9"
