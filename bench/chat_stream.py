"""Streaming chat through Kiroshi vs straight to the upstream, measured in the same run.

    .venv/bin/python bench/chat_stream.py [--seconds 10] [--tokens 32] [--idle 10000] [--catalogue 50]

Starts the fake OpenAI-compatible upstream and a local runner (embedded SurrealDB on disk, fsync
on), then reports: time to first token p50/p99 at concurrency 1 and 50 (direct vs Kiroshi, and
what Kiroshi adds), streamed replies per second at concurrency 50 (direct vs Kiroshi, every reply
stored), and the runner's memory per idle session with N idle sessions open. With `--catalogue N`
a second runner in the same run serves the same model from a KIROSHI_MODELS_FILE of N models with
fallbacks (tests.support.catalogues.many_models), and its figures are printed beside the
one-provider shorthand's.

Both clients use aiohttp (its HTTP and WebSocket parsers are in C) and decode every SSE event or
frame with orjson, as a real client would: a slower client would measure itself, not the server.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.catalogues import many_models  # noqa: E402
from tests.support.chat import ChatUser  # noqa: E402
from tests.support.runner import Runner, free_port, wait_http  # noqa: E402


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def direct_reply(http: aiohttp.ClientSession, url: str, content: str) -> float:
    body = {
        "model": "gpt-4o-mini",
        "messages": [{"role": "user", "content": content}],
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    started = time.perf_counter()
    first = 0.0
    headers = {"content-type": "application/json", "authorization": "Bearer bench"}
    async with http.post(url, data=orjson.dumps(body), headers=headers) as response:
        response.raise_for_status()
        pending = b""
        async for chunk in response.content.iter_any():
            *lines, pending = (pending + chunk).split(b"\n")
            for line in lines:
                if line.startswith(b"data:") and line[5:].strip() != b"[DONE]":
                    event = orjson.loads(line[5:])
                    if not first and any(c["delta"].get("content") for c in event["choices"]):
                        first = time.perf_counter() - started
    return first


async def kiroshi_reply(ws: aiohttp.ClientWebSocketResponse, content: str) -> float:
    started = time.perf_counter()
    await ws.send_str(orjson.dumps({"type": "message", "content": content}).decode())
    first = 0.0
    while True:
        frame = orjson.loads(await ws.receive_str())
        if frame["type"] == "delta" and not first:
            first = time.perf_counter() - started
        elif frame["type"] == "done":
            return first
        elif frame["type"] == "error":
            raise RuntimeError(frame)


async def run_clients(n: int, seconds: float, one_reply) -> tuple[list[float], int]:
    deadline = time.perf_counter() + seconds
    ttfts: list[float] = []

    async def client(i: int) -> None:
        while time.perf_counter() < deadline:
            ttfts.append(await one_reply(i))

    await asyncio.gather(*(client(i) for i in range(n)))
    return ttfts, len(ttfts)


async def measure(args: argparse.Namespace, upstream: str, runner: Runner, label: str = "kiroshi") -> dict[str, object]:
    user = ChatUser.create(runner.url)
    chats = [user.chat_id] + [user.new_chat() for _ in range(49)]
    prompt = f"bench [tokens={args.tokens}]"
    results: dict[str, object] = {}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100)) as http:
        for concurrency in (1, 50) if label == "kiroshi" else ():
            ttfts, count = await run_clients(
                concurrency, args.seconds, lambda i: direct_reply(http, f"{upstream}/chat/completions", prompt)
            )
            results[f"direct c={concurrency}"] = (ttfts, count / args.seconds)
        ws_base = runner.url.replace("http://", "ws://")
        sockets = [
            await http.ws_connect(f"{ws_base}/chats/{user.user_id}/{chat}/session?auth_token={user.token}")
            for chat in chats
        ]
        for ws in sockets:
            await ws.receive_str()
        for concurrency in (1, 50):
            ttfts, count = await run_clients(concurrency, args.seconds, lambda i: kiroshi_reply(sockets[i], prompt))
            results[f"{label} c={concurrency}"] = (ttfts, count / args.seconds)
        for ws in sockets:
            await ws.close()
    return results


def catalogue_run(args: argparse.Namespace, port: int, env: dict[str, str]) -> dict[str, object]:
    """The same measurement through a runner whose models come from a catalogue of `args.catalogue`
    models over two upstreams (both the fake), each with two fallbacks: `gpt-4o-mini` is the first."""
    data_dir = Path(tempfile.mkdtemp(prefix="kiroshi-chat-bench-catalogue-"))
    models = data_dir / "models.toml"
    upstream = f"http://127.0.0.1:{port}/v1"
    models.write_text(many_models([upstream, upstream], args.catalogue, "BENCH_KEY"), encoding="utf-8")
    shorthand = {k: v for k, v in env.items() if not k.startswith("OPENAI_")}
    runner = Runner(data_dir, {**shorthand, "KIROSHI_MODELS_FILE": str(models), "BENCH_KEY": "bench"}, quiet=True)
    try:
        runner.start()
        return asyncio.run(measure(args, upstream, runner, label="catalogue"))
    finally:
        runner.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


async def idle_sessions(runner: Runner, count: int) -> tuple[int, int]:
    assert runner.process is not None
    user = ChatUser.create(runner.url)
    url = user.session_url().replace("http://", "ws://")
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:
        warm = [await http.ws_connect(url) for _ in range(50)]
        for ws in warm:
            await ws.close()
        await asyncio.sleep(0.5)
        before = rss_kib(runner.process.pid)
        sockets = []
        for start in range(0, count, 500):
            batch = await asyncio.gather(*(http.ws_connect(url, autoping=True) for _ in range(min(500, count - start))))
            sockets += batch
            for ws in batch:
                await ws.receive_str()
        await asyncio.sleep(1.0)
        after = rss_kib(runner.process.pid)
        for start in range(0, len(sockets), 500):
            await asyncio.gather(*(ws.close() for ws in sockets[start : start + 500]))
    return before, after


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--tokens", type=int, default=32)
    parser.add_argument("--idle", type=int, default=10_000)
    parser.add_argument("--catalogue", type=int, default=0, help="also measure a catalogue of N models (e.g. 50)")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 4 * args.idle + 1000)), hard))

    port = free_port()
    fake = subprocess.Popen([sys.executable, "-m", "tests.support.fake_openai", str(port), str(args.tokens)], cwd=ROOT)
    data_dir = Path(tempfile.mkdtemp(prefix="kiroshi-chat-bench-"))
    env = {
        "OPENAI_BASE_URL": f"http://127.0.0.1:{port}/v1",
        "OPENAI_API_KEY": "bench",
        "KIROSHI_SOCKETS_PER_USER": "1000000",
        "KIROSHI_MESSAGES_PER_MINUTE": "100000000",
        "KIROSHI_FREE_TOKEN_QUOTA": "1000000000000",
        "KIROSHI_LOG_LEVEL": "WARNING",
    }
    runner = Runner(data_dir, env, quiet=True)
    try:
        try:
            runner.start()
            wait_http(f"http://127.0.0.1:{port}/v1/models")
            results = asyncio.run(measure(args, f"http://127.0.0.1:{port}/v1", runner))
            before, after = asyncio.run(idle_sessions(runner, args.idle)) if args.idle else (0, 0)
        finally:
            runner.stop()
        if args.catalogue:  # the same fake, right after: the machine's drift is the smaller
            results |= catalogue_run(args, port, env)
    finally:
        fake.terminate()
        fake.wait()
        shutil.rmtree(data_dir, ignore_errors=True)

    print(f"{'':22}{'TTFT p50':>10}{'TTFT p99':>10}{'replies/s':>11}")
    for name, (ttfts, rate) in results.items():
        print(f"{name:22}{pct(ttfts, 0.5):8.2f}ms{pct(ttfts, 0.99):8.2f}ms{rate:11.1f}")
    for c in (1, 50) if args.catalogue else ():
        shorthand, routed = results[f"kiroshi c={c}"], results[f"catalogue c={c}"]
        print(
            f"{args.catalogue}-model catalogue vs one-provider shorthand c={c}: first token p50 "
            f"{pct(routed[0], 0.5) - pct(shorthand[0], 0.5):+.2f} ms, replies/s {routed[1] / shorthand[1]:.1%}"
        )
    for c in (1, 50):
        direct, kiroshi = results[f"direct c={c}"], results[f"kiroshi c={c}"]
        print(
            f"added first-token time c={c}: p50 {pct(kiroshi[0], 0.5) - pct(direct[0], 0.5):+.2f} ms, "
            f"p99 {pct(kiroshi[0], 0.99) - pct(direct[0], 0.99):+.2f} ms; "
            f"replies/s {kiroshi[1] / direct[1]:.1%} of direct"
        )
    if args.idle:
        print(
            f"idle sessions: {args.idle}, runner RSS {before} KiB -> {after} KiB, "
            f"{(after - before) / args.idle:.1f} KiB per session"
        )


if __name__ == "__main__":
    main()
