"""A normal chat client's reply time, idle and while 1,000 idle sockets, 50 clients that never read
and a flooding client hit the same runner (same run, same machine).

    .venv/bin/python bench/ws_abuse.py
"""

from __future__ import annotations

import asyncio
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from websockets.asyncio.client import connect

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.chat import ChatUser  # noqa: E402
from tests.support.runner import Runner, free_port  # noqa: E402


async def replies(url: str, count: int) -> list[float]:
    times = []
    async with connect(url) as ws:
        await ws.recv()
        for _ in range(count):
            started = time.perf_counter()
            await ws.send(json.dumps({"type": "message", "content": "normal [tokens=20]"}))
            while json.loads(await ws.recv())["type"] not in ("done", "error"):
                pass
            times.append(time.perf_counter() - started)
    return times


async def flood(url: str, stop: asyncio.Event) -> None:
    async with connect(url) as ws:
        await ws.recv()
        while not stop.is_set():
            await ws.send(json.dumps({"type": "message", "content": "flood [tokens=1]"}))
            await ws.send("not json at all")
            await asyncio.sleep(0.001)


async def main(runner: Runner) -> None:
    normal, crowd = ChatUser.create(runner.url), ChatUser.create(runner.url)
    normal_url = normal.session_url().replace("http://", "ws://")
    crowd_url = crowd.session_url().replace("http://", "ws://")
    await replies(normal_url, 5)
    idle = statistics.median(await replies(normal_url, 40))
    sockets = []
    for _ in range(4):
        sockets += await asyncio.gather(*(connect(crowd_url, ping_interval=None) for _ in range(250)))
    for ws in sockets[:50]:  # slow clients: they ask and never read
        await ws.send(json.dumps({"type": "message", "content": "slow reader [tokens=200]"}))
    stop = asyncio.Event()
    flooders = [asyncio.create_task(flood(crowd_url, stop)) for _ in range(2)]
    busy = statistics.median(await replies(normal_url, 40))
    stop.set()
    await asyncio.gather(*flooders)
    await asyncio.gather(*(ws.close() for ws in sockets))
    print(
        f"normal client reply (20 tokens), median of 40: idle {idle * 1000:.1f} ms, "
        f"under abuse {busy * 1000:.1f} ms: {busy / idle:.2f}x"
    )


if __name__ == "__main__":
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 8192), hard))
    port = free_port()
    fake = subprocess.Popen([sys.executable, "-m", "tests.support.fake_openai", str(port), "20"], cwd=ROOT)
    env = {
        "OPENAI_BASE_URL": f"http://127.0.0.1:{port}/v1",
        "OPENAI_API_KEY": "k",
        "KIROSHI_LOG_LEVEL": "WARNING",
        "KIROSHI_SOCKETS_PER_USER": "5000",
        "KIROSHI_MESSAGES_PER_MINUTE": "100000",
    }
    runner = Runner(Path(tempfile.mkdtemp(prefix="kiroshi-abuse-")), env, quiet=True).start()
    try:
        asyncio.run(main(runner))
    finally:
        runner.stop()
        fake.terminate()
        fake.wait()
