"""Start `python -m local_runner` as a real process on a free port."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]


def wait_http(url: str, timeout: float = 10.0, alive: Callable[[], bool] = lambda: True) -> bool:
    """Poll `url` until it answers (any status): True, or False after `timeout` or once `alive()`
    says the server process is gone."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and alive():
        try:
            httpx.get(url, timeout=1)
            return True
        except httpx.TransportError:
            time.sleep(0.05)
    return False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Runner:
    def __init__(
        self,
        data_dir: Path,
        env: Mapping[str, str] | None = None,
        port: int | None = None,
        args: tuple[str, ...] = (),
        quiet: bool = False,
    ) -> None:
        self.args = args
        self.quiet = quiet
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "KIROSHI_PORT": str(self.port),
            "KIROSHI_DATA_DIR": str(data_dir),
            "KIROSHI_LOG_LEVEL": "WARNING",
            **(env or {}),
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, wait: bool = True) -> Runner:
        output = subprocess.DEVNULL if self.quiet else subprocess.PIPE
        self.process = subprocess.Popen(
            [sys.executable, "-m", "local_runner", *self.args], cwd=ROOT, env=self.env, stdout=output, stderr=output
        )
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout: float = 30.0) -> None:
        process = self.process
        assert process is not None
        if wait_http(f"{self.url}/healthy", timeout, alive=lambda: process.poll() is None):
            return
        if process.poll() is not None:
            _, err = process.communicate()
            raise RuntimeError(f"runner exited with {process.returncode}: {(err or b'').decode()[-2000:]}")
        raise TimeoutError("the runner did not become healthy")

    def kill(self) -> None:
        """SIGKILL: no shutdown hooks, no flush."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def stop_and_read(self) -> list[str]:
        """Stop the runner (SIGTERM, then SIGKILL after 20 s) and return its whole output, stdout and
        stderr, line by line."""
        process = self.process
        assert process is not None
        process.terminate()
        try:
            out, err = process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            out, err = process.communicate()
        return (out + err).decode(errors="replace").splitlines()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
        if self.process is not None:
            for stream in (self.process.stdout, self.process.stderr):
                if stream is not None:
                    stream.close()


def log_entry(line: str) -> dict[str, Any]:
    """One line of a runner's output as its JSON entry; a line that is not one as `{"level": "?", "msg": line}`."""
    try:
        entry = json.loads(line)
    except ValueError:
        return {"level": "?", "msg": line}
    return entry if isinstance(entry, dict) else {"level": "?", "msg": line}
