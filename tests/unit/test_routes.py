"""The route table's invariants, an auth matrix over every route, and drift of what derives from it."""

from __future__ import annotations

import importlib
import inspect
import json
import subprocess
import sys
from pathlib import Path

import pytest

import main
from functions.routes import ROUTES
from lib.auth.policies import Auth
from lib.http.routing import Route
from lib.openapi import openapi_document
from lib.platform.entrypoints import RENDERERS
from tests.support.client import Account, Client

ROOT = Path(__file__).resolve().parents[2]
PROTECTED = [r for r in ROUTES if r.auth is not Auth.PUBLIC]


def _path(route: Route, user_id: str) -> str:
    path = route.path.replace("{user_id}", user_id)
    for param in route.params:
        path = path.replace("{" + param + "}", "x")
    return path


def _call(client: Client, route: Route, user_id: str, token: str | None) -> int:
    body = {} if route.body is not None else None
    return client.request(route.method, _path(route, user_id), json_body=body, token=token).status


def test_names_map_to_modules_with_a_documented_handler() -> None:
    names = [r.name for r in ROUTES]
    assert len(names) == len(set(names))
    assert len({(r.method, r.path) for r in ROUTES}) == len(ROUTES)
    for route in ROUTES:
        module = importlib.import_module(route.module)
        assert callable(module.handler)
        first_line = (module.__doc__ or "").strip().splitlines()[0]
        assert first_line.startswith(f"{route.method} {route.path} — "), route.name
        assert len(inspect.getsource(module.handler).splitlines()) <= 40


@pytest.mark.parametrize("route", PROTECTED, ids=lambda r: r.name)
def test_anonymous_callers_get_401(client: Client, alice: Account, route: Route) -> None:
    assert _call(client, route, alice.user_id, None) == 401
    assert _call(client, route, alice.user_id, "not.a.jwt") == 401


@pytest.mark.parametrize("route", PROTECTED, ids=lambda r: r.name)
def test_the_auth_matrix(client: Client, alice: Account, bob: Account, admin: Account, route: Route) -> None:
    """Bob acting on Alice's path, and an admin acting on it, get what the route's level says."""
    bob_status = _call(client, route, alice.user_id, bob.token)
    assert client.get("/auth", token=alice.token).status == 200  # Bob changed nothing of Alice's
    admin_status = _call(client, route, alice.user_id, admin.token)

    if route.auth in (Auth.SELF, Auth.SELF_OR_ADMIN, Auth.ADMIN) and (route.auth is Auth.ADMIN or route.params):
        assert bob_status == 403
    else:
        assert bob_status != 403
    if route.auth is Auth.SELF and route.params:
        assert admin_status == 403
    else:
        assert admin_status not in (401, 403)


def test_main_exposes_one_functions_framework_target_per_route() -> None:
    targets = {name for name, value in vars(main).items() if callable(value) and not name.startswith("_")}
    assert targets == {r.target for r in ROUTES}


@pytest.mark.parametrize("name", sorted(RENDERERS))
def test_the_entry_points_are_generated_from_the_route_table(name: str) -> None:
    """main.py and lambda_handlers.py name every function on a line of its own (`grep users_register`
    finds it); `make main.py lambda_handlers.py` rewrites them after a change to functions/routes.py."""
    assert (ROOT / name).read_text() == RENDERERS[name](), f"{name} drifted: run `make {name}`"


def test_loading_every_entry_point_imports_no_handler() -> None:
    """A function's cold start imports its own handler only, on its first request: loading the
    route table and all targets reads no handler (not even to see whether it is `async def`)."""
    script = (
        "import json, sys, main, lambda_handlers\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('functions.'))))"
    )
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == ["functions.routes"]


def test_the_openapi_document_lists_every_route() -> None:
    document = openapi_document(ROUTES)

    assert document["openapi"].startswith("3.1")
    operations = {(method.upper(), path) for path, ops in document["paths"].items() for method in ops}
    assert operations == {(r.method, r.path) for r in ROUTES}
    for route in PROTECTED:
        operation = document["paths"][route.path][route.method.lower()]
        # A WebSocket client cannot send headers: the session's credential is its `auth_token` query.
        assert operation["security"] == ([] if route.websocket else [{"bearerAuth": []}])
        assert "401" in operation["responses"]


def test_the_asyncapi_document_describes_every_websocket_route() -> None:
    from lib.asyncapi import asyncapi_document

    channels = asyncapi_document(ROUTES)["channels"].values()
    assert {channel["address"] for channel in channels} == {r.path for r in ROUTES if r.websocket}


def test_the_compose_nginx_config_is_rendered_from_the_template() -> None:
    import sys
    from pathlib import Path

    nginx = Path(__file__).resolve().parents[2] / "nginx"
    sys.path.insert(0, str(nginx))
    from render import COMPOSE, render

    assert (nginx / "compose.conf").read_text() == render(COMPOSE)
