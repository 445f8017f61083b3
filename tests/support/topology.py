"""The compose topology without Docker: one shared SurrealDB engine (over WebSocket RPC), two HTTP
and two WebSocket Kiroshi processes, real Redis and NATS, and real Nginx in front."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.support.runner import ROOT, Runner, free_port, wait_http

sys.path.insert(0, str(ROOT / "nginx"))
from render import render

ADMIN = "topology-admin@example.com"


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
            "KIROSHI_REGISTER_MAX_PER_ADDRESS": "100000",
            "KIROSHI_LOGIN_MAX_FAILURES_PER_ADDRESS": "100000",
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

    def _runner(self, only: str, env: dict[str, str], index: int) -> Runner:
        return Runner(self.workdir / f"{only}{index}", env, args=("serve", "--only", only), quiet=True).start(
            wait=False
        )

    def _nginx(self) -> subprocess.Popen[bytes]:
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        temp = self.workdir / "nginx"
        temp.mkdir(exist_ok=True)
        os.chmod(temp, 0o777)  # noqa: S103 - nginx's workers (nobody) write their temp files here
        conf = temp / "nginx.conf"
        conf.write_text(
            render(
                {
                    "workers": "1",
                    "pid": str(temp / "nginx.pid"),
                    "error_log": str(temp / "error.log"),
                    "access_log": str(temp / "access.log"),
                    "temp": str(temp),
                    "listen": f"127.0.0.1:{self.port}",
                    "auth_rate": "20r/s",
                    "auth_burst": "40",
                    "sessions_per_address": "50",
                    "http_servers": "\n".join(f"        server 127.0.0.1:{r.port};" for r in self.http),
                    "ws_servers": "\n".join(f"        server 127.0.0.1:{r.port};" for r in self.ws),
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
