"""Schemathesis against a running local runner's /openapi.json: every operation, authenticated,
all checks but `positive_data_acceptance` (Kiroshi answers 422 for values a schema cannot express:
opaque cursors, configured models, supported currencies; the document says so).

    python -m tests.support.fuzz [--max-examples N]     (make fuzz runs the full size)
Exits non-zero on any server error or response that violates the document.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx

from tests.support.runner import ROOT, Runner

ADMIN = "fuzz-admin@example.com"
PASSWORD = "fuzzing passphrase 9"
SESSION_ENDERS = ("users_delete", "users_logout", "users_change_password")


def _token(url: str, email: str) -> str:
    body = {"email": email, "nickname": "f", "name": "F", "surname": "Z", "password": PASSWORD}
    httpx.post(f"{url}/users/register", json=body, timeout=30)
    return str(httpx.post(f"{url}/users/login", json={"email": email, "password": PASSWORD}).json()["token"])


def _schemathesis(url: str, token: str, max_examples: int, operations: list[str], include: bool) -> tuple[int, str]:
    command = [
        str(Path(sys.executable).parent / "schemathesis"),
        "run",
        f"{url}/openapi.json",
        "-H",
        f"Authorization: Bearer {token}",
        "--checks",
        "all",
        "--exclude-checks",
        "positive_data_acceptance",
        "--max-examples",
        str(max_examples),
        "--seed",
        "20261126",
        "--no-color",
    ]
    for operation in operations:
        command += ["--include-operation-id" if include else "--exclude-operation-id", operation]
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    return result.returncode, result.stdout + result.stderr


def fuzz(max_examples: int) -> tuple[bool, int, str]:
    """(passed, requests generated, report) for a fresh runner."""
    env = {
        "KIROSHI_BOOTSTRAP_ADMIN_EMAIL": ADMIN,
        "KIROSHI_LOG_LEVEL": "WARNING",
        "KIROSHI_REGISTER_MAX_PER_ADDRESS": "10000000",
        "KIROSHI_LOGIN_MAX_FAILURES_PER_ADDRESS": "10000000",
        "KIROSHI_LOGIN_MAX_FAILURES_PER_ACCOUNT": "10000000",
    }
    runner = Runner(Path(tempfile.mkdtemp(prefix="kiroshi-fuzz-")), env).start()
    try:
        admin = _token(runner.url, ADMIN)
        code, report = _schemathesis(runner.url, admin, max_examples, list(SESSION_ENDERS), include=False)
        disposable = _token(runner.url, "fuzz-user@example.com")
        code2, report2 = _schemathesis(runner.url, disposable, max_examples, list(SESSION_ENDERS), include=True)
    finally:
        runner.stop()
    generated = sum(int(n) for n in re.findall(r"(\d+) generated", report + report2))
    return code == 0 and code2 == 0, generated, report + "\n" + report2


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--max-examples", type=int, default=100)
    args = parser.parse_args()
    passed, generated, report = fuzz(args.max_examples)
    print(report[-6000:])
    print(f"{generated} requests generated; {'no failures' if passed else 'FAILURES'}")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
