"""Cold start of every HTTP function, each in a fresh process, as functions-framework would run it
(`main.<target>`), against a SurrealDB server (the shared-engine fixture over WebSocket RPC).

    .venv/bin/python bench/cold_start.py

Prints, per function: the first call's status, the time to import the function and serve that
first call (measured inside the process), and the whole process (interpreter start to exit),
next to an empty `python -c pass` measured in the same run.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from functions.routes import ROUTES  # noqa: E402
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


def main() -> None:
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
        seed = subprocess.run(
            [
                sys.executable,
                "-c",
                (
                    "import json; from lib.config import load_settings; from lib.services import create_services\n"
                    "from tests.support.client import Client\n"
                    "s = create_services(load_settings()); c = Client(s); a = c.account('cold@example.com', "
                    "'cold start passphrase')\n"
                    "chat = c.post(f'/chats/{a.user_id}', {'model': 'gpt-4o-mini'}, token=a.token).json['chat_id']\n"
                    "print(json.dumps({'token': a.token, 'user_id': a.user_id, 'chat_id': chat}))"
                ),
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        ids = json.loads(seed.stdout.strip().splitlines()[-1])
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        empty = (time.perf_counter() - started) * 1000
        print(f"{'function':32}{'status':>7}{'import+first call':>19}{'whole process':>15}{'flask itself':>14}")
        worst = 0.0
        # The token's own revocation (logout) and the account's deletion go last.
        last = ("users.logout", "users.delete")
        for route in sorted(ROUTES, key=lambda r: r.name in last):
            if route.websocket or route.asynchronous:
                continue
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
            out = subprocess.run(
                [sys.executable, "-c", CHILD, json.dumps(spec)],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            whole = (time.perf_counter() - started) * 1000
            result = json.loads(out.strip().splitlines()[-1])
            worst = max(worst, result["ms"])
            print(
                f"{route.name:32}{result['status']:>7}{result['ms']:>16.0f} ms{whole:>12.0f} ms"
                f"{result['flask']:>11.0f} ms"
            )
        print(f"empty interpreter (python -c pass): {empty:.0f} ms; slowest import+first call: {worst:.0f} ms")
    finally:
        database.terminate()
        database.wait()
        database.stdout.close()


if __name__ == "__main__":
    main()
