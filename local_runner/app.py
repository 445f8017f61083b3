"""The ASGI application of the local runner: HTTP functions (and, later, the WebSocket session).

Requests run the sync dispatch inline on the event loop (they take ~0.1-0.3 ms); routes marked
`offload` (Argon2id hashing, ~25 ms) run on a small thread pool so they never stall the loop.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import parse_qsl

from lib.errors import ApiError, PayloadTooLarge
from lib.http.dispatch import dispatch, problem_response
from lib.http.messages import HttpRequest, HttpResponse
from lib.http.routing import Router
from lib.services import Services

__all__ = ["RunnerApp"]

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class RunnerApp:
    def __init__(self, services: Services, router: Router) -> None:
        self.services = services
        self.router = router
        # One thread per core: Argon2id is memory-hard, more threads than cores only thrash the caches.
        self.executor = ThreadPoolExecutor(max_workers=os.cpu_count() or 1, thread_name_prefix="offload")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._http(scope, receive, send)
        elif scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})

    async def _read_body(self, receive: Receive) -> bytes:
        limit = self.services.settings.max_body_bytes
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise PayloadTooLarge(f"the body is larger than {limit} bytes")
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    def _request(self, scope: Scope, body: bytes) -> HttpRequest:
        headers: dict[str, str] = {}
        for name, value in scope["headers"]:
            key = name.decode("latin-1")
            text = value.decode("latin-1")
            headers[key] = f"{headers[key]}, {text}" if key in headers else text
        client = scope.get("client")
        return HttpRequest(
            method=scope["method"],
            path=scope["path"],
            headers=headers,
            query=dict(parse_qsl(scope["query_string"].decode("latin-1"))),
            body=body,
            client_addr=client[0] if client else "",
        )

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            route, params = self.router.match(scope["method"], scope["path"])
            request = self._request(scope, await self._read_body(receive))
        except ApiError as error:
            response = problem_response(error, "-")
        else:
            if route.offload:
                loop = asyncio.get_running_loop()
                response = await loop.run_in_executor(self.executor, dispatch, route, params, request, self.services)
            else:
                response = dispatch(route, params, request, self.services)
        await self._send(scope, send, response)

    @staticmethod
    async def _send(scope: Scope, send: Send, response: HttpResponse) -> None:
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers.items()]
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        body = b"" if scope["method"] == "HEAD" else response.body
        await send({"type": "http.response.body", "body": body})

    def close(self) -> None:
        self.executor.shutdown(wait=True)
