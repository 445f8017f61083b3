"""GET /docs — anyone. Interactive API documentation (Swagger UI 5, served from the installed package)."""

from __future__ import annotations

from lib.http.dispatch import Call
from lib.http.messages import Reply

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Kiroshi API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/docs-init.js"></script>
</body></html>
"""


def handler(call: Call) -> Reply:
    return Reply(PAGE, content_type="text/html; charset=utf-8")
