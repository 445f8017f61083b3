"""GET /metrics — anyone (scrape it from the private network). Prometheus text format."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from lib.http.dispatch import Call
from lib.http.messages import Reply


def handler(call: Call) -> Reply:
    return Reply(generate_latest(), content_type=CONTENT_TYPE_LATEST)
