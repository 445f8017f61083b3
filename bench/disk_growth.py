"""Disk growth of the embedded database per 10,000 chat messages, what a backup of it costs and what
a restore gives back (not CI). Turns are stored through the chat repository's own write (`turn`,
committed alone and fsynced, as a quiet server commits them) into a fresh SurrealKV directory; then
`du`, a backup, and a restore into another directory.

    .venv/bin/python bench/disk_growth.py [--messages 10000] [--chats 100] [--reply-chars 1000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lib.config import Secret, Settings  # noqa: E402
from lib.db.backup import dump, load  # noqa: E402
from lib.db.connection import open_database  # noqa: E402
from lib.db.group_commit import commit  # noqa: E402
from lib.db.records import new_id  # noqa: E402
from lib.services import create_services  # noqa: E402

QUESTION = "How do I keep a small server running for months without it filling its disk? " * 2  # ~150 chars
WORDS = "Rotate logs, bound caches, expire what is temporary and measure before you guess. "


def du_bytes(path: Path) -> int:
    out = subprocess.run(["du", "-sb", str(path)], capture_output=True, text=True, check=True).stdout
    return int(out.split()[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--chats", type=int, default=100)
    parser.add_argument("--reply-chars", type=int, default=1000)
    args = parser.parse_args()
    from lib.accounts.repository import create_user
    from lib.chats.repository import create_chat, turn

    reply = (WORDS * (args.reply_chars // len(WORDS) + 1))[: args.reply_chars]
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "kiroshi"
        settings = Settings(data_dir=Path(tmp), database_url=f"surrealkv://{data}", jwt_secret=Secret("x" * 40))
        services = create_services(settings)
        db, now = services.db, dt.datetime.now(dt.UTC)
        user = create_user(
            db,
            email="disk@example.com",
            nickname="d",
            name="D",
            surname="D",
            password_hash="-",  # noqa: S106 - never logs in
            now=now,
        )
        chats = [create_chat(db, user.user_id, "gpt-4o-mini", now) for _ in range(args.chats)]
        empty = du_bytes(data)
        period = (now.replace(day=1), now.replace(day=1) + dt.timedelta(days=31))
        started = time.monotonic()
        for i in range(args.messages // 2):  # a turn stores two messages
            write = turn(
                db,
                chats[i % len(chats)],
                question=QUESTION,
                asked_at=now,
                message_id=new_id(),
                content=reply,
                status="complete",
                usage={"prompt_tokens": 40, "completion_tokens": 250},
                period=period,
                now=now,
            )
            commit(db, [write])
        took = time.monotonic() - started
        grown = du_bytes(data) - empty
        text = args.messages // 2 * (len(QUESTION) + len(reply))
        print(f"{args.messages} messages ({text / 2**20:.1f} MiB of text) in {args.chats} chats, {took:.1f} s")
        print(
            f"disk: +{grown / 2**20:.1f} MiB, {grown / args.messages:.0f} bytes per message "
            f"({grown / text:.1f}x the text)"
        )
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        out = io.BytesIO()
        started = time.monotonic()
        summary = dump(db, out)
        took = time.monotonic() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(
            f"backup: {summary.rows} records, {len(out.getbuffer()) / 2**20:.1f} MiB, {took:.2f} s "
            f"(the process answers nothing else meanwhile), peak RSS {before / 1024:.0f} -> {peak / 1024:.0f} MiB"
        )
        services.close()
        restored = Path(tmp) / "restored"
        target = open_database(settings.with_(database_url=f"surrealkv://{restored}"))
        out.seek(0)
        load(target, out)
        target.close()
        print(f"restored from the backup: {du_bytes(restored) / 2**20:.1f} MiB (was {du_bytes(data) / 2**20:.1f})")


if __name__ == "__main__":
    main()
