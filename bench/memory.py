"""Where memory goes, per stored record and per open session (not CI).

Each kind of record is written N times through Kiroshi's own repositories into a fresh embedded
database, in a child process of its own (the engine reads its settings once per process), then:

  rss      the growth of the process's RSS, per record;
  python   the growth of the Python heap (tracemalloc; its own bookkeeping is left out of RSS);
  engine   rss - python: what the embedded engine (and the C allocator under it) keeps;
  trimmed  RSS growth after glibc's malloc_trim(0): the rest was freed memory the allocator held;
  reopen   a fresh process that opens the same directory: RSS growth over one that opens an
           empty one, per record (what the engine loads back, without this run's churn).

Kinds: user (registration: the user and its e-mail guard), contract (a purchase: contract,
transaction tombstone, subscriber period, outbox event), chat (an empty one), message (a chat
turn stores two, and updates its chat and the usage row), usage (a new usage row), outbox (an
event, published: deleted), update (rewriting one record, as a turn rewrites its chat and usage row). Sessions:
idle chat WebSocket sessions held open on a local runner.

    .venv/bin/python bench/memory.py [--count 10000] [--kinds user,message,...] [--sessions 2000]
        [--url surrealkv|mem] [--env SURREAL_SURREALKV_MAX_VALUE_CACHE_SIZE=1000 ...]

Figures are KB (1000 bytes) per record; on a shared machine they move by ~10% between runs.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import datetime as dt
import gc
import inspect
import json
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

KINDS = ("user", "contract", "chat", "message", "usage", "outbox", "update")
QUESTION = "How do I keep a small server running for months without it filling its memory? " * 2  # ~160 chars
WORDS = "Bound caches, expire what is temporary and measure before you guess. "
NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


def rss_kib(pid: int | None = None) -> int:
    for line in Path(f"/proc/{pid or 'self'}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def malloc_trim() -> None:
    """Give the C allocator's free memory back to the system (glibc), so RSS shows what is held."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def settle() -> None:
    gc.collect()
    time.sleep(0.2)


def new_user(db: Any, i: int) -> str:
    from lib.accounts.repository import create_user
    from lib.db.records import new_id

    hashed = "-"  # never logs in
    email = f"m{i}-{new_id()}@example.com"
    return create_user(db, email=email, nickname="m", name="M", surname="K", password_hash=hashed, now=NOW).user_id


def buyer(services: Any, owner: str, reply: str) -> Callable[[int], None]:
    from lib.billing.plans_repository import create_plan
    from lib.billing.purchases import buy
    from lib.db.records import new_id

    fields = {"title": "Pro", "description": "", "price_minor": 350, "currency": "USD", "duration_days": 30}
    plan = create_plan(services.db, fields, NOW)
    users = [new_user(services.db, -2 - n) for n in range(100)]

    def purchase(i: int) -> None:
        buy(services, users[i % 100], plan.plan_id, f"pay-{i}-{new_id()}")

    return purchase


def reply_charge() -> dict[str, Any]:
    """What the engine passes `turn` about the model that served a reply (its `reply_usage` row),
    where this version of the chat repository records one."""
    from lib.chats.repository import turn

    if "charge" not in inspect.signature(turn).parameters:
        return {}
    from lib.chats.usage_repository import Charge

    return {"charge": Charge("gpt-4o-mini", "openai", "gpt-4o-mini", 40, 250, Decimal("0.000165"), "USD")}


def chatter(services: Any, owner: str, reply: str) -> Callable[[int], None]:
    from lib.chats.repository import create_chat, turn
    from lib.db.group_commit import commit
    from lib.db.records import new_id

    chats = [create_chat(services.db, owner, "gpt-4o-mini", NOW) for _ in range(100)]
    period = (NOW.replace(day=1), NOW.replace(day=1) + dt.timedelta(days=31))
    usage = {"prompt_tokens": 40, "completion_tokens": 250}

    extra = reply_charge()

    def message(i: int) -> None:
        if i % 2:
            return  # a turn stores two messages
        chat = chats[i // 2 % len(chats)]
        write = turn(
            **extra,
            db=services.db,
            chat=chat,
            question=QUESTION,
            asked_at=NOW,
            message_id=new_id(),
            content=reply,
            status="complete",
            usage=usage,
            period=period,
            now=NOW,
        )
        commit(services.db, [write])

    return message


def simple(kind: str) -> Callable[[Any, str, str], Callable[[int], None]]:
    """Writers of one statement: a chat, a usage row, an outbox event, an update of one record."""

    def make(services: Any, owner: str, reply: str) -> Callable[[int], None]:
        from lib.chats.repository import add_usage, create_chat
        from lib.db.connection import Event
        from lib.db.records import new_id, record

        db = services.db
        payload = {"user_id": owner, "contract_id": new_id(), "plan_id": new_id(), "ends_at": NOW.isoformat()}
        updated = record("chat", create_chat(db, owner, "gpt-4o-mini", NOW).chat_id)
        writes: dict[str, Callable[[int], object]] = {
            "chat": lambda i: create_chat(db, owner, "gpt-4o-mini", NOW),
            "usage": lambda i: add_usage(db, owner, (NOW + dt.timedelta(hours=i), NOW + dt.timedelta(hours=i + 1)), 1),
            "outbox": lambda i: db.write("LET $nothing = 1", events=[Event("subscriptions.bought", payload)]),
            "update": lambda i: db.transaction("UPDATE $chat SET message_count += 2;", {"chat": updated}),
        }
        write = writes[kind]

        def run(i: int) -> None:
            write(i)

        return run

    return make


WRITERS: dict[str, Callable[[Any, str, str], Callable[[int], None]]] = {
    "contract": buyer,
    "message": chatter,
    **{kind: simple(kind) for kind in ("chat", "usage", "outbox", "update")},
}


def writer(kind: str, services: Any, reply: str) -> Callable[[int], None]:
    """A function that writes the i-th record of `kind` through Kiroshi's repositories, then
    relays the outbox as the dispatch does after each request."""
    write = _writer(kind, services, reply)

    def and_relay(i: int) -> None:
        write(i)
        services.outbox.after_request()

    return and_relay


def _writer(kind: str, services: Any, reply: str) -> Callable[[int], None]:
    if kind == "user":

        def register(i: int) -> None:
            new_user(services.db, i)

        return register
    if kind not in WRITERS:
        raise SystemExit(f"unknown kind {kind!r}; one of {', '.join(KINDS)}")
    return WRITERS[kind](services, new_user(services.db, -1), reply)


def open_services(directory: Path, url: str) -> Any:
    from lib.config import Secret, Settings
    from lib.services import create_services

    database_url = "mem://" if url == "mem" else f"{url}://{directory / 'kiroshi'}"
    return create_services(Settings(data_dir=directory, database_url=database_url, jwt_secret=Secret("x" * 40)))


def child_write(kind: str, count: int, directory: Path, url: str, reply_chars: int) -> dict[str, Any]:
    """In this process: write `count` records of `kind` after a warm-up of a tenth as many."""
    reply = (WORDS * (reply_chars // len(WORDS) + 1))[:reply_chars]
    services = open_services(directory, url)
    write = writer(kind, services, reply)
    warm = max(1, count // 10)
    for i in range(warm):
        write(-1 - i)
    tracemalloc.start()
    settle()
    malloc_trim()
    rss0, heap0 = rss_kib() - tracemalloc.get_tracemalloc_memory() // 1024, tracemalloc.get_traced_memory()[0]
    snapshot0 = tracemalloc.take_snapshot()
    started = time.monotonic()
    for i in range(count):
        write(i)
    took = time.monotonic() - started
    settle()
    rss1 = rss_kib() - tracemalloc.get_tracemalloc_memory() // 1024
    heap1 = tracemalloc.get_traced_memory()[0]
    top = tracemalloc.take_snapshot().compare_to(snapshot0, "filename")[:3]
    malloc_trim()
    rss2 = rss_kib() - tracemalloc.get_tracemalloc_memory() // 1024
    services.close()
    return {
        "kind": kind,
        "count": count,
        "seconds": round(took, 1),
        "rss": (rss1 - rss0) * 1024,
        "python": heap1 - heap0,
        "trimmed": (rss2 - rss0) * 1024,
        "memo": services.db.memo.size(),
        "python_top": [f"{s.traceback[0].filename.rsplit('/', 2)[-1]} {s.size_diff / count:+.0f} B" for s in top],
    }


def child_reopen(directory: Path, url: str) -> dict[str, Any]:
    """In this process: open the directory, read one row of each table, report RSS."""
    services = open_services(directory, url)
    services.db.query("SELECT * FROM user LIMIT 1; SELECT * FROM message LIMIT 1; SELECT * FROM usage LIMIT 1;")
    settle()
    malloc_trim()
    answer = {"rss": rss_kib() * 1024}
    services.close()
    return answer


def run_child(args: list[str], env: dict[str, str]) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, *args], capture_output=True, text=True, env={**os.environ, **env}, check=False
    )
    if out.returncode != 0:
        raise SystemExit(f"child {args} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def measure_kind(kind: str, count: int, url: str, reply_chars: int, env: dict[str, str]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="kiroshi-memory-") as tmp:
        directory, empty = Path(tmp) / "data", Path(tmp) / "empty"
        common = ["--url", url, "--reply-chars", str(reply_chars)]
        result = run_child(["--child", kind, "--count", str(count), "--dir", str(directory), *common], env)
        if url != "mem":
            run_child(["--child", "user", "--count", "1", "--dir", str(empty), *common], env)
            full = run_child(["--child", "reopen", "--dir", str(directory), *common], env)
            bare = run_child(["--child", "reopen", "--dir", str(empty), *common], env)
            result["reopen"] = full["rss"] - bare["rss"]
            result["reopen_base"] = bare["rss"]
        return result


def measure_sessions(count: int) -> tuple[float, int]:
    """KB per idle chat session on a local runner (embedded database), and the runner's RSS before."""
    import asyncio
    import resource
    import shutil

    from bench.chat_stream import idle_sessions
    from tests.support.runner import Runner, free_port

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 4 * count + 1000)), hard))
    data_dir = Path(tempfile.mkdtemp(prefix="kiroshi-memory-sessions-"))
    env = {
        "OPENAI_BASE_URL": f"http://127.0.0.1:{free_port()}/v1",
        "OPENAI_API_KEY": "bench",
        "KIROSHI_LOG_LEVEL": "WARNING",
        "KIROSHI_SOCKETS_PER_USER": str(count + 100),
    }
    runner = Runner(data_dir, env, quiet=True).start()
    try:
        before, after = asyncio.run(idle_sessions(runner, count))
    finally:
        runner.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
    return (after - before) * 1.024 / count, before


def kb(value: float) -> str:
    return f"{value / 1000:7.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--sessions", type=int, default=2000, help="idle sessions to hold open (0: skip)")
    parser.add_argument("--url", default="surrealkv", choices=("surrealkv", "mem", "file"))
    parser.add_argument("--reply-chars", type=int, default=1000)
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE for the engine's processes")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "reopen":
        print(json.dumps(child_reopen(args.dir, args.url)))
        return
    if args.child:
        print(json.dumps(child_write(args.child, args.count, args.dir, args.url, args.reply_chars)))
        return
    env = dict(item.split("=", 1) for item in args.env)
    print(f"engine: {args.url}:// {' '.join(args.env)}; {args.count} records per kind; KB per record")
    print(f"{'kind':9} {'rss':>7} {'python':>7} {'engine':>7} {'trimmed':>7} {'reopen':>7}  python's growth by file")
    for kind in args.kinds.split(","):
        r = measure_kind(kind, args.count, args.url, args.reply_chars, env)
        n = r["count"]
        reopen = kb(r["reopen"] / n) if "reopen" in r else "      -"
        print(
            f"{kind:9} {kb(r['rss'] / n)} {kb(r['python'] / n)} {kb((r['rss'] - r['python']) / n)} "
            f"{kb(r['trimmed'] / n)} {reopen}  {', '.join(r['python_top'])} ({r['seconds']} s, memo {r['memo']})"
        )
        if "reopen_base" in r:
            base = r["reopen_base"] / 2**20
    if args.url != "mem" and args.kinds:
        print(f"a fresh process on an empty database: {base:.0f} MiB")
    if args.sessions:
        per_session, before = measure_sessions(args.sessions)
        print(
            f"idle chat session: {per_session:.1f} KB each "
            f"({args.sessions} held; the runner at {before / 1024:.0f} MiB)"
        )


if __name__ == "__main__":
    main()
