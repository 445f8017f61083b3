"""GET /console/{asset} — anyone. The web console's static files (`console/`: ES modules, CSS, vendored libraries)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from lib.errors import NotFound
from lib.http.dispatch import Call
from lib.http.messages import Reply

__all__ = ["CONSOLE_HEADERS", "console_file", "handler"]

CONSOLE_DIR = Path(__file__).resolve().parents[2] / "console"
TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}
# No inline script or style, no other origin (the WebSocket is same-origin: CSP 3's 'self' covers ws: and wss:),
# and HTML reaches the DOM only through DOMPurify's Trusted Types policy. nginx/kiroshi.conf.template sends the same.
CSP = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'; require-trusted-types-for 'script'; trusted-types dompurify"
)
CONSOLE_HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-cache",
}


def handler(call: Call) -> Reply:
    return console_file(call.path["asset"])


def console_file(name: str) -> Reply:
    """The file `console/<name>` with the console's headers. Raises NotFound for any other name."""
    files = _files()
    if name not in files:
        raise NotFound("no such console file")
    path = files[name]
    return Reply(path.read_bytes(), content_type=TYPES[path.suffix], headers=dict(CONSOLE_HEADERS))


@cache
def _files() -> dict[str, Path]:
    """The servable files, listed once: a name never reaches the file system unless it is one of them. Empty
    where the console is not deployed (a Cloud Function or Lambda packages `functions` and `lib` only)."""
    if not CONSOLE_DIR.is_dir():
        return {}
    return {path.name: path for path in CONSOLE_DIR.iterdir() if path.is_file() and path.suffix in TYPES}
