"""The process's dependencies, built once from the settings (lazily on FaaS, at start in the runner)."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import dataclass, field
from typing import Any

from lib.accounts import repository as users
from lib.accounts.principal import Principal, authenticate
from lib.auth.throttle import Throttle
from lib.auth.tokens import TokenCodec
from lib.billing.payments import UNVERIFIED, PaymentVerifier, TrustingVerifier, payments_for
from lib.cache import Cache, MemoryCache
from lib.clock import Clock, utc_now
from lib.config import Settings, load_settings
from lib.db.connection import Database, open_database
from lib.db.migrations import apply_migrations
from lib.events import EventBus, MemoryBus
from lib.events.outbox import Outbox
from lib.llm import LLM
from lib.logging import configure_logging

__all__ = [
    "Services",
    "create_services",
    "get_services",
    "reset_services",
    "warn_unverified_payments",
    "warn_without_model_provider",
]

log = logging.getLogger("kiroshi")


@dataclass
class Services:
    settings: Settings
    db: Database
    cache: Cache
    bus: EventBus
    clock: Clock
    tokens: TokenCodec
    payments: PaymentVerifier = field(default_factory=TrustingVerifier)
    model_client: LLM | None = None  # created on first use: the openai package is heavy
    outbox: Outbox = field(init=False)
    login_per_account: Throttle = field(init=False)
    login_per_address: Throttle = field(init=False)
    register_per_address: Throttle = field(init=False)

    def __post_init__(self) -> None:
        self.outbox = Outbox(self.db, self.bus)
        s = self.settings
        window = s.login_window_seconds
        self.login_per_account = Throttle(self.cache, "login-account", s.login_max_failures_per_account, window)
        self.login_per_address = Throttle(self.cache, "login-address", s.login_max_failures_per_address, window)
        self.register_per_address = Throttle(
            self.cache, "register-address", s.register_max_per_address, s.register_window_seconds
        )

    def now(self) -> dt.datetime:
        return self.clock()

    def authenticate(self, token: str) -> Principal:
        """Who presents `token` (lib.accounts.principal): the HTTP pipeline knows no area. Raises Unauthorized."""
        return authenticate(self, token)

    def signal(self, subject: str, payload: dict[str, Any]) -> None:
        """Publish a best-effort signal between instances (revocations, stop). Losing one must
        never fail the request: the database stays the truth."""
        try:
            self.bus.publish(subject, payload)
        except Exception:  # the bus is down: sessions re-check their token on every message
            log.warning("could not publish %s", subject)

    @property
    def llm(self) -> LLM:
        """The model client, created on first use: a Router over the model catalogue
        (KIROSHI_MODELS_FILE, or KIROSHI_MODELS on OPENAI_BASE_URL / OPENAI_API_KEY)."""
        if self.model_client is None:
            from lib.llm.router import Router  # noqa: PLC0415 - only model users pay for the openai package

            s = self.settings
            self.model_client = Router(s.model_catalogue, s.upstream_timeout_seconds)
        return self.model_client

    def close(self) -> None:
        for adapter in (self.bus, self.cache):
            close = getattr(adapter, "close", None)
            if close is not None:
                close()
        self.db.close()


def create_services(settings: Settings, *, clock: Clock = utc_now, cache: Cache | None = None) -> Services:
    """Open the database, apply migrations, choose adapters by URL, make the first admin (once, while
    no admin exists: lib.accounts.repository.bootstrap_admin)."""
    db = open_database(settings)
    try:
        applied = apply_migrations(db)
        if applied:
            log.info("applied migrations: %s", ", ".join(applied))
        if settings.bootstrap_admin_email:
            promoted = users.bootstrap_admin(db, settings.bootstrap_admin_email, clock())
            if promoted is not None:
                log.info("KIROSHI_BOOTSTRAP_ADMIN_EMAIL: user %s is the first admin", promoted.user_id)
    except BaseException:
        db.close()
        raise
    return Services(
        settings=settings,
        db=db,
        cache=cache or _cache(settings),
        bus=_bus(settings),
        clock=clock,
        tokens=TokenCodec(settings, clock),
        payments=payments_for(settings),
    )


def warn_without_model_provider(settings: Settings) -> None:
    """Say at a process's start (once: the runner's serve, a FaaS cold start) that no reply can work
    when OpenAI itself would be asked (OPENAI_BASE_URL unset) without a key. Calls no network."""
    if not settings.models_file and not settings.openai_base_url and not settings.openai_api_key:
        log.warning(
            "no model provider is configured: OPENAI_BASE_URL is unset (so replies would come from "
            "api.openai.com) and OPENAI_API_KEY is empty; every chat reply will fail. Set OPENAI_API_KEY, "
            "or OPENAI_BASE_URL to an OpenAI-compatible server"
        )


def warn_unverified_payments(settings: Settings) -> None:
    """Say at a process's start (the runner's serve, a FaaS cold start) that payments are trusted
    (KIROSHI_PAYMENTS=trust): fine on a laptop, never in front of paying users. Calls no network."""
    if settings.payments != "stripe":
        log.warning(UNVERIFIED)


def _cache(settings: Settings) -> Cache:
    if not settings.redis_url:
        return MemoryCache(max_entries=settings.cache_entries)
    from lib.cache.redis import RedisCache  # noqa: PLC0415 - only processes configured for Redis load it

    return RedisCache(settings.redis_url)


def _bus(settings: Settings) -> EventBus:
    if not settings.nats_url:
        return MemoryBus()
    from lib.events.nats import NatsBus  # noqa: PLC0415 - only processes configured for NATS load it

    return NatsBus(settings.nats_url, max_age_days=settings.events_max_age_days, max_bytes=settings.events_max_bytes)


_lock = threading.Lock()
_services: Services | None = None
_logging_configured = False


def get_services() -> Services:
    """The process-wide services, created on first use from the environment (the FaaS front doors'
    path: functions-framework, Lambda). The first use also configures the process's logging as the
    local runner does at its start (KIROSHI_LOG_LEVEL, KIROSHI_LOKI_URL; each access line written at
    once): lazily, so that a cold start pays for neither before its first request, and so that a
    forking server (gunicorn) starts the Loki thread in the worker that serves."""
    global _services, _logging_configured
    if _services is None:
        with _lock:
            if _services is None:
                settings = load_settings()
                if not _logging_configured:  # once, even when creating the services failed and is retried
                    configure_logging(settings.log_level, settings.loki_url)
                    _logging_configured = True
                _services = create_services(settings)
                warn_without_model_provider(settings)
                warn_unverified_payments(settings)
    return _services


def reset_services(services: Services | None = None) -> None:
    """Install `services` as the process-wide instance (None forgets it; its owner closes it)."""
    global _services
    with _lock:
        _services = services
