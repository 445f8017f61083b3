"""The ASGI application of the local runner: every HTTP function and the WebSocket chat session,
on one port, in one process.

HTTP requests run the sync dispatch inline on the event loop (they take ~0.1-0.3 ms); routes
marked `offload` (Argon2id hashing, ~25 ms) run on a small thread pool so they never stall the
loop. Chat sessions live on the loop: the runner translates ASGI WebSocket messages to the session
function (functions.chats.session), which drives lib.chats.engine.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import gc
import ipaddress
import logging
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import parse_qsl

from functions.chats import session
from lib.chats.repository import PRUNE_BATCH, prune_older_than
from lib.errors import ApiError, NotFound, PayloadTooLarge, RequestTimeout
from lib.http import json
from lib.http.dispatch import dispatch, dispatch_async, problem_response, request_id_of
from lib.http.messages import HttpRequest
from lib.http.routing import Router
from lib.llm import LLM
from lib.logging import flush_access_lines, hold_access_lines, log_request
from lib.services import Services
from local_runner.logs import mark_refused

__all__ = ["RunnerApp"]

log = logging.getLogger("kiroshi.runner")

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

SHUTDOWN_GRACE_SECONDS = 10.0
RELAY_INTERVAL_SECONDS = 1.0
PRUNE_INTERVAL_SECONDS = 3600.0  # KIROSHI_RETENTION_DAYS is checked hourly
LOG_FLUSH_SECONDS = 0.1
MAX_ADDRESS_CHARS = 64  # the longest IPv6 text is 45 characters; room for a zone id


@functools.lru_cache(maxsize=1024)
def _ip_address(text: str) -> str | None:
    """`text` as a canonical IP address (without a zone id), or None when it is not one."""
    try:
        return str(ipaddress.ip_address(text)).partition("%")[0]
    except ValueError:
        return None


class AsgiSocket:
    """The engine's Transport over an ASGI WebSocket."""

    __slots__ = ("_send",)

    def __init__(self, send: Send) -> None:
        self._send = send

    async def send_text(self, text: str) -> None:
        await self._send({"type": "websocket.send", "text": text})

    async def close(self, code: int) -> None:
        await self._send({"type": "websocket.close", "code": code})


class RunnerApp:
    def __init__(self, services: Services, router: Router, llm: LLM | None = None) -> None:
        self.services = services
        self.router = router
        # One thread per core: Argon2id is memory-hard, more threads than cores only thrash the caches.
        # (Measured: 8 threads with one hash per core at a time gave fewer logins/s, 80% vs 88% of
        # raw verifies: the extra threads contend for the GIL around each hash.)
        self.executor = ThreadPoolExecutor(max_workers=os.cpu_count() or 1, thread_name_prefix="offload")
        if llm is not None:
            services.model_client = llm
        self.engine = session.new_engine(services)
        self._client_ip_header = services.settings.client_ip_header
        self._warned_client_ip = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._http(scope, receive, send)
        elif scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
        elif scope["type"] == "lifespan":
            await self._lifespan(receive, send)

    # -- HTTP ---------------------------------------------------------------------------------

    async def _read_body(self, receive: Receive) -> bytes:
        """The whole body. Raises PayloadTooLarge past max_body_bytes, RequestTimeout when it is
        not whole within body_timeout_seconds (a client that announces a body and never sends it
        holds only its own connection, never the loop)."""
        settings = self.services.settings
        limit, seconds = settings.max_body_bytes, settings.body_timeout_seconds
        chunks: list[bytes] = []
        size = 0
        try:
            async with asyncio.timeout(seconds):
                while True:
                    message = await receive()
                    chunk = message.get("body", b"")
                    size += len(chunk)
                    if size > limit:
                        raise PayloadTooLarge(f"the body is larger than {limit} bytes")
                    chunks.append(chunk)
                    if not message.get("more_body", False):
                        return b"".join(chunks)
        except TimeoutError:
            raise RequestTimeout(f"the body was not whole within {seconds} s") from None

    def _request(self, scope: Scope, body: bytes) -> HttpRequest:
        raw = scope["headers"]
        headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in raw}
        if len(headers) < len(raw):  # a repeated header: its values joined, in order
            headers = {}
            for name, value in raw:
                key, text = name.decode("latin-1"), value.decode("latin-1")
                headers[key] = f"{headers[key]}, {text}" if key in headers else text
        query, client = scope["query_string"], scope.get("client")
        peer = client[0] if client else ""
        return HttpRequest(
            scope["method"],
            scope["path"],
            headers,
            dict(parse_qsl(query.decode("latin-1"), keep_blank_values=True)) if query else {},
            body,
            self._forwarded_addr(headers.get(self._client_ip_header), peer) if self._client_ip_header else peer,
        )

    def _forwarded_addr(self, value: str | None, peer: str) -> str:
        """The proxy's client address header (KIROSHI_CLIENT_IP_HEADER) when it holds an IP
        address; else the peer's, with one warning per process: a header that is missing or not
        an address means a misconfigured proxy or a caller that got past it, and a caller's own
        string must never become its throttling key."""
        address = _ip_address(value) if value is not None and len(value) <= MAX_ADDRESS_CHARS else None
        if address is not None:
            return address
        if not self._warned_client_ip:
            self._warned_client_ip = True
            log.warning(
                "%s is missing or not an IP address; using the peer address (does the proxy set it?)",
                self._client_ip_header,
            )
        return peer

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        shape = "problem"
        try:
            route, params = self.router.match(scope["method"], scope["path"])
            shape = route.error_shape
            request = self._request(scope, await self._read_body(receive) if route.body else b"")
        except ApiError as error:  # no such route, or the body did not come (whole): the dispatch never saw it
            request = self._request(scope, b"")
            response = problem_response(error, request_id_of(request), shape)
            log_request(request, None, response.status, 0.0, response.headers["x-request-id"], None)
        else:
            try:
                asynchronous = route.asynchronous  # imports the handler on the route's first request
            except Exception:  # one that cannot be imported: the sync dispatch answers it, a logged 500 problem
                asynchronous = False
            if asynchronous:
                response = await dispatch_async(route, params, request, self.services)
            elif route.offload:
                loop = asyncio.get_running_loop()
                response = await loop.run_in_executor(self.executor, dispatch, route, params, request, self.services)
            else:
                response = dispatch(route, params, request, self.services)
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers.items()]
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        if response.stream is not None:
            await self._stream(response.stream, send)
            return
        await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else response.body})

    @staticmethod
    async def _stream(chunks: AsyncIterator[bytes], send: Send) -> None:
        try:
            async for chunk in chunks:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        except OSError:  # the client went away: stop generating (the stream settles its quota)
            pass
        finally:
            await chunks.aclose()  # type: ignore[attr-defined]

    # -- WebSocket ----------------------------------------------------------------------------

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Translate an ASGI WebSocket to the session function (functions.chats.session)."""
        if (await receive())["type"] != "websocket.connect":
            return
        started = time.perf_counter()
        # Read once, then gone from the scope: it carries tokens, and the server logs the scope's.
        query_string, scope["query_string"] = scope["query_string"], b""
        request, name = self._request({**scope, "method": "GET"}, b""), None  # the upgrade, for its access line
        request_id = request_id_of(request)  # Nginx's, when it sent one: both access logs name the upgrade alike
        try:
            route, params = self.router.match("GET", scope["path"])
            name = route.name
            if not route.websocket:
                raise NotFound("no WebSocket endpoint here", code="no_such_endpoint")
            query = dict(parse_qsl(query_string.decode("latin-1"), keep_blank_values=True))
            admission = session.admit(self.services, self.engine, params["user_id"], params["chat_id"], query)
        except ApiError as error:
            log_request(request, name, error.status, time.perf_counter() - started, request_id, None)
            await self._deny(scope, send, error, request_id)
            return
        log_request(request, name, 101, time.perf_counter() - started, request_id, admission.claims.user_id)
        await send({"type": "websocket.accept"})
        connection = await session.on_open(self.engine, admission, AsgiSocket(send))
        try:
            while (message := await receive())["type"] != "websocket.disconnect":
                await session.on_message(self.engine, connection, message.get("text"))
        finally:
            session.on_close(self.engine, connection)

    @staticmethod
    async def _deny(scope: Scope, send: Send, error: ApiError, request_id: str) -> None:
        """Refuse the upgrade: the error's status and problem+json where the server can answer
        one (uvicorn can), else 403."""
        mark_refused()
        if "websocket.http.response" in scope.get("extensions", {}):
            headers = [(b"content-type", b"application/problem+json"), (b"x-request-id", request_id.encode())] + [
                (k.lower().encode(), v.encode()) for k, v in error.headers.items()
            ]
            await send({"type": "websocket.http.response.start", "status": error.status, "headers": headers})
            await send({"type": "websocket.http.response.body", "body": json.dumps(error.problem())})
        else:
            await send({"type": "websocket.close", "code": 1008})

    # -- lifespan -----------------------------------------------------------------------------

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                # What startup loaded lives as long as the process: keep the collector from
                # walking it (a full collection took ~45 ms, once per ~20k requests, unfrozen).
                gc.freeze()
                relay = asyncio.create_task(self.services.outbox.relay_forever(RELAY_INTERVAL_SECONDS))
                pruner = asyncio.create_task(self._prune_forever())
                hold_access_lines()  # written in batches by _flush_logs from now on
                flusher = asyncio.create_task(self._flush_logs())
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                relay.cancel()
                pruner.cancel()
                await self.engine.shutdown(SHUTDOWN_GRACE_SECONDS)
                await self.engine.llm.close()
                flusher.cancel()
                flush_access_lines()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _prune_forever(self) -> None:
        """With KIROSHI_RETENTION_DAYS, delete what outlived it: at start, then every PRUNE_INTERVAL_SECONDS."""
        days, loop = self.services.settings.retention_days, asyncio.get_running_loop()
        while days:
            cutoff = self.services.now() - dt.timedelta(days=days)
            try:
                while max(await loop.run_in_executor(None, prune_older_than, self.services.db, cutoff)) >= PRUNE_BATCH:
                    pass
            except Exception:  # the database is down: try again next time
                log.warning("pruning what outlived KIROSHI_RETENTION_DAYS failed; retrying later", exc_info=True)
            await asyncio.sleep(PRUNE_INTERVAL_SECONDS)

    @staticmethod
    async def _flush_logs() -> None:
        """Access lines leave at most LOG_FLUSH_SECONDS after their request, in one write per batch
        rather than a syscall per request (nginx's `access_log ... flush=` does the same)."""
        while True:
            await asyncio.sleep(LOG_FLUSH_SECONDS)
            flush_access_lines()

    def close(self) -> None:
        self.executor.shutdown(wait=True)
