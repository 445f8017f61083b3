"""Google Cloud Functions' front door: `functions-framework --target <name>` serves exactly one
function from main.py. Three targets run as real processes sharing one database."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.runner import ROOT, free_port, wait_http

pytestmark = pytest.mark.e2e

PASSWORD = "framework passphrase 3"


@pytest.fixture(scope="module")
def targets(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    db_port = free_port()
    database = subprocess.Popen(
        [sys.executable, "-m", "tests.support.surreal_ws", str(db_port)], cwd=ROOT, stdout=subprocess.PIPE
    )
    assert database.stdout is not None and database.stdout.readline().strip() == b"ready"
    env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "KIROSHI_DATABASE_URL": f"ws://127.0.0.1:{db_port}",
        "KIROSHI_JWT_SECRET": "framework-secret-" + "f" * 40,
        "KIROSHI_DATA_DIR": str(tmp_path_factory.mktemp("ff")),
    }
    processes, urls = [], {}
    for target in ("users_register", "users_login", "users_me", "users_get"):
        port = free_port()
        processes.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "functions_framework",
                    "--source",
                    "main.py",
                    "--target",
                    target,
                    "--port",
                    str(port),
                    "--host",
                    "127.0.0.1",
                ],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        urls[target] = f"http://127.0.0.1:{port}"
    for url in urls.values():
        assert wait_http(url), f"{url} did not start"
    yield urls
    for process in processes:
        process.terminate()
        process.wait()
    database.terminate()
    database.wait()
    database.stdout.close()


def test_each_target_serves_its_function_with_auth_and_errors(targets: dict[str, str]) -> None:
    body = {"email": "ff@example.com", "nickname": "f", "name": "F", "surname": "F", "password": PASSWORD}
    created = httpx.post(f"{targets['users_register']}/users/register", json=body)
    login = httpx.post(f"{targets['users_login']}/users/login", json={"email": body["email"], "password": PASSWORD})
    token, user_id = login.json()["token"], login.json()["user_id"]
    me = httpx.get(f"{targets['users_me']}/auth", headers={"Authorization": f"Bearer {token}"})
    profile = httpx.get(f"{targets['users_get']}/users/{user_id}", headers={"Authorization": f"Bearer {token}"})
    other = httpx.get(f"{targets['users_get']}/users/someone-else", headers={"Authorization": f"Bearer {token}"})

    assert created.status_code == 201
    assert me.json()["email"] == "ff@example.com"
    assert profile.json()["user_id"] == user_id
    assert other.status_code == 403
    assert httpx.get(f"{targets['users_me']}/auth").status_code == 401
    wrong_function = httpx.post(f"{targets['users_me']}/users/login", json={})
    assert wrong_function.status_code in (404, 405)
    assert wrong_function.headers["content-type"] == "application/problem+json"
