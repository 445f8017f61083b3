"""Authenticated `GET /auth` on the local runner vs a bare hello-world on the same stack, in one run;
and logins/s vs raw Argon2id verifies/s on the same cores.

    .venv/bin/python bench/auth_throughput.py [--seconds 2] [--rounds 15] [--connections 32]

Needs `wrk` (Debian package). Prints each figure and the ratios.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.runner import Runner, free_port, wait_http  # noqa: E402

PASSWORD = "benchmark passphrase 1"


CORES = os.cpu_count() or 1
PINNED = CORES >= 2
LOAD_CORE, SERVER_CORE = 0, 1  # when PINNED: wrk on one core, the server under test on another


def pin(pid: int, cores: set[int]) -> None:
    """Put every thread of `pid` on `cores`: the hello-world and the runner get the same core."""
    if not PINNED:
        return
    for task in os.listdir(f"/proc/{pid}/task"):
        os.sched_setaffinity(int(task), cores)


def wrk(url: str, seconds: int, connections: int, headers: list[str] = (), script: str | None = None) -> float:
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if PINNED:
        cmd = ["taskset", "-c", str(LOAD_CORE), *cmd]
    for header in headers:
        cmd += ["-H", header]
    if script:
        cmd += ["-s", script]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise RuntimeError(f"{errors.group(1)} failed responses from {url}:\n{out}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def hello_world(seconds: int, connections: int) -> float:
    port = free_port()
    server = subprocess.Popen([sys.executable, str(ROOT / "bench" / "hello_asgi.py"), str(port)], cwd=ROOT)
    try:
        wait_http(f"http://127.0.0.1:{port}/")
        pin(server.pid, {SERVER_CORE})
        return wrk(f"http://127.0.0.1:{port}/", seconds, connections)
    finally:
        server.terminate()
        server.wait()


def raw_verifies(seconds: int, threads: int) -> float:
    from lib.auth.passwords import hash_password, verify_password

    stored = hash_password(PASSWORD)
    started = time.monotonic()
    deadline = started + seconds

    def work(_: int) -> int:
        n = 0
        while time.monotonic() < deadline:
            verify_password(PASSWORD, stored)
            n += 1
        return n

    with ThreadPoolExecutor(threads) as pool:
        done = sum(pool.map(work, range(threads)))
    return done / (time.monotonic() - started)  # the last verifies end after the deadline: count their time


def main() -> None:
    parser = argparse.ArgumentParser()
    # This machine's speed drifts by 20-40% from one 5-second window to the next: many short rounds,
    # each ratio taken within its round between neighbouring measurements.
    parser.add_argument("--seconds", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--login-connections", type=int, default=8)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install -y wrk")

    data_dir = Path(tempfile.mkdtemp(prefix="kiroshi-bench-"))
    env = {
        "KIROSHI_LOG_LEVEL": os.environ.get("KIROSHI_LOG_LEVEL", "INFO"),
        "KIROSHI_LOGIN_MAX_FAILURES_PER_ACCOUNT": "1000000",
        "KIROSHI_LOGIN_MAX_FAILURES_PER_ADDRESS": "1000000",
    }
    runner = Runner(data_dir, env, quiet=True)
    try:
        runner.start()
        body = {"email": "bench@example.com", "nickname": "b", "name": "B", "surname": "B", "password": PASSWORD}
        httpx.post(f"{runner.url}/users/register", json=body).raise_for_status()
        login = httpx.post(f"{runner.url}/users/login", json={"email": body["email"], "password": PASSWORD})
        token = login.json()["token"]

        # Rounds of all three, back to back (`/auth` right after hello-world); the median of each
        # figure and of each round's ratio.
        pin(runner.process.pid, {SERVER_CORE})
        hellos, healthies, auths = [], [], []
        for _ in range(args.rounds):
            hellos.append(hello_world(args.seconds, args.connections))
            auths.append(wrk(f"{runner.url}/auth", args.seconds, args.connections, [f"Authorization: Bearer {token}"]))
            healthies.append(wrk(f"{runner.url}/healthy", args.seconds, args.connections))
        hello, healthy, auth = (statistics.median(x) for x in (hellos, healthies, auths))
        auth_ratios = sorted(a / h for a, h in zip(auths, hellos, strict=True))
        healthy_ratios = sorted(a / h for a, h in zip(healthies, hellos, strict=True))
        pin(runner.process.pid, set(range(CORES)))  # logins hash on every core

        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
            script.write(
                'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
                f'wrk.body = \'{{"email": "bench@example.com", "password": "{PASSWORD}"}}\'\n'
            )
        login_rates, verify_rates = [], []
        for _ in range(args.rounds):
            login_rates.append(
                wrk(f"{runner.url}/users/login", args.seconds, args.login_connections, script=script.name)
            )
            verify_rates.append(raw_verifies(args.seconds, CORES))
        logins, verifies = statistics.median(login_rates), statistics.median(verify_rates)
        login_ratios = sorted(a / v for a, v in zip(login_rates, verify_rates, strict=True))
    finally:
        runner.stop()
        shutil.rmtree(data_dir, ignore_errors=True)

    pinned = f"; wrk on core {LOAD_CORE}, servers on core {SERVER_CORE}" if PINNED else ""
    print(f"{args.rounds} rounds of {args.seconds} s, {args.connections} connections{pinned}")
    print(f"hello-world (uvicorn+uvloop+httptools, bare ASGI)  {hello:10.0f} req/s")
    print(
        f"GET /healthy through the dispatch                  {healthy:10.0f} req/s  {spread(healthy_ratios)} of hello"
    )
    print(f"GET /auth authenticated (JWT + DB read)            {auth:10.0f} req/s  {spread(auth_ratios)} of hello")
    print(f"{args.rounds} rounds of {args.seconds} s logins, then raw verifies; {args.login_connections} connections")
    print(f"raw Argon2id verifies ({CORES} threads)               {verifies:10.1f} /s")
    print(f"POST /users/login                                  {logins:10.1f} /s    {spread(login_ratios)} of raw")


def spread(ratios: list[float]) -> str:
    """The median of sorted ratios, their middle half and their range."""
    quarter = len(ratios) // 4
    return (
        f"{statistics.median(ratios):6.1%} (middle half {ratios[quarter]:.1%}-{ratios[-1 - quarter]:.1%}, "
        f"rounds {ratios[0]:.1%}-{ratios[-1]:.1%})"
    )


if __name__ == "__main__":
    main()
