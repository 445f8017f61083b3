"""Argon2id password hashes (passlib, OWASP parameters) and the password policy.

Hashing and verifying take ~25 ms of CPU and release the GIL: routes that call them are marked
`offload` in the route table so the local runner runs them off its event loop.
"""

from __future__ import annotations

import functools
import threading
from importlib import resources
from typing import Any

__all__ = ["MAX_LENGTH", "MIN_LENGTH", "hash_password", "is_common", "verify_password", "waste_time"]

MIN_LENGTH = 8
MAX_LENGTH = 128


_hasher_lock = threading.Lock()


@functools.cache
def _configured_hasher() -> Any:
    from passlib.hash import argon2  # noqa: PLC0415 - only functions that hash pay for passlib

    return argon2.using(type="ID", memory_cost=19 * 1024, time_cost=2, parallelism=1)


def _hasher() -> Any:
    # passlib's lazy `passlib.hash` module is not safe to import from two threads at once.
    with _hasher_lock:
        return _configured_hasher()


def hash_password(password: str) -> str:
    return str(_hasher().hash(password))


def verify_password(password: str, password_hash: str) -> bool:
    try:
        return bool(_hasher().verify(password, password_hash))
    except ValueError:  # a malformed stored hash never lets anyone in
        return False


@functools.cache
def _dummy_hash() -> str:
    return hash_password("kiroshi-timing-equaliser")


def waste_time(password: str) -> None:
    """Spend what a real verify costs, so an unknown account answers as slowly as a known one."""
    verify_password(password, _dummy_hash())


@functools.cache
def _common() -> frozenset[str]:
    text = (resources.files("lib.auth") / "common-passwords.txt").read_text(encoding="utf-8")
    return frozenset(line.strip().casefold() for line in text.splitlines() if line.strip())


def is_common(password: str) -> bool:
    return password.casefold() in _common()
