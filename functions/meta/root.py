"""GET / — anyone. The web console for a browser, else where to start, as JSON.

A request whose `Accept` names `text/html` first (as a browser's navigation does) gets the console's page
(`console/index.html`, with its Content-Security-Policy); any other (curl's `*/*`, an API client's
`application/json`, none) gets the API's name and version and where its documentation is. Both answers say
`Vary: Accept`. Where the console is not deployed (a Cloud Function or Lambda), every request gets the JSON.
"""

from __future__ import annotations

from functions.meta.console_asset import console_file
from lib import __version__
from lib.errors import NotFound
from lib.http.dispatch import Call
from lib.http.messages import Reply

DOCS = {"docs": "/docs", "openapi": "/openapi.json", "contract": "docs/API.md in the Kiroshi repository"}


def handler(call: Call) -> Reply:
    if wants_html(call.request.headers.get("accept", "")):
        try:
            page = console_file("index.html")
        except NotFound:
            pass
        else:
            page.headers["vary"] = "Accept"
            return page
    return Reply({"name": "Kiroshi", "version": __version__, **DOCS}, headers={"vary": "Accept"})


def wants_html(accept: str) -> bool:
    """Whether `Accept` names `text/html` first. The compose Nginx applies the same rule (its `$console_index`)."""
    return accept.split(",", 1)[0].split(";", 1)[0].strip().lower() == "text/html"
