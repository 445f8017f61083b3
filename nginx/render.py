"""Render nginx/kiroshi.conf.template. `python nginx/render.py > nginx/compose.conf` makes the
compose configuration; the e2e tests render their own with local ports."""

from __future__ import annotations

import sys
from pathlib import Path

TEMPLATE = Path(__file__).with_name("kiroshi.conf.template")

COMPOSE = {
    "workers": "auto",
    "pid": "/var/run/nginx.pid",
    "error_log": "/dev/stderr",
    "access_log": "/dev/stdout",
    "temp": "/var/cache/nginx",
    "listen": "80",
    "auth_rate": "10r/s",
    "auth_burst": "20",
    "sessions_per_address": "50",
    "http_servers": "        server http:8080 max_fails=0;",
    "ws_servers": "        server websocket:8081 max_fails=0;",
    "console": "/usr/share/nginx/kiroshi-console",
}


def render(values: dict[str, str]) -> str:
    text = TEMPLATE.read_text()
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", value)
    if "{{" in text:
        raise ValueError(f"unrendered placeholder in {TEMPLATE}")
    return text


if __name__ == "__main__":
    sys.stdout.write(render(COMPOSE))
