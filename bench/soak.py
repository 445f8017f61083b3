"""Mixed load for a while (not CI): registrations, logins, purchases and chats against a local
runner (embedded database, fsync on) with the fake upstream. Reports errors, p50/p99 latency per
kind, and whether the runner's memory levels off: RSS is sampled every 10 s; after the warm-up
(a fifth of the run, at most 5 minutes) it may grow only by what the embedded engine keeps per
stored record (README, Operations: "Where memory goes", measured by bench/memory.py), while the
in-process caches fill up to their bounds and stop.

    .venv/bin/python bench/soak.py [--seconds 1800] [--clients 12]     (make soak)

Prints RSS after the warm-up and at the end, the growth per 10,000 stored messages next to what
the per-record table predicts for the same records, the rate over the last third of the run, and
a verdict. On a shared machine the rates move by 10-30% between runs: judge the trend.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
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


# KB of RSS the embedded engine keeps per stored record (README's table, bench/memory.py; a
# message's figure includes its half of the turn's reply_usage row).
ENGINE_KB = {"user": 1.4, "contract": 4.2, "chat": 1.2, "usage": 1.2, "message": 2.1}
# What the process's bounded caches can still add after the warm-up (MiB, README's table): the
# memo, the in-process cache, the turn cache, ended replies and the engine's value cache.
CACHE_HEADROOM_MIB = 160
SAMPLE_SECONDS = 10


async def client(
    n: int,
    url: str,
    plan_id: str,
    deadline: float,
    stats: dict[str, list[float]],
    errors: dict[str, int],
    stored: dict[str, int],
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
                elif kind == "register":
                    stored["user"] += 1
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
                else:
                    stored["contract"] += 1
            await chat(http, url, user_id, token, stats, errors, stored)


async def chat(
    http: httpx.AsyncClient,
    url: str,
    user_id: str,
    token: str,
    stats: dict[str, list[float]],
    errors: dict[str, int],
    stored: dict[str, int],
) -> None:
    """A new chat, and one to three turns on it over a WebSocket session."""
    auth = {"Authorization": f"Bearer {token}"}
    answer = await http.post(f"/chats/{user_id}", headers=auth, json={"model": "gpt-4o-mini"})
    chat_id = answer.json()["chat_id"]
    stored["chat"] += 1
    async with connect(f"{url.replace('http', 'ws')}/chats/{user_id}/{chat_id}/session?auth_token={token}") as ws:
        await ws.recv()
        for _ in range(random.randint(1, 3)):
            started = time.perf_counter()
            await ws.send(json.dumps({"type": "message", "content": "soak [tokens=20]"}))
            while (frame := json.loads(await ws.recv()))["type"] not in ("done", "error"):
                pass
            stats["chat reply"].append(time.perf_counter() - started)
            if frame["type"] == "error":
                errors[f"chat {frame['code']}"] += 1
            else:
                stored["message"] += 2
                stored["usage"] = stored["user"]  # one row per user and month, from its first turn


Sample = tuple[float, int, dict[str, int]]  # seconds since the start, RSS KiB, records stored so far


async def sample_memory(pid: int, deadline: float, stored: dict[str, int], samples: list[Sample]) -> None:
    started = time.monotonic()
    while True:
        samples.append((time.monotonic() - started, rss_kib(pid), dict(stored)))
        if time.monotonic() >= deadline:
            return
        await asyncio.sleep(min(SAMPLE_SECONDS, max(0.0, deadline - time.monotonic())))


def predicted_kib(first: dict[str, int], last: dict[str, int]) -> float:
    """RSS the engine keeps for the records stored between two samples (KiB)."""
    return sum(ENGINE_KB[kind] * (last.get(kind, 0) - first.get(kind, 0)) for kind in ENGINE_KB) * 1000 / 1024


def per_10k_messages(kib: float, first: dict[str, int], last: dict[str, int]) -> float:
    messages = last.get("message", 0) - first.get("message", 0)
    return kib / 1024 * 10_000 / messages if messages else float("nan")


def report_memory(samples: list[Sample], warmup: float) -> None:
    warm = next((s for s in samples if s[0] >= warmup), samples[-1])
    end = samples[-1]
    third = next((s for s in samples if s[0] >= warm[0] + (end[0] - warm[0]) * 2 / 3), end)
    grown, predicted = end[1] - warm[1], predicted_kib(warm[2], end[2])
    tail, tail_predicted = end[1] - third[1], predicted_kib(third[2], end[2])
    minutes = [f"{rss / 1024:.0f}" for t, rss, _ in samples if round(t) % 60 < SAMPLE_SECONDS]
    print(f"  RSS, MiB, one sample a minute: {' '.join(minutes)}")
    print(f"  RSS after the warm-up ({warm[0]:.0f} s): {warm[1] / 1024:.0f} MiB; at the end: {end[1] / 1024:.0f} MiB")
    print(f"  stored after the warm-up: {', '.join(f'{end[2][k] - warm[2].get(k, 0)} {k}s' for k in ENGINE_KB)}")
    print(
        f"  growth after the warm-up: {grown / 1024:+.1f} MiB, "
        f"{per_10k_messages(grown, warm[2], end[2]):.1f} MiB per 10,000 messages stored "
        f"(the per-record table predicts {per_10k_messages(predicted, warm[2], end[2]):.1f} for this mix)"
    )
    print(
        f"  last third ({third[0]:.0f}-{end[0]:.0f} s): {tail / 1024:+.1f} MiB, "
        f"{per_10k_messages(tail, third[2], end[2]):.1f} MiB per 10,000 messages "
        f"(predicted {per_10k_messages(tail_predicted, third[2], end[2]):.1f})"
    )
    print(f"  verdict: {verdict(grown, predicted, tail, tail_predicted)}")


def verdict(grown: float, predicted: float, tail: float, tail_predicted: float) -> str:
    """Levelled off when the last third grows no faster than the engine's per-record cost (with
    room for noise) and all growth after the warm-up fits that cost plus the caches' bounds."""
    noise = 8 * 1024  # KiB: allocator arenas and the sampler's own jitter
    beyond = (grown - predicted) / 1024
    if tail > 1.5 * tail_predicted + noise:
        return (
            f"STILL RISING: the last third grew {tail / 1024:.1f} MiB, the engine's per-record cost "
            f"explains {tail_predicted / 1024:.1f} MiB"
        )
    if beyond > CACHE_HEADROOM_MIB:
        return f"TOO HIGH: {beyond:.0f} MiB beyond the engine's per-record cost, more than the caches' bounds allow"
    return (
        f"levels off: after the warm-up RSS grows at the engine's per-record cost "
        f"({beyond:+.0f} MiB beside it: caches filling within their bounds, {CACHE_HEADROOM_MIB} MiB at most)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=1800)
    parser.add_argument("--clients", type=int, default=12)
    parser.add_argument("--warmup", type=float, help="seconds before the reference sample (default: a fifth, <= 300)")
    args = parser.parse_args()
    warmup = args.warmup if args.warmup is not None else min(300.0, args.seconds / 5)
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
    data_dir = Path(tempfile.mkdtemp(prefix="kiroshi-soak-"))
    runner = Runner(data_dir, env, quiet=True).start()
    stats: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, int] = defaultdict(int)
    stored: dict[str, int] = defaultdict(int)
    samples: list[Sample] = []
    try:
        assert runner.process is not None
        pid = runner.process.pid
        body = {"email": ADMIN, "nickname": "a", "name": "A", "surname": "A", "password": PASSWORD}
        httpx.post(f"{runner.url}/users/register", json=body)
        admin = httpx.post(f"{runner.url}/users/login", json={"email": ADMIN, "password": PASSWORD}).json()["token"]
        plan_id = httpx.post(
            f"{runner.url}/subscriptions/plans",
            headers={"Authorization": f"Bearer {admin}"},
            json={"price": 3.5, "duration": 30, "title": "Soak"},
        ).json()["plan"]["plan_id"]
        memory_start = rss_kib(pid)
        deadline = time.monotonic() + args.seconds

        async def everyone() -> None:
            await asyncio.gather(
                sample_memory(pid, deadline, stored, samples),
                *(client(n, runner.url, plan_id, deadline, stats, errors, stored) for n in range(args.clients)),
            )

        asyncio.run(everyone())
        samples.append((samples[-1][0], rss_kib(pid), dict(stored)))  # after the last replies
    finally:
        runner.stop()
        fake.terminate()
        fake.wait()
        shutil.rmtree(data_dir, ignore_errors=True)
    print(f"soak: {args.seconds:.0f} s, {args.clients} clients, warm-up {warmup:.0f} s; RSS every {SAMPLE_SECONDS} s")
    for kind, values in stats.items():
        ordered = sorted(values)
        print(
            f"  {kind:12} {len(values):7d} ops  p50 {statistics.median(values) * 1000:7.1f} ms  "
            f"p99 {ordered[int(len(ordered) * 0.99)] * 1000:7.1f} ms"
        )
    print(f"  errors: {dict(errors) or 'none'}")
    print(f"  runner RSS before the load: {memory_start / 1024:.0f} MiB")
    report_memory(samples, warmup)


if __name__ == "__main__":
    main()
