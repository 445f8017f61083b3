"""Every endpoint answers at one spelling of its path: the limits in front of Kiroshi (Nginx's
`limit_req` on login and register) match that spelling, so another one must not reach the handler."""

from __future__ import annotations

import pytest

from functions.routes import ROUTES, router
from lib.errors import NotFound
from lib.http.routing import Route
from tests.support.client import Client


def _concrete(route: Route) -> str:
    return route.path.replace("{", "").replace("}", "")  # `/users/{user_id}` -> `/users/user_id`


def _variants(path: str) -> list[str]:
    inner = path.index("/", 1) if path.count("/") > 1 else len(path)
    return [path + "/", path + "//", "/" + path, f"{path[:inner]}/{path[inner:]}"]


def test_every_route_in_the_table_is_spelled_canonically() -> None:
    for route in ROUTES:
        assert route.path.startswith("/") and "//" not in route.path, route.name
        assert route.path == "/" or not route.path.endswith("/"), route.name  # the root is its own spelling


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.name)
def test_each_route_matches_its_own_spelling_and_no_other(route: Route) -> None:
    path = _concrete(route)
    assert router.match(route.method, path)[0] == route

    for variant in _variants(path):
        with pytest.raises(NotFound):
            router.match(route.method, variant)


@pytest.mark.parametrize("path", ["/users/register/", "//users/register", "/users//register", "/users/register//"])
def test_a_register_with_a_trailing_or_doubled_slash_is_404_and_registers_nobody(client: Client, path: str) -> None:
    body = {"email": "slash@example.com", "nickname": "s", "name": "S", "surname": "S", "password": "a sturdy pass 42"}

    answer = client.post(path, body)

    assert answer.status == 404
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json["code"] == "no_such_endpoint"
    assert client.post("/users/register", body).status == 201  # not registered by the variant
