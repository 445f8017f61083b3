"""Mixed load for a while (not CI): registrations, logins, purchases and chats against a local
runner with the fake upstream. Reports errors, p50/p99 latency per kind, and the runner's memory at
the start and the end.

    .venv/bin/python bench/soak.py [--seconds 600] [--clients 16]     (make soak)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import httpx
from websockets.asyncio.client import connect

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.chat_stream import rss_kib  # noqa: E402
from tests.support.runner import Runner, free_port  # noqa: E402

ADMIN = "soak-admin@example.com"
PASSWORD = "soak test passphrase"


async def client(
    n: int, url: str, plan_id: str, deadline: float, stats: dict[str, list[float]], errors: dict[str, int]
) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        i = 0
        while time.monotonic() < deadline:
            i += 1
            email = f"soak{n}-{i}@example.com"
            body = {"email": email, "nickname": "s", "name": "S", "surname": "K", "password": PASSWORD}
            for kind, path, payload in (
                ("register", "/users/register", body),
                ("login", "/users/login", {"email": email, "password": PASSWORD}),
            ):
                started = time.perf_counter()
                answer = await http.post(path, json=payload)
                stats[kind].append(time.perf_counter() - started)
                if answer.status_code >= 400:
                    errors[f"{kind} {answer.status_code}"] += 1
            if answer.status_code != 200:
                continue
            token, user_id = answer.json()["token"], answer.json()["user_id"]
            auth = {"Authorization": f"Bearer {token}"}
            for _ in range(random.randint(1, 5)):
                started = time.perf_counter()
                buy = await http.post(
                    "/subscriptions/buy",
                    headers=auth,
                    json={"plan_id": plan_id, "transaction_id": f"soak-{n}-{i}-{time.time_ns()}"},
                )
                stats["buy"].append(time.perf_counter() - started)
                if buy.status_code != 201:
                    errors[f"buy {buy.status_code}"] += 1
            chat = (await http.post(f"/chats/{user_id}", headers=auth, json={"model": "gpt-4o-mini"})).json()["chat_id"]
            async with connect(f"{url.replace('http', 'ws')}/chats/{user_id}/{chat}/session?auth_token={token}") as ws:
                await ws.recv()
                for _ in range(random.randint(1, 3)):
                    started = time.perf_counter()
                    await ws.send(json.dumps({"type": "message", "content": "soak [tokens=20]"}))
                    while (frame := json.loads(await ws.recv()))["type"] not in ("done", "error"):
                        pass
                    stats["chat reply"].append(time.perf_counter() - started)
                    if frame["type"] == "error":
                        errors[f"chat {frame['code']}"] += 1


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args()
    port = free_port()
    fake = subprocess.Popen([sys.executable, "-m", "tests.support.fake_openai", str(port), "20"], cwd=ROOT)
    env = {
        "OPENAI_BASE_URL": f"http://127.0.0.1:{port}/v1",
        "OPENAI_API_KEY": "soak",
        "KIROSHI_LOG_LEVEL": "WARNING",
        "KIROSHI_BOOTSTRAP_ADMIN_EMAIL": ADMIN,
        "KIROSHI_REGISTER_MAX_PER_ADDRESS": "100000000",
        "KIROSHI_MESSAGES_PER_MINUTE": "100000",
    }
    runner = Runner(Path(tempfile.mkdtemp(prefix="kiroshi-soak-")), env, quiet=True).start()
    try:
        assert runner.process is not None
        body = {"email": ADMIN, "nickname": "a", "name": "A", "surname": "A", "password": PASSWORD}
        httpx.post(f"{runner.url}/users/register", json=body)
        admin = httpx.post(f"{runner.url}/users/login", json={"email": ADMIN, "password": PASSWORD}).json()["token"]
        plan_id = httpx.post(
            f"{runner.url}/subscriptions/plans",
            headers={"Authorization": f"Bearer {admin}"},
            json={"price": 3.5, "duration": 30, "title": "Soak"},
        ).json()["plan"]["plan_id"]
        memory_start = rss_kib(runner.process.pid)
        stats: dict[str, list[float]] = defaultdict(list)
        errors: dict[str, int] = defaultdict(int)
        deadline = time.monotonic() + args.seconds

        async def everyone() -> None:
            await asyncio.gather(
                *(client(n, runner.url, plan_id, deadline, stats, errors) for n in range(args.clients))
            )

        asyncio.run(everyone())
        memory_end = rss_kib(runner.process.pid)
    finally:
        runner.stop()
        fake.terminate()
        fake.wait()
    print(f"soak: {args.seconds:.0f} s, {args.clients} clients")
    for kind, values in stats.items():
        ordered = sorted(values)
        print(
            f"  {kind:12} {len(values):7d} ops  p50 {statistics.median(values) * 1000:7.1f} ms  "
            f"p99 {ordered[int(len(ordered) * 0.99)] * 1000:7.1f} ms"
        )
    print(f"  errors: {dict(errors) or 'none'}")
    print(f"  runner memory: {memory_start} KiB at the start, {memory_end} KiB at the end")


if __name__ == "__main__":
    main()
