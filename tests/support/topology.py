"""The compose topology without Docker: one shared SurrealDB engine (over WebSocket RPC), two HTTP
and two WebSocket Kiroshi processes, real Redis and NATS, and real Nginx in front, rendered with
compose's values and the processes with Kiroshi's default limits.

Clients are told apart as Nginx tells them apart, by their address: a client here is a socket bound
to its own loopback address (Linux routes all of 127.0.0.0/8 to `lo`), drawn at random, so that the
per-address counters that a run leaves in the shared Redis (for an hour) are its own, and so are
Nginx's per-address limits.
"""

from __future__ import annotations

import itertools
import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from tests.support.chat import PASSWORD, ChatUser
from tests.support.runner import ROOT, Runner, free_port, wait_http

sys.path.insert(0, str(ROOT / "nginx"))
from render import COMPOSE, render

ADMIN = "topology-admin@example.com"
_emails = itertools.count(1)


def new_address() -> str:
    """A loopback address no other run is likely to use: 127.1-254.0-255.1-254."""
    return f"127.{1 + secrets.randbelow(254)}.{secrets.randbelow(256)}.{1 + secrets.randbelow(254)}"


def client_at(address: str) -> httpx.Client:
    """An HTTP client whose connections come from `address`."""
    return httpx.Client(transport=httpx.HTTPTransport(local_address=address), timeout=30)


class LoggedRunner(Runner):
    """A runner whose stdout and stderr (its JSON log lines) go to `log_path`."""

    @property
    def log_path(self) -> Path:
        return Path(self.env["KIROSHI_DATA_DIR"]) / "output.log"

    def start(self, wait: bool = True) -> LoggedRunner:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as output:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "local_runner", *self.args],
                cwd=ROOT,
                env=self.env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        if wait:
            self.wait_ready()
        return self

    def access_lines(self) -> list[dict[str, Any]]:
        lines = self.log_path.read_text().splitlines()
        return [entry for entry in map(_json_or_none, lines) if entry and entry.get("logger") == "kiroshi.access"]


def _json_or_none(line: str) -> dict[str, Any] | None:
    try:
        entry = json.loads(line)
    except ValueError:
        return None
    return entry if isinstance(entry, dict) else None


class Topology:
    def __init__(self, workdir: Path, redis_url: str, nats_url: str, openai_url: str) -> None:
        self.workdir = workdir
        self.db_port = free_port()
        self.surreal = subprocess.Popen(
            [sys.executable, "-m", "tests.support.surreal_ws", str(self.db_port)], cwd=ROOT, stdout=subprocess.PIPE
        )
        assert self.surreal.stdout is not None
        assert self.surreal.stdout.readline().strip() == b"ready"
        env = {
            "KIROSHI_DATABASE_URL": f"ws://127.0.0.1:{self.db_port}",
            "KIROSHI_REDIS_URL": redis_url,
            "KIROSHI_NATS_URL": nats_url,
            "KIROSHI_JWT_SECRET": "topology-secret-" + "t" * 48,
            "OPENAI_BASE_URL": openai_url,
            "OPENAI_API_KEY": "topology",
            "KIROSHI_CLIENT_IP_HEADER": "x-real-ip",
            "KIROSHI_BOOTSTRAP_ADMIN_EMAIL": ADMIN,
            "KIROSHI_LOG_LEVEL": "INFO",  # access lines: the client address and request id the app saw
        }
        self.http = [self._runner("http", env, i) for i in range(2)]
        self.ws = [self._runner("websocket", env, i) for i in range(2)]
        try:
            for runner in self.http + self.ws:
                runner.wait_ready(60)
            self.port = free_port()
            self.url = f"http://127.0.0.1:{self.port}"
            self.nginx = self._nginx()
        except BaseException:  # leave no process behind for the tests that follow
            self._stop_processes()
            raise

    def _runner(self, only: str, env: dict[str, str], index: int) -> LoggedRunner:
        return LoggedRunner(self.workdir / f"{only}{index}", env, args=("serve", "--only", only)).start(wait=False)

    def _nginx(self) -> subprocess.Popen[bytes]:
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        temp = self.workdir / "nginx"
        temp.mkdir(exist_ok=True)
        os.chmod(temp, 0o777)  # noqa: S103 - nginx's workers (nobody) write their temp files here
        conf = temp / "nginx.conf"
        conf.write_text(
            render(
                COMPOSE  # compose's limits; only where it runs and what it proxies to differ
                | {
                    "workers": "1",
                    "pid": str(temp / "nginx.pid"),
                    "error_log": str(temp / "error.log"),
                    "access_log": str(temp / "access.log"),
                    "temp": str(temp),
                    "listen": f"127.0.0.1:{self.port}",
                    "http_servers": "\n".join(f"        server 127.0.0.1:{r.port};" for r in self.http),
                    "ws_servers": "\n".join(f"        server 127.0.0.1:{r.port};" for r in self.ws),
                    "console": str(ROOT / "console"),
                }
            )
        )
        process = subprocess.Popen([nginx, "-c", str(conf), "-g", "daemon off;"], stderr=subprocess.DEVNULL)
        if wait_http(f"{self.url}/healthy", alive=lambda: process.poll() is None):
            return process
        process.kill()
        raise RuntimeError((temp / "error.log").read_text() if (temp / "error.log").exists() else "nginx did not start")

    @property
    def access_log(self) -> str:
        return (self.workdir / "nginx" / "access.log").read_text()

    @property
    def error_log(self) -> str:
        path = self.workdir / "nginx" / "error.log"
        return path.read_text() if path.exists() else ""

    def nginx_lines(self) -> list[dict[str, Any]]:
        return [entry for entry in map(_json_or_none, self.access_log.splitlines()) if entry]

    def app_line(self, request_id: str, timeout: float = 5.0) -> dict[str, Any]:
        """The access line an HTTP instance wrote for `request_id` (they write every 0.1 s)."""
        deadline = time.monotonic() + timeout
        while True:
            found = [e for r in self.http for e in r.access_lines() if e.get("request_id") == request_id]
            if found or time.monotonic() > deadline:
                assert len(found) == 1, f"{len(found)} access lines for request {request_id}"
                return found[0]
            time.sleep(0.05)

    def user(self, base_url: str | None = None, email: str | None = None) -> ChatUser:
        """A registered, logged-in user with a chat, made from an address of its own through Nginx, or
        through `base_url` (an instance) saying that address as Nginx would."""
        base, email, address = base_url or self.url, email or f"topology{next(_emails)}@example.com", new_address()
        body = {"email": email, "nickname": "t", "name": "T", "surname": "T", "password": PASSWORD}
        with client_at(address) as client:
            if base_url is not None:
                client.headers["X-Real-IP"] = address
            registered = client.post(f"{base}/users/register", json=body)
            assert registered.status_code == 201, registered.text
            login = client.post(f"{base}/users/login", json={"email": email, "password": PASSWORD})
            assert login.status_code == 200, login.text
        user = ChatUser(self.url, login.json()["user_id"], email, login.json()["token"], "")
        user.chat_id = user.new_chat()
        return user

    def stop(self) -> None:
        self.nginx.terminate()
        self.nginx.wait()
        self._stop_processes()

    def _stop_processes(self) -> None:
        for runner in self.http + self.ws:
            runner.stop()
        self.surreal.terminate()
        self.surreal.wait()
        if self.surreal.stdout is not None:
            self.surreal.stdout.close()
