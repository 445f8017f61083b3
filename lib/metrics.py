"""Prometheus metrics of this process (prometheus-client), served at GET /metrics."""

from __future__ import annotations

from typing import Any

from prometheus_client import Counter, Gauge, Histogram

__all__ = [
    "ADAPTER_UP",
    "FIRST_TOKEN",
    "LIVE_SESSIONS",
    "REPLIES_IN_PROGRESS",
    "REQUESTS",
    "REQUEST_SECONDS",
    "TOKENS_STREAMED",
    "UPSTREAM_ERRORS",
    "count_request",
]

REQUESTS = Counter("kiroshi_requests_total", "HTTP requests by route and status", ["route", "status"])
REQUEST_SECONDS = Histogram(
    "kiroshi_request_seconds",
    "HTTP request latency by route",
    ["route"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
LIVE_SESSIONS = Gauge("kiroshi_chat_sessions", "open chat WebSocket sessions")
REPLIES_IN_PROGRESS = Gauge("kiroshi_chat_replies_in_progress", "replies being generated")
FIRST_TOKEN = Histogram(
    "kiroshi_chat_first_token_seconds",
    "time from a chat message to its first streamed delta",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
TOKENS_STREAMED = Counter("kiroshi_chat_deltas_total", "reply deltas streamed to clients")
UPSTREAM_ERRORS = Counter("kiroshi_upstream_errors_total", "model server failures by code", ["code"])
ADAPTER_UP = Gauge("kiroshi_dependency_up", "1 when a dependency answered the last readiness check", ["dependency"])


_served: dict[tuple[str, int], tuple[Any, Any]] = {}


def count_request(route: str, status: int, seconds: float) -> None:
    """Count one served request and observe its latency (label lookups cached: they cost more
    than the update)."""
    children = _served.get((route, status))
    if children is None:
        children = _served[route, status] = (REQUESTS.labels(route, str(status)), REQUEST_SECONDS.labels(route))
    children[0].inc()
    children[1].observe(seconds)
