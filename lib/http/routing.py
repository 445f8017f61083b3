"""Routes and URL matching (werkzeug's router), shared by every front door."""

from __future__ import annotations

import difflib
import functools
import importlib
import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from werkzeug.exceptions import MethodNotAllowed as WerkzeugMethodNotAllowed
from werkzeug.exceptions import NotFound as WerkzeugNotFound
from werkzeug.routing import Map, MapAdapter, Rule

from lib.auth.policies import Auth
from lib.errors import MethodNotAllowed, NotFound

if TYPE_CHECKING:
    from marshmallow import Schema

__all__ = ["Route", "Router"]


@dataclass(frozen=True)
class Route:
    """One endpoint: `name` is `<area>.<endpoint>`, the module `functions/<area>/<endpoint>.py`."""

    name: str
    method: str
    path: str
    auth: Auth
    body: str | None = None  # "module:Class", the module under lib/: "billing.schemas:BuyIn"
    out: str | None = None
    query: str | None = None
    status: int = 200
    offload: bool = False  # CPU-heavy (password hashing): the runner runs it off the event loop
    errors: tuple[int, ...] = ()
    also: tuple[int, ...] = ()  # other success statuses with the same answer (a replayed purchase: 200)
    websocket: bool = False  # a long-lived WebSocket function (the runner upgrades it)
    error_shape: Literal["problem", "openai"] = "problem"  # "openai": `{"error": {...}}` as OpenAI's SDKs read it
    _cache: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def module(self) -> str:
        return f"functions.{self.name}"

    @property
    def target(self) -> str:
        """The functions-framework target and Lambda function name."""
        return self.name.replace(".", "_")

    @property
    def rule(self) -> str:
        return self.path.replace("{", "<").replace("}", ">")

    @property
    def params(self) -> list[str]:
        return [part[1:-1] for part in self.path.split("/") if part.startswith("{")]

    @functools.cached_property
    def handler(self) -> Callable[..., Any]:
        """The endpoint's handler, imported on first use."""
        return importlib.import_module(self.module).handler  # type: ignore[no-any-return]

    @functools.cached_property
    def asynchronous(self) -> bool:
        """Whether the handler is `async def` (it awaits the model): the dispatch awaits it on a loop.
        Read when the route is first dispatched, which imports the handler, as the call would."""
        return inspect.iscoroutinefunction(self.handler)

    def schema_class(self, kind: str) -> type[Schema] | None:
        """The class of the route's `body`, `out` or `query` schema, imported on first use."""
        name = getattr(self, kind)
        if name is None:
            return None
        module, _, attribute = name.partition(":")
        return getattr(importlib.import_module(f"lib.{module}"), attribute)  # type: ignore[no-any-return]

    def schema(self, kind: str) -> Schema | None:
        """A cached instance of the route's `body`, `out` or `query` schema."""
        if kind not in self._cache:
            cls = self.schema_class(kind)
            self._cache[kind] = cls() if cls is not None else None
        return self._cache[kind]  # type: ignore[no-any-return]

    @functools.cached_property
    def shape(self) -> Callable[[Any], Any] | None:
        """The projector of the route's `out` schema (lib.http.projection), built on first use."""
        from lib.http.projection import projector  # noqa: PLC0415 - marshmallow loads with the schema

        out = self.schema("out")
        return projector(out) if out is not None else None


class Router:
    """Matches paths to routes. Paths without parameters answer from a dict; werkzeug's map, which
    decides everything else, is compiled on the first request that needs it (~17 ms for the whole
    table): a function whose path is static never builds it, and loading main.py builds none."""

    def __init__(self, routes: Sequence[Route]) -> None:
        self.routes = {route.name: route for route in routes}
        self._listed = tuple(routes)  # a name may come twice, at two paths (a Cloud Function's root)
        self._static = {(r.method, r.path): r for r in routes if "{" not in r.path}
        self._static |= {("HEAD", path): r for (method, path), r in self._static.items() if method == "GET"}

    @functools.cached_property
    def _adapter(self) -> MapAdapter:
        rules = [Rule(r.rule, endpoint=r.name, methods=[r.method]) for r in self._listed]  # a Rule binds to one Map
        return Map(rules, strict_slashes=True, merge_slashes=False).bind("kiroshi")

    def named(self, name: str) -> Route:
        """The route called `name` (`users.register`). Raises LookupError naming the closest ones."""
        route = self.routes.get(name)
        if route is None:
            close = difflib.get_close_matches(name, self.routes, n=3) or sorted(self.routes)
            raise LookupError(f"no route is named {name!r}; did you mean {', '.join(close)}?")
        return route

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]]:
        """The route and path parameters. Raises NotFound or MethodNotAllowed (with Allow).

        Each endpoint answers at its one spelling: a trailing slash or an empty segment is a 404, so
        that limits keyed on the path in front of Kiroshi (Nginx's on login and register) cannot be
        walked round with `/users/register/` or `//users/register` (werkzeug drops leading slashes).
        """
        route = self._static.get((method, path))
        if route is not None:
            return route, {}
        if "//" in path or (path.endswith("/") and path != "/"):
            raise NotFound(f"there is no endpoint at {path}", code="no_such_endpoint")
        try:
            name, params = self._adapter.match(path, method=method)
        except WerkzeugNotFound:
            raise NotFound(f"there is no endpoint at {path}", code="no_such_endpoint") from None
        except WerkzeugMethodNotAllowed:
            allowed = ", ".join(self._allowed(path))
            raise MethodNotAllowed(f"{method} is not allowed here; use {allowed}", headers={"Allow": allowed}) from None
        return self.routes[name], dict(params)

    def _allowed(self, path: str) -> list[str]:
        """The methods of the documented path that `path` is: the most specific template matching
        it (`/users/login` is not `/users/{user_id}`), as the OpenAPI document lists them."""
        matches: dict[str, set[str]] = {}
        for method in {r.method for r in self.routes.values()}:
            try:
                name, _ = self._adapter.match(path, method=method)
            except (WerkzeugNotFound, WerkzeugMethodNotAllowed):
                continue
            matches.setdefault(self.routes[name].path, set()).add(method)
        if not matches:
            return []
        template = min(matches, key=lambda p: (p.count("{"), -len(p)))
        methods = matches[template] | ({"HEAD"} if "GET" in matches[template] else set())
        return sorted(methods)
