"""GET /docs/{asset} — anyone. The static files of the documentation page."""

from __future__ import annotations

from functools import cache
from importlib.util import find_spec
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
    body = (_static_dir() / asset).read_bytes()
    return Reply(body, content_type=ASSETS[asset], headers={"cache-control": "public, max-age=86400"})


@cache
def _static_dir() -> Path:
    """Swagger UI 5 (it reads OpenAPI 3.1) as the `swagger-ui-py` package ships it, found without
    importing that package (its import loads Jinja and YAML, which the files do not need)."""
    spec = find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise NotFound("the documentation assets are not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "static"
