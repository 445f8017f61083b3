"""Cold start of every HTTP function, each in a fresh process, as functions-framework would run it
(`main.<target>`), against a SurrealDB server (the shared-engine fixture over WebSocket RPC).

    .venv/bin/python bench/cold_start.py                                  # every HTTP function
    .venv/bin/python bench/cold_start.py users.register users.me --repeat 5  # some, each started 5 times

Prints, per function: the first call's status, the time to import the function and serve that
first call (measured inside the process), and the whole process (interpreter start to exit), the
median of the repeats, next to an empty `python -c pass` measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from functions.routes import ROUTES, router  # noqa: E402
from lib.http.routing import Route  # noqa: E402
from tests.support.runner import free_port  # noqa: E402

CHILD = """
import time
started = time.perf_counter()
import json, sys
from flask import Request  # functions-framework has Flask and Werkzeug loaded before it imports the source
from werkzeug.test import EnvironBuilder
framework = time.perf_counter()
import main
spec = json.loads(sys.argv[1])
builder = EnvironBuilder(method=spec["method"], path=spec["path"], json=spec.get("body"),
                         headers={"Authorization": "Bearer " + spec["token"]})
response = getattr(main, spec["target"])(Request(builder.get_environ()))
done = time.perf_counter()
ms, flask_ms = (done - framework) * 1000, (framework - started) * 1000
print(json.dumps({"status": response.status_code, "ms": ms, "flask": flask_ms}))
"""

BODIES = {
    "users.register": {
        "email": "cold-new@example.com",
        "nickname": "c",
        "name": "C",
        "surname": "C",
        "password": "cold start passphrase",
    },
    "users.login": {"email": "cold@example.com", "password": "cold start passphrase"},
    "chats.create": {"model": "gpt-4o-mini"},
}


SEED = """
import json; from lib.config import load_settings; from lib.services import create_services
from tests.support.client import Client
s = create_services(load_settings()); c = Client(s); a = c.account('cold@example.com', 'cold start passphrase')
chat = c.post(f'/chats/{a.user_id}', {'model': 'gpt-4o-mini'}, token=a.token).json['chat_id']
print(json.dumps({'token': a.token, 'user_id': a.user_id, 'chat_id': chat}))
"""


def _run(code: str, *args: str, env: dict[str, str]) -> str:
    return subprocess.run(
        [sys.executable, "-c", code, *args], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout.strip()


def _measure(route: Route, ids: dict[str, str], env: dict[str, str]) -> tuple[int, float, float, float]:
    """One cold start: status, import+first call, whole process and Flask's own import, in ms."""
    path = route.path.replace("{user_id}", ids["user_id"]).replace("{chat_id}", ids["chat_id"])
    for param in route.params:
        path = path.replace("{" + param + "}", "unknown")
    spec = {
        "target": route.target,
        "method": route.method,
        "path": path,
        "token": ids["token"],
        "body": BODIES.get(route.name, {} if route.body else None),
    }
    started = time.perf_counter()
    result = json.loads(_run(CHILD, json.dumps(spec), env=env).splitlines()[-1])
    return result["status"], result["ms"], (time.perf_counter() - started) * 1000, result["flask"]


def _routes(names: list[str]) -> list[Route]:
    """The routes to measure: those named, or every HTTP one; logout and deletion last (they
    revoke the token and the account that the others use)."""
    routes = [router.named(name) for name in names] if names else [r for r in ROUTES if not r.websocket]
    last = ("users.logout", "users.delete")
    return sorted((r for r in routes if not r.asynchronous), key=lambda r: r.name in last)


def main() -> None:
    parser = argparse.ArgumentParser(description="Cold start of each HTTP function in a fresh process.")
    parser.add_argument("names", nargs="*", help="route names (users.register); every HTTP route by default")
    parser.add_argument("--repeat", type=int, default=1, help="fresh processes per function (the median prints)")
    args = parser.parse_args()
    routes = _routes(args.names)
    port = free_port()
    database = subprocess.Popen(
        [sys.executable, "-m", "tests.support.surreal_ws", str(port)], cwd=ROOT, stdout=subprocess.PIPE
    )
    assert database.stdout is not None
    database.stdout.readline()
    env = {
        "PATH": "/usr/bin:/bin",
        "KIROSHI_DATABASE_URL": f"ws://127.0.0.1:{port}",
        "KIROSHI_LOG_LEVEL": "WARNING",
        "KIROSHI_JWT_SECRET": "cold-start-secret-" + "c" * 40,
        "KIROSHI_DATA_DIR": tempfile.mkdtemp(prefix="kiroshi-cold-"),
    }
    try:
        ids = json.loads(_run(SEED, env=env).splitlines()[-1])
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        empty = (time.perf_counter() - started) * 1000
        print(f"{'function':32}{'status':>7}{'import+first call':>19}{'whole process':>15}{'flask itself':>14}")
        worst = 0.0
        for route in routes:
            runs = [_measure(route, ids, env) for _ in range(args.repeat)]
            status = runs[-1][0]
            ms, whole, flask = (statistics.median(run[i] for run in runs) for i in (1, 2, 3))
            worst = max(worst, ms)
            print(f"{route.name:32}{status:>7}{ms:>16.0f} ms{whole:>12.0f} ms{flask:>11.0f} ms")
        print(f"empty interpreter (python -c pass): {empty:.0f} ms; slowest import+first call: {worst:.0f} ms")
    finally:
        database.terminate()
        database.wait()
        database.stdout.close()


if __name__ == "__main__":
    main()
