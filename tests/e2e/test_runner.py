"""The local runner as a real process: durability across SIGKILL, the data-directory lock, HTTP."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.support.runner import ROOT, Runner

pytestmark = pytest.mark.e2e

PASSWORD = "durable passphrase 7"


def _register(url: str, i: int) -> tuple[int, str]:
    body = {"email": f"d{i}@example.com", "nickname": "n", "name": "N", "surname": "S", "password": PASSWORD}
    answer = httpx.post(f"{url}/users/register", json=body, timeout=30)
    return answer.status_code, f"d{i}@example.com"


def test_acknowledged_registrations_survive_sigkill(tmp_path: Path) -> None:
    runner = Runner(tmp_path).start()
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(lambda i: _register(runner.url, i), range(24)))
        acknowledged = [email for status, email in results if status == 201]
        statuses = [status for status, _ in results]
        runner.kill()
        assert len(acknowledged) == 24, statuses
        restarted = Runner(tmp_path, port=runner.port).start()
        try:
            for email in acknowledged:
                answer = httpx.post(f"{restarted.url}/users/login", json={"email": email, "password": PASSWORD})
                assert answer.status_code == 200, (email, answer.text)
        finally:
            restarted.stop()
    finally:
        runner.stop()


def test_a_second_process_on_the_same_data_directory_refuses_to_start(tmp_path: Path) -> None:
    owner = Runner(tmp_path).start()
    try:
        intruder = Runner(tmp_path).start(wait=False)
        assert intruder.process is not None
        code = intruder.process.wait(timeout=30)
        _, err = intruder.process.communicate()
        intruder.stop()
        assert code == 2
        assert "in use by another Kiroshi process" in err.decode()
        assert httpx.get(f"{owner.url}/healthy").status_code == 200
    finally:
        owner.stop()


def test_a_port_in_use_stops_the_runner_with_one_line_naming_the_variable(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        runner = Runner(tmp_path, {"KIROSHI_LOG_LEVEL": "INFO"}, port=port).start(wait=False)
        assert runner.process is not None
        code = runner.process.wait(timeout=30)
        out, err = runner.process.communicate()
        runner.stop()

    assert code == 2
    [line] = err.decode().splitlines()
    assert line.startswith(f"kiroshi: port {port} on 127.0.0.1 is already in use") and "KIROSHI_PORT" in line
    assert b"listening" not in out


def test_the_jwt_secret_is_generated_once_and_kept(tmp_path: Path) -> None:
    env = {"KIROSHI_JWT_SECRET": ""}
    runner = Runner(tmp_path, env).start()
    try:
        _, email = _register(runner.url, 1)
        token = httpx.post(f"{runner.url}/users/login", json={"email": email, "password": PASSWORD}).json()["token"]
    finally:
        runner.stop()
    assert (tmp_path / "jwt-secret").stat().st_mode & 0o077 == 0
    restarted = Runner(tmp_path, env).start()
    try:
        assert httpx.get(f"{restarted.url}/auth", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    finally:
        restarted.stop()


def test_the_runner_serves_every_kind_of_answer_over_http(tmp_path: Path) -> None:
    runner = Runner(tmp_path).start()
    try:
        with httpx.Client(base_url=runner.url) as http:
            assert http.get("/healthy").json() == {"status": "ok"}
            ready = http.get("/ready").json()
            assert ready["checks"]["database"] == {"status": "ok", "adapter": "embedded"}
            assert http.get("/nope").headers["content-type"] == "application/problem+json"
            too_big = http.post("/users/login", content=b"x" * 2_000_000, headers={"Content-Type": "application/json"})
            assert too_big.status_code == 413
            assert http.get("/openapi.json").json()["openapi"].startswith("3.1")
            docs = http.get("/docs")
            assert "swagger-ui" in docs.text
            assert http.get("/docs/swagger-ui-bundle.js").status_code == 200
            assert http.head("/healthy").status_code == 200
    finally:
        runner.stop()


def test_forwarded_headers_do_not_pick_the_client_address(tmp_path: Path) -> None:
    """Without KIROSHI_CLIENT_IP_HEADER the client is the peer, loopback included: a client that
    sends a new X-Forwarded-For with each try still meets its address's login limit."""
    runner = Runner(tmp_path, {"KIROSHI_LOGIN_MAX_FAILURES_PER_ADDRESS": "3"}).start()
    try:
        statuses = [
            httpx.post(
                f"{runner.url}/users/login",
                json={"email": f"victim{i}@example.com", "password": "some password"},
                headers={"x-forwarded-for": f"203.0.113.{i}", "forwarded": f"for=203.0.113.{i}"},
            ).status_code
            for i in range(4)
        ]
    finally:
        runner.stop()

    assert statuses == [401, 401, 401, 429]


def test_password_hashing_never_stalls_other_requests(tmp_path: Path) -> None:
    runner = Runner(tmp_path).start()
    try:
        _register(runner.url, 1)
        finished: list[str] = []

        def login(_: int) -> None:
            httpx.post(f"{runner.url}/users/login", json={"email": "d1@example.com", "password": PASSWORD}, timeout=30)
            finished.append("login")

        with ThreadPoolExecutor(max_workers=8) as pool:
            logins = [pool.submit(login, i) for i in range(8)]
            assert httpx.get(f"{runner.url}/healthy").status_code == 200
            finished.append("healthy")
            for future in logins:
                future.result()
        # Eight Argon2id logins take at least four hash times on two cores; the health check was
        # answered before they all were, so hashing did not hold up the event loop.
        assert finished.index("healthy") < 8
    finally:
        runner.stop()


def test_the_cli_promotes_and_demotes_by_email(tmp_path: Path) -> None:
    runner = Runner(tmp_path).start()
    _, email = _register(runner.url, 1)
    runner.stop()

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "local_runner", *args],
            cwd=ROOT,
            env=runner.env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    assert cli("promote", email.upper()).returncode == 0
    assert cli("promote", "nobody@example.com").returncode == 1
    restarted = Runner(tmp_path, port=runner.port).start()
    try:
        token = httpx.post(f"{restarted.url}/users/login", json={"email": email, "password": PASSWORD}).json()["token"]
        headers = {"Authorization": f"Bearer {token}"}
        assert httpx.get(f"{restarted.url}/auth", headers=headers).json()["metadata"]["role"] == "admin"
        assert httpx.get(f"{restarted.url}/users", headers=headers).status_code == 200
        locked = cli("demote", email)
        assert locked.returncode == 2 and "in use" in locked.stderr
    finally:
        restarted.stop()
    assert cli("demote", email).returncode == 0


def test_the_bootstrap_admin_is_promoted_at_start_if_it_exists(tmp_path: Path) -> None:
    runner = Runner(tmp_path).start()
    _, email = _register(runner.url, 1)
    runner.stop()
    restarted = Runner(tmp_path, {"KIROSHI_BOOTSTRAP_ADMIN_EMAIL": email}, port=runner.port).start()
    try:
        token = httpx.post(f"{restarted.url}/users/login", json={"email": email, "password": PASSWORD}).json()["token"]
        me = httpx.get(f"{restarted.url}/auth", headers={"Authorization": f"Bearer {token}"}).json()
        assert me["metadata"]["role"] == "admin"
    finally:
        restarted.stop()


def test_logs_reach_loki_without_secrets_and_metrics_count_requests(tmp_path: Path) -> None:
    from tests.support.loki_receiver import LokiReceiver

    receiver = LokiReceiver()
    runner = Runner(tmp_path, {"KIROSHI_LOKI_URL": receiver.url, "KIROSHI_LOG_LEVEL": "INFO"}).start()
    try:
        _, email = _register(runner.url, 7)
        token = httpx.post(f"{runner.url}/users/login", json={"email": email, "password": PASSWORD}).json()["token"]
        httpx.get(f"{runner.url}/auth?auth_token={token}", headers={"Authorization": f"Bearer {token}"})
        metrics = httpx.get(f"{runner.url}/metrics").text
        deadline = time.monotonic() + 10
        while not any('"route":"users.me"' in line for line in receiver.lines()):
            assert time.monotonic() < deadline, "no access line reached Loki"
            time.sleep(0.2)
    finally:
        runner.stop()
        receiver.stop()
    shipped = "\n".join(receiver.lines())
    assert '"route":"users.login"' in shipped
    assert PASSWORD not in shipped and token not in shipped and "auth_token" not in shipped
    assert 'kiroshi_requests_total{route="users.login",status="200"} 1.0' in metrics


def test_access_lines_leave_stdout_while_the_runner_keeps_serving(tmp_path: Path) -> None:
    """Access lines are batched, never kept back: each shows up on stdout within a moment."""
    runner = Runner(tmp_path, {"KIROSHI_LOG_LEVEL": "INFO", "PYTHONUNBUFFERED": "1"}).start()
    assert runner.process is not None and runner.process.stdout is not None
    stdout = runner.process.stdout

    def line_of_request() -> bytes:
        while b'"request_id":"batched-line-1"' not in (line := stdout.readline()):
            assert line, "stdout closed"
        return line

    reader = ThreadPoolExecutor(1)  # the runner stays up: no EOF to wait for
    try:
        answer = httpx.get(f"{runner.url}/healthy", headers={"X-Request-Id": "batched-line-1"})
        assert answer.status_code == 200
        line = reader.submit(line_of_request).result(timeout=5)
        assert b'"route":"health.healthy"' in line and b'"status":200' in line
    finally:
        runner.stop()  # ends a reader still waiting
        reader.shutdown()
