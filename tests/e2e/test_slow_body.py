"""A client that announces a body and never sends it: the runner answers 408 problem+json after
KIROSHI_BODY_TIMEOUT_SECONDS and closes the connection, serving everyone else meanwhile."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.support.runner import Runner

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def runner(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runner]:
    started = Runner(tmp_path_factory.mktemp("slow"), {"KIROSHI_BODY_TIMEOUT_SECONDS": "1"}).start()
    yield started
    started.stop()


def _head(length: int) -> bytes:
    return (
        "POST /users/register HTTP/1.1\r\nHost: kiroshi\r\nContent-Type: application/json\r\n"
        f"Content-Length: {length}\r\nConnection: close\r\n\r\n"
    ).encode()


def _read_until_closed(sock: socket.socket, timeout: float) -> bytes:
    sock.settimeout(timeout)
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


def test_a_body_that_never_comes_gets_408_and_the_connection_closed(runner: Runner) -> None:
    with socket.create_connection(("127.0.0.1", runner.port)) as slow:
        slow.sendall(_head(100) + b"{")
        started = time.monotonic()
        meanwhile = httpx.get(f"{runner.url}/healthy", timeout=2)
        served_after = time.monotonic() - started
        answer = _read_until_closed(slow, timeout=10)  # returns once the runner closes the connection
        waited = time.monotonic() - started

    status_line, _, rest = answer.partition(b"\r\n")
    headers, _, body = rest.partition(b"\r\n\r\n")
    assert (meanwhile.status_code, served_after < 0.5) == (200, True)
    assert status_line == b"HTTP/1.1 408 Request Timeout"
    assert b"content-type: application/problem+json" in headers.lower()
    assert json.loads(body[body.index(b"{") : body.rindex(b"}") + 1])["code"] == "body_timeout"  # (chunked)
    assert 0.9 < waited < 5


def test_a_slow_but_steady_body_within_the_limit_is_served(runner: Runner) -> None:
    body = json.dumps({"email": "slow@example.com", "nickname": "s", "name": "S", "surname": "S", "password": "x" * 20})
    with socket.create_connection(("127.0.0.1", runner.port)) as client:
        client.sendall(_head(len(body)) + body[:10].encode())
        time.sleep(0.3)
        client.sendall(body[10:].encode())
        answer = _read_until_closed(client, timeout=10)

    assert answer.startswith(b"HTTP/1.1 201 ")
