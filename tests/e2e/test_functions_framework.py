"""Google Cloud Functions' front door: `functions-framework --target <name>` serves exactly one
function from main.py, at its route's path and at its own root (a deployed function's URL). Four
targets run as real processes sharing one database."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.runner import ROOT, free_port, wait_http

pytestmark = pytest.mark.e2e

PASSWORD = "framework passphrase 3"


@dataclass(frozen=True)
class Function:
    url: str
    output: Path  # the process's stdout

    def log(self) -> list[dict[str, Any]]:
        """The JSON lines the function wrote to stdout so far (each access line leaves at once)."""
        return [json.loads(line) for line in self.output.read_text().splitlines()]


@pytest.fixture(scope="module")
def targets(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Function]]:
    db_port = free_port()
    database = subprocess.Popen(
        [sys.executable, "-m", "tests.support.surreal_ws", str(db_port)], cwd=ROOT, stdout=subprocess.PIPE
    )
    assert database.stdout is not None and database.stdout.readline().strip() == b"ready"
    work = tmp_path_factory.mktemp("ff")
    env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "KIROSHI_DATABASE_URL": f"ws://127.0.0.1:{db_port}",
        "KIROSHI_JWT_SECRET": "framework-secret-" + "f" * 40,
        "KIROSHI_DATA_DIR": str(work),
        "KIROSHI_LOG_LEVEL": "INFO",
    }
    processes, functions = [], {}
    for target in ("users_register", "users_login", "users_me", "users_get"):
        port = free_port()
        functions[target] = Function(f"http://127.0.0.1:{port}", work / f"{target}.out")
        where = ["--port", str(port), "--host", "127.0.0.1"]
        with functions[target].output.open("wb") as stdout:
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "functions_framework", "--source", "main.py", "--target", target, *where],
                    cwd=ROOT,
                    env=env,
                    stdout=stdout,
                    stderr=subprocess.DEVNULL,
                )
            )
    for function in functions.values():
        assert wait_http(function.url), f"{function.url} did not start"
    yield functions
    for process in processes:
        process.terminate()
        process.wait()
    database.terminate()
    database.wait()
    database.stdout.close()


def _register(function: Function, email: str, path: str = "/users/register") -> httpx.Response:
    body = {"email": email, "nickname": "f", "name": "F", "surname": "F", "password": PASSWORD}
    return httpx.post(f"{function.url}{path}", json=body)


def _login(function: Function, email: str) -> tuple[str, str]:
    login = httpx.post(f"{function.url}/users/login", json={"email": email, "password": PASSWORD}).json()
    return login["token"], login["user_id"]


def test_each_target_serves_its_function_with_auth_and_errors(targets: dict[str, Function]) -> None:
    created = _register(targets["users_register"], "ff@example.com")
    token, user_id = _login(targets["users_login"], "ff@example.com")
    bearer = {"Authorization": f"Bearer {token}"}
    me = httpx.get(f"{targets['users_me'].url}/auth", headers=bearer)
    profile = httpx.get(f"{targets['users_get'].url}/users/{user_id}", headers=bearer)
    other = httpx.get(f"{targets['users_get'].url}/users/someone-else", headers=bearer)

    assert created.status_code == 201
    assert me.json()["email"] == "ff@example.com"
    assert profile.json()["user_id"] == user_id
    assert other.status_code == 403
    assert httpx.get(f"{targets['users_me'].url}/auth").status_code == 401
    wrong_function = httpx.post(f"{targets['users_me'].url}/users/login", json={})
    assert wrong_function.status_code in (404, 405)
    assert wrong_function.headers["content-type"] == "application/problem+json"


def test_each_target_serves_its_route_at_its_own_root_with_path_parameters_after_it(
    targets: dict[str, Function],
) -> None:
    """As a deployed Cloud Function is called: `POST <function URL>/`, `GET <function URL>/<user_id>`."""
    created = _register(targets["users_register"], "root@example.com", path="/")
    token, user_id = _login(targets["users_login"], "root@example.com")
    bearer = {"Authorization": f"Bearer {token}"}
    me = httpx.get(f"{targets['users_me'].url}/", headers=bearer)
    profile = httpx.get(f"{targets['users_get'].url}/{user_id}", headers=bearer)
    other = httpx.get(f"{targets['users_get'].url}/someone-else", headers=bearer)
    too_deep = httpx.get(f"{targets['users_get'].url}/{user_id}/more", headers=bearer)

    assert created.status_code == 201
    assert created.json()["created_user"]["user_id"] == user_id
    assert me.json()["email"] == "root@example.com"
    assert profile.status_code == 200 and profile.json()["user_id"] == user_id
    assert other.status_code == 403
    assert too_deep.status_code == 404 and too_deep.headers["content-type"] == "application/problem+json"


def test_each_request_writes_a_json_access_line_at_once_without_the_token(targets: dict[str, Function]) -> None:
    created = _register(targets["users_register"], "logged@example.com", path="/")
    token, user_id = _login(targets["users_login"], "logged@example.com")
    profile = httpx.get(
        f"{targets['users_get'].url}/{user_id}?auth_token={token}", headers={"Authorization": f"Bearer {token}"}
    )

    register_lines = [line for line in targets["users_register"].log() if line["logger"] == "kiroshi.access"]
    [line] = [line for line in register_lines if line["request_id"] == created.headers["x-request-id"]]
    assert (line["route"], line["status"], line["method"], line["path"]) == ("users.register", 201, "POST", "/")
    assert line["level"] == "info" and line["duration_ms"] > 0
    get_lines = [
        line for line in targets["users_get"].log() if line.get("request_id") == profile.headers["x-request-id"]
    ]
    assert [(line["route"], line["status"], line["user_id"], line["path"]) for line in get_lines] == [
        ("users.get", 200, user_id, f"/{user_id}")
    ]
    assert token not in targets["users_get"].output.read_text()
    assert token not in targets["users_login"].output.read_text()
