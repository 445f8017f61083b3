"""GET /docs/{asset} — anyone. The static files of the documentation page."""

from __future__ import annotations

from pathlib import Path

from lib.errors import NotFound
from lib.http.dispatch import Call
from lib.http.messages import Reply

INIT = b'SwaggerUIBundle({url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true});\n'
ASSETS = {
    "swagger-ui.css": "text/css; charset=utf-8",
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "favicon-32x32.png": "image/png",
}


def handler(call: Call) -> Reply:
    asset = call.path["asset"]
    if asset == "docs-init.js":
        return Reply(INIT, content_type="text/javascript; charset=utf-8")
    if asset not in ASSETS:
        raise NotFound("no such documentation asset")
    from swagger_ui_bundle import swagger_ui_path  # noqa: PLC0415 - only the docs need it

    body = (Path(swagger_ui_path) / asset).read_bytes()
    return Reply(body, content_type=ASSETS[asset], headers={"cache-control": "public, max-age=86400"})
