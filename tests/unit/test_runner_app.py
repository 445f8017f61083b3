"""The local runner's translation of an ASGI request into the dispatch's HttpRequest."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest

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


def _client_addr(app: RunnerApp, header: bytes | None) -> str:
    headers = [(b"x-real-ip", header)] if header is not None else []
    scope = {"method": "GET", "path": "/auth", "headers": headers, "query_string": b"", "client": ("10.0.0.2", 1)}
    return app._request(scope, b"").client_addr


@pytest.mark.parametrize(
    ("header", "client_addr"),
    [
        (b"203.0.113.9", "203.0.113.9"),
        (b"2001:DB8:0::1", "2001:db8::1"),  # one address, one throttling key
        (b"fe80::1%eth0", "fe80::1"),
        (None, "10.0.0.2"),  # missing: the peer (the proxy), never an empty key
        (b"", "10.0.0.2"),
        (b"not-an-address", "10.0.0.2"),
        (b"203.0.113.9, 198.51.100.1", "10.0.0.2"),
        (b" 203.0.113.9", "10.0.0.2"),
        (b"1" * 100_000, "10.0.0.2"),
    ],
)
def test_the_client_ip_header_counts_only_when_it_is_an_ip_address(
    make_services: Callable[..., Services], header: bytes | None, client_addr: str
) -> None:
    app = RunnerApp(make_services(client_ip_header="x-real-ip"), Router(ROUTES))
    try:
        assert _client_addr(app, header) == client_addr
    finally:
        app.close()


def test_a_bad_client_ip_header_is_warned_about_once_and_never_echoed(
    make_services: Callable[..., Services], caplog: pytest.LogCaptureFixture
) -> None:
    app = RunnerApp(make_services(client_ip_header="x-real-ip"), Router(ROUTES))
    try:
        with caplog.at_level(logging.WARNING, logger="kiroshi.runner"):
            addresses = [_client_addr(app, header) for header in (b"eyJhbGciOi.secret", None, b"203.0.113.9", b"x")]
    finally:
        app.close()

    assert addresses == ["10.0.0.2", "10.0.0.2", "203.0.113.9", "10.0.0.2"]
    assert [r.getMessage() for r in caplog.records] == [
        "x-real-ip is missing or not an IP address; using the peer address (does the proxy set it?)"
    ]


def test_without_the_setting_the_header_is_ignored(services: Services) -> None:
    app = RunnerApp(services, Router(ROUTES))
    try:
        assert _client_addr(app, b"203.0.113.9") == "10.0.0.2"
    finally:
        app.close()
