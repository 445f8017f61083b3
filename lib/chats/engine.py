"""The chat session engine: turns, streaming, stop, resume and revocation, for any transport.

One engine per process, on its event loop. A reply is a task of its own (`ReplyJob`): it keeps
generating when its client drops, buffers its deltas for a resuming client, and stores the
reply when it ends. The hot path stays lean: the quota is reserved in the cache, the history
comes from a per-chat cache, the delta relay encodes each frame once and touches no database, and
the turn (message and reply) is written once, when it ends, in a commit shared with other turns
(lib.db.group_commit). A turn is stored whole or not at all: one cut by a crash never got `done`.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import orjson

from lib.accounts.principal import principal_for
from lib.auth.throttle import Throttle
from lib.auth.tokens import TokenClaims
from lib.billing.entitlements import entitlements_for
from lib.chats import repository as chats
from lib.chats.access import remember_session
from lib.chats.connections import Connection, EndedReplies, ReplyJob, Transport, error_frame, frame
from lib.chats.costs import charge_for, count_charge, limits, served_model, worst_cost
from lib.chats.frames import CLIENT_FRAMES, UNKNOWN_TYPE_MESSAGE
from lib.chats.history import HISTORY_LIMIT, TurnCache, context_messages, text_bound, tokens_bound, weighed
from lib.chats.quota import Quotas, used_up
from lib.chats.replay import LocalReplay, Replay
from lib.chats.repository import Chat
from lib.db.connection import Thrown
from lib.db.group_commit import GroupCommit
from lib.db.records import new_id
from lib.errors import ApiError, NotFound, RateLimited, ServiceUnavailable, Unauthorized
from lib.llm import LLM, Served, UpstreamError, Usage
from lib.metrics import (
    FIRST_TOKEN,
    LIVE_SESSIONS,
    MODEL_FIRST_TOKEN,
    REPLIES_IN_PROGRESS,
    TOKENS_STREAMED,
    UPSTREAM_ERRORS,
)

if TYPE_CHECKING:
    from lib.services import Services

__all__ = ["ChatEngine", "Connection", "Transport"]

log = logging.getLogger("kiroshi.chat")

CLOSE_REVOKED = 4401
CLOSE_GOING_AWAY = 1001
RUNNING_TTL_SECONDS = 15 * 60  # bounds a "reply in progress" mark left by a crashed instance
RESUME_GRACE_SECONDS = 60


def _running(chat_id: str) -> str:
    return f"reply-running:{chat_id}"


def _replay(services: Services) -> Replay:
    if not services.settings.redis_url:
        return LocalReplay()
    from lib.cache.redis import RedisReplay  # noqa: PLC0415 - only with Redis configured

    return RedisReplay(services.settings.redis_url)


class ChatEngine:
    def __init__(self, services: Services, llm: LLM) -> None:
        self.services = services
        self.llm = llm
        self.jobs: dict[str, ReplyJob] = {}
        self.ended = EndedReplies(self.jobs, services.settings.resume_replies)
        self.turns = TurnCache(max_bytes=services.settings.turn_cache_bytes)
        self.quotas = Quotas(services)
        # Durable writes (fsynced: ~1-3 ms each) are committed off the event loop, many turns at once.
        self.commits = GroupCommit(services.db)
        self.connections: dict[str, set[Connection]] = {}
        s = services.settings
        self._messages = Throttle(services.cache, "chat-messages", s.messages_per_minute, 60)
        self._loop: asyncio.AbstractEventLoop | None = None
        self.replay: Replay = _replay(services)
        self._handlers: dict[str, Callable[[Connection, dict[str, Any]], Awaitable[None]]] = {
            "message": self._message,  # one per lib.chats.frames.CLIENT_FRAMES
            "stop": self._stop,
        }
        self._unsubscribe = [
            services.bus.subscribe("kiroshi.revocations", self._on_revocation),
            services.bus.subscribe("kiroshi.chat.stop", self._on_stop),
        ]

    # -- connections -------------------------------------------------------------------------

    def socket_count(self, user_id: str) -> int:
        return len(self.connections.get(user_id, ()))

    async def open(
        self, claims: TokenClaims, chat: Chat, transport: Transport, session_token: str | None, last_index: int
    ) -> Connection:
        """Register the socket, send the `session` frame, and when resuming, replay what the
        client missed of a reply in progress (from `last_index` + 1) before the live rest."""
        token = session_token or secrets.token_urlsafe(24)
        remember_session(self.services, token, claims.user_id, chat.chat_id)
        connection = self.attach(claims, chat, transport, token)
        await connection.send(frame(type="session", session_token=token))
        job = self.jobs.get(chat.chat_id)
        if session_token is not None and job is None:
            connection.follower = asyncio.create_task(self._follow(connection, last_index))
        if session_token is not None and job is not None:
            missed = job.deltas[last_index + 1 :]
            first = len(job.deltas) - len(missed)
            if job.running:
                job.listeners.add(connection)  # before any await: no delta can slip between
            for offset, delta in enumerate(missed):
                await connection.send(frame(type="delta", content=delta, index=first + offset))
            if job.final_frame is not None:
                await connection.send(job.final_frame)
        return connection

    def attach(self, claims: TokenClaims, chat: Chat, transport: Transport, session_token: str = "") -> Connection:
        """Register a socket whose session was opened before (API Gateway calls once per frame)."""
        self._loop = asyncio.get_running_loop()
        connection = Connection(claims, chat, session_token, transport)
        self.connections.setdefault(claims.user_id, set()).add(connection)
        LIVE_SESSIONS.inc()
        return connection

    async def reply_done(self, chat_id: str) -> None:
        """Return when the reply in progress on `chat_id` (if any) has ended; waiting is not
        cancelling it."""
        job = self.jobs.get(chat_id)
        if job is not None and job.task is not None:
            await asyncio.shield(job.task)

    async def _follow(self, connection: Connection, last_index: int) -> None:
        """Relay a reply that another instance generates (from the shared replay stream)."""
        async for relayed in self.replay.follow(connection.chat.chat_id, last_index):
            if not await connection.send(relayed):
                return

    def close(self, connection: Connection) -> None:
        if not connection.closed:
            LIVE_SESSIONS.dec()
        connection.closed = True
        if connection.follower is not None:
            connection.follower.cancel()
        sockets = self.connections.get(connection.user_id)
        if sockets is not None:
            sockets.discard(connection)
            if not sockets:
                del self.connections[connection.user_id]
        job = self.jobs.get(connection.chat.chat_id)
        if job is not None:
            job.listeners.discard(connection)

    # -- frames from the client --------------------------------------------------------------

    async def receive(self, connection: Connection, text: str) -> None:
        """Handle one client frame; every problem is answered with an `error` frame."""
        try:
            data = orjson.loads(text)
        except orjson.JSONDecodeError:
            await connection.send(error_frame("invalid_json", "frames must be JSON objects"))
            return
        kind = data.get("type") if isinstance(data, dict) else None
        spec = CLIENT_FRAMES.get(kind) if isinstance(kind, str) else None
        if spec is None:
            await connection.send(error_frame("unknown_type", UNKNOWN_TYPE_MESSAGE))
            return
        invalid = spec.refusal(data)
        if invalid is not None:
            await connection.send(error_frame("invalid_message", invalid))
            return
        await self._handlers[spec.type](connection, data)

    async def _message(self, connection: Connection, data: dict[str, Any]) -> None:
        refusal = self._check_message(connection, data)
        if refusal is not None:
            await connection.send(refusal)
            return
        chat, services, settings = connection.chat, self.services, self.services.settings
        try:
            principal_for(services, connection.claims)  # a revocation whose broadcast was lost
        except Unauthorized:
            self.close(connection)
            await connection.transport.close(CLOSE_REVOKED)
            return
        rights = entitlements_for(services, connection.user_id)
        if not rights.allows(chat.model):
            await connection.send(error_frame("model_not_allowed", f"your plan does not include {chat.model}"))
            return
        user_turn = weighed({"role": "user", "content": data["content"]})
        history = self.turns.get(chat.chat_id, lambda: chats.recent_turns(services.db, chat.chat_id, HISTORY_LIMIT))
        catalogue = settings.model_catalogue
        budget, reply_tokens = limits(catalogue, chat.model, settings.context_tokens, settings.max_reply_tokens)
        messages, prompt_tokens = context_messages([*history, user_turn], budget)
        # The worst case: this context, however it tokenizes (a bound), and the longest reply.
        money = worst_cost(catalogue, chat.model, prompt_tokens, reply_tokens) if rights.cost_quota is not None else 0
        reservation = self.quotas.reserve(connection.user_id, rights, prompt_tokens + reply_tokens, Decimal(money))
        if reservation is None:
            await connection.send(error_frame("quota_exceeded", used_up(rights)))
            return
        if services.cache.add(_running(chat.chat_id), 1, RUNNING_TTL_SECONDS) > 1:  # on another instance
            services.cache.add(_running(chat.chat_id), -1, RUNNING_TTL_SECONDS)
            self.quotas.release(reservation)
            await connection.send(error_frame("reply_in_progress", "a reply to this chat is in progress"))
            return
        job = ReplyJob(chat, new_id(), reservation, {connection}, user_turn=user_turn)
        self.jobs[chat.chat_id] = job
        self.replay.start(chat.chat_id)
        job.task = asyncio.create_task(self._generate(job, messages, reply_tokens))

    def _check_message(self, connection: Connection, data: dict[str, Any]) -> str | None:
        content: str = data["content"]  # a non-empty string (CLIENT_FRAMES["message"])
        if len(content) > self.services.settings.max_message_chars:
            return error_frame("message_too_long", f"at most {self.services.settings.max_message_chars} characters")
        job = self.jobs.get(connection.chat.chat_id)
        if job is not None and job.running:
            return error_frame("reply_in_progress", "wait for the reply, or stop it, before sending another message")
        try:
            self._messages.attempt(connection.user_id)
        except RateLimited as limited:
            return error_frame("rate_limited", f"too many messages; retry in {limited.headers['Retry-After']} s")
        return None

    async def _stop(self, connection: Connection, _data: dict[str, Any]) -> None:
        chat_id = connection.chat.chat_id
        if self._stop_local(chat_id):
            return
        if self.services.cache.get(_running(chat_id)) in (None, "0"):
            await connection.send(error_frame("nothing_to_stop", "no reply is in progress"))
            return
        self.services.signal("kiroshi.chat.stop", {"chat_id": chat_id})  # the instance generating it stops

    def _stop_local(self, chat_id: str) -> bool:
        job = self.jobs.get(chat_id)
        if job is None or not job.streaming or job.task is None:
            return False
        job.task.cancel()
        return True

    def _on_stop(self, _subject: str, payload: dict[str, Any]) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._stop_local, str(payload.get("chat_id")))

    # -- generating a reply ------------------------------------------------------------------

    async def _generate(self, job: ReplyJob, messages: list[dict[str, str]], max_tokens: int) -> None:
        chat, asked_at, started = job.chat, self.services.now(), time.perf_counter()
        REPLIES_IN_PROGRESS.inc()
        usage: Usage | None = None
        failure: ApiError | None = None
        status = "complete"
        deltas = job.deltas
        stream = self.llm.stream(chat.model, messages, max_tokens)
        try:
            async for item in stream:
                if isinstance(item, Usage):
                    usage = item
                    continue
                delta = frame(type="delta", content=item, index=len(deltas))
                deltas.append(item)
                self.replay.push(chat.chat_id, delta)
                for listener in tuple(job.listeners):
                    if not await listener.send(delta):
                        job.listeners.discard(listener)
                if len(deltas) == 1:
                    self._first_token(stream, chat.model, time.perf_counter() - started)
        except asyncio.CancelledError:
            status = "stopped"
        except UpstreamError as exc:  # the adapter logged its cause
            status, failure = "error", exc
        except Exception:  # a bug must end the reply cleanly, never leave the chat stuck
            log.exception("reply failed")
            status, failure = "error", ApiError("the reply failed")
        job.streaming = False
        REPLIES_IN_PROGRESS.dec()
        TOKENS_STREAMED.inc(len(deltas))
        if failure is not None:
            UPSTREAM_ERRORS.labels(failure.code).inc()
        served = served_model(self.services.settings.model_catalogue, stream, chat.model)
        await self._finish(job, asked_at, messages, (usage, max_tokens, served), status, failure)

    def _first_token(self, stream: object, model: str, seconds: float) -> None:
        FIRST_TOKEN.observe(seconds)
        served = served_model(self.services.settings.model_catalogue, stream, model)
        MODEL_FIRST_TOKEN.labels(served.model, served.provider).observe(seconds)

    async def _finish(
        self,
        job: ReplyJob,
        asked_at: dt.datetime,
        messages: list[dict[str, str]],
        reply: tuple[Usage | None, int, Served],
        status: str,
        failure: ApiError | None,
    ) -> None:
        """Store the turn with what it cost, give the reservation back, send the final frame.
        `reply`: the usage the model reported, the reply limit and the model that served it."""
        usage, max_tokens, served = reply
        content = "".join(job.deltas)
        counts = _charge(usage, messages, content, max_tokens, failed=failure is not None)
        catalogue = self.services.settings.model_catalogue
        charge = None if counts is None else charge_for(catalogue, served, Usage(**counts))
        chat, reservation = job.chat, job.reservation
        try:
            count = await self.commits.write(
                chats.turn(
                    self.services.db,
                    chat,
                    question=job.user_turn[0]["content"],
                    asked_at=asked_at,
                    message_id=job.message_id,
                    content=content,
                    status=status,
                    usage=counts,
                    period=(reservation.period_start, reservation.period_end),
                    now=self.services.now(),
                    charge=charge,
                )
            )
            if charge is not None:
                count_charge(charge)
            self.turns.append(chat.chat_id, count - 1, job.user_turn)
            self.turns.append(chat.chat_id, count, weighed({"role": "assistant", "content": content}))
        except Exception as error:  # the database failing must not leave the socket waiting forever
            failure = _storage_failure(error)
            if failure.code == "chat_deleted":
                self.turns.drop(chat.chat_id)
        finally:
            self.quotas.release(reservation)
            self.services.cache.add(_running(chat.chat_id), -1, RUNNING_TTL_SECONDS)
        if failure is not None:
            job.final_frame = error_frame(failure.code, failure.detail)
        else:
            job.final_frame = frame(
                type="done",
                message_id=job.message_id,
                usage=counts,
                finish_reason="stop" if status == "complete" else "stopped",
                model=served.model,
            )
        self.replay.finish(chat.chat_id, job.final_frame)
        for listener in tuple(job.listeners):
            await listener.send(job.final_frame)
        job.listeners.clear()
        self.ended.add(job)
        asyncio.get_running_loop().call_later(RESUME_GRACE_SECONDS, self.ended.forget, job)

    # -- revocation and shutdown -------------------------------------------------------------

    def _on_revocation(self, _subject: str, payload: dict[str, Any]) -> None:
        """Close the sockets of a revoked token (or of every token of a user); for a deleted
        account also stop its replies. May be called from any thread: the bus delivers where the
        revocation happened."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        user_id, jti = payload.get("user_id"), payload.get("jti")
        loop.call_soon_threadsafe(self._close_revoked, user_id, jti, bool(payload.get("deleted")))

    def _close_revoked(self, user_id: str | None, jti: str | None, deleted: bool = False) -> None:
        for connection in tuple(self.connections.get(user_id or "", ())):
            if jti is None or connection.jti == jti:
                self.close(connection)
                _background(connection.transport.close(CLOSE_REVOKED))
        if deleted:
            self._forget_user(user_id or "")

    def _forget_user(self, user_id: str) -> None:
        """Stop the deleted account's replies (their turns are then refused by the database, see
        lib.chats.repository.turn) and drop what this process keeps of its chats."""
        for job in tuple(self.jobs.values()):
            if job.chat.user_id != user_id:
                continue
            self.turns.drop(job.chat.chat_id)
            job.listeners.clear()
            if job.streaming and job.task is not None:
                job.task.cancel()
            elif not job.running:
                self.ended.forget(job)

    async def shutdown(self, grace_seconds: float) -> None:
        """Let replies in progress finish for `grace_seconds`, then stop (and store) the rest and
        close every socket with 1001."""
        tasks = [job.task for job in self.jobs.values() if job.task is not None and not job.task.done()]
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=grace_seconds)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending, timeout=5)
        for connections in list(self.connections.values()):
            for connection in tuple(connections):
                self.close(connection)
                with contextlib.suppress(Exception):
                    await connection.transport.close(CLOSE_GOING_AWAY)
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self.commits.close()
        close = getattr(self.replay, "close", None)
        if close is not None:
            await close()


def _charge(
    usage: Usage | None, messages: list[dict[str, str]], content: str, limit: int, *, failed: bool
) -> dict[str, int] | None:
    """The tokens a turn counts against the quota: the usage the model reports; without one (a
    stopped or broken reply), the most it can have been; none when it failed before any token."""
    if usage is not None:
        return {"prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens}
    if failed and not content:
        return None
    return {"prompt_tokens": tokens_bound(messages), "completion_tokens": min(text_bound(content), limit)}


def _storage_failure(error: Exception) -> ApiError:
    """What the client hears when its turn was not stored."""
    if isinstance(error, Thrown) and error.code == "chat_gone":  # deleted during the reply: as it should
        return NotFound("the chat was deleted; the reply is not stored", code="chat_deleted")
    log.error("storing the turn failed", exc_info=error)
    return ServiceUnavailable("the reply could not be stored", code="storage_failed")


_background_tasks: set[asyncio.Task[Any]] = set()


def _background(awaitable: Awaitable[Any] | Callable[[], Awaitable[Any]]) -> None:
    task = asyncio.ensure_future(awaitable)  # type: ignore[arg-type]
    _background_tasks.add(task)
    task.add_done_callback(_background_tasks.discard)
