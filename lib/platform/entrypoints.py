"""main.py and lambda_handlers.py, generated from the route table: one line per function, so that
`grep users_register` finds where each is defined (a test fails when a committed file drifts).

    python -m lib.platform.entrypoints main.py > main.py
    python -m lib.platform.entrypoints lambda_handlers.py > lambda_handlers.py
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Callable, Iterable

from functions.routes import ROUTES
from lib.http.routing import Route

__all__ = ["RENDERERS", "render_lambda_handlers", "render_main"]

GENERATED = """\
Generated from functions/routes.py by `make {file}`, which runs
`python -m lib.platform.entrypoints {file} > {file}`;
do not edit: a test fails when it drifts. A function imports its handler on its first request:
a cold start loads its own code only."""

MAIN = '''\
"""functions-framework targets, one per route of functions/routes.py, named `<area>_<endpoint>`:
`functions-framework --source main.py --target users_register`.

{generated}
"""

from __future__ import annotations

from lib.platform import gcf
'''

LAMBDA = '''\
"""AWS Lambda handlers, one per HTTP route of functions/routes.py (named like main.py's targets),
`handler` for every route in one Lambda, and the three of the chat session on API Gateway
WebSockets. serverless.yml points at these names.

{generated}
"""

from __future__ import annotations

from typing import Any

from lib.platform import aws

handler = aws.handler
'''

SESSION = """

def chat_connect(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from lib.platform import aws_ws  # noqa: PLC0415 - HTTP functions never load the session engine

    return aws_ws.connect(event, context)


def chat_default(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from lib.platform import aws_ws  # noqa: PLC0415

    return aws_ws.default(event, context)


def chat_disconnect(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from lib.platform import aws_ws  # noqa: PLC0415

    return aws_ws.disconnect(event, context)
"""


def _assignments(routes: Iterable[Route], factory: str) -> str:
    """`<target> = <factory>("<name>")`, one line per route, a blank line between areas."""
    areas = itertools.groupby(routes, key=lambda route: route.name.partition(".")[0])
    blocks = ["".join(f'{r.target} = {factory}("{r.name}")\n' for r in group) for _, group in areas]
    return "\n" + "\n".join(blocks)


def render_main() -> str:
    header = MAIN.format(generated=GENERATED.format(file="main.py"))
    return header + _assignments(ROUTES, "gcf.target")


def render_lambda_handlers() -> str:
    header = LAMBDA.format(generated=GENERATED.format(file="lambda_handlers.py"))
    http = (route for route in ROUTES if not route.websocket)
    return header + _assignments(http, "aws.route_handler") + SESSION


RENDERERS: dict[str, Callable[[], str]] = {"main.py": render_main, "lambda_handlers.py": render_lambda_handlers}


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in RENDERERS:
        sys.exit(f"usage: python -m lib.platform.entrypoints {{{','.join(RENDERERS)}}} > FILE")
    sys.stdout.write(RENDERERS[sys.argv[1]]())
