"""Private Redis and NATS servers that a test may stop and start again (outage tests)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

from tests.support.runner import free_port


def _wait_port(port: int, up: bool, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            listening = sock.connect_ex(("127.0.0.1", port)) == 0
        if listening == up:
            return
        time.sleep(0.05)
    raise TimeoutError(f"port {port} did not go {'up' if up else 'down'}")


class Server:
    def __init__(self, command: list[str], port: int) -> None:
        self.command, self.port = command, port
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Server:
        self.process = subprocess.Popen(self.command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_port(self.port, up=True)
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait()
            _wait_port(self.port, up=False)


def redis_server() -> Server:
    port = free_port()
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    return Server([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], port)


def nats_server(store: Path) -> Server:
    port = free_port()
    binary = shutil.which("nats-server") or "/usr/sbin/nats-server"
    return Server([binary, "-a", "127.0.0.1", "-p", str(port), "-js", "-sd", str(store)], port)
