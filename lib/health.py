"""Readiness: ask each dependency whether it answers, and say which adapter is in use."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from lib.metrics import ADAPTER_UP

if TYPE_CHECKING:
    from lib.services import Services

__all__ = ["check_dependencies"]

log = logging.getLogger("kiroshi.health")


def _check(adapter: str, probe: Callable[[], object]) -> dict[str, Any]:
    try:
        probe()
    except Exception as exc:  # any failure of a dependency is "down", never a 500
        log.warning("%s dependency is down: %s", adapter, exc)
        return {"status": "down", "adapter": adapter}
    return {"status": "ok", "adapter": adapter}


def check_dependencies(services: Services) -> dict[str, dict[str, Any]]:
    checks = {
        "database": _check(services.db.adapter, services.db.ping),
        "cache": _check(services.cache.adapter, lambda: services.cache.get("kiroshi:ready")),
        "message_queue": _check(services.bus.adapter, getattr(services.bus, "ping", lambda: None)),
    }
    for name, check in checks.items():
        ADAPTER_UP.labels(name).set(1 if check["status"] == "ok" else 0)
    return checks
