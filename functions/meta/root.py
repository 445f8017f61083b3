"""GET / — anyone. Where to start: the API's name and version and where its documentation is."""

from __future__ import annotations

from lib import __version__
from lib.http.dispatch import Call

DOCS = {"docs": "/docs", "openapi": "/openapi.json", "contract": "docs/API.md in the Kiroshi repository"}


def handler(call: Call) -> dict[str, str]:
    return {"name": "Kiroshi", "version": __version__, **DOCS}
