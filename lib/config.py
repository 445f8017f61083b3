"""Settings: the only module that reads the environment.

Every setting has a documented `KIROSHI_*` (or `OPENAI_*`, `STRIPE_*`) variable; the defaults run
Kiroshi on embedded SurrealDB, an in-process cache and an in-process event bus. Secrets print as `***`.
"""

from __future__ import annotations

import functools
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from lib.llm.catalogue import Catalogue

__all__ = ["ConfigError", "Secret", "Settings", "load_settings", "prepare_engine_environment"]

ADAPTER_SCHEMES = {
    "database": ("mem", "memory", "surrealkv", "file", "ws", "wss", "http", "https"),
    "redis": ("redis", "rediss"),
    "nats": ("nats", "tls"),
    "loki": ("http", "https"),
}
PAYMENT_MODES = ("trust", "stripe")  # trust: any transaction id is a payment (local development only)
STRIPE_API_BASE = "https://api.stripe.com"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})  # where STRIPE_API_BASE may be http://


class ConfigError(ValueError):
    """A setting is missing or malformed; raised at start, never at request time."""


class Secret(str):
    """A string that never shows itself in reprs or logs."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "'***'"


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8080
    data_dir: Path = Path("./data")
    database_url: str = "surrealkv://./data/kiroshi"
    database_user: str = ""
    database_pass: Secret = field(default=Secret(""), repr=False)
    database_namespace: str = "kiroshi"
    database_name: str = "main"
    redis_url: str = ""
    nats_url: str = ""
    loki_url: str = ""
    jwt_secret: Secret = field(default=Secret(""), repr=False)
    jwt_issuer: str = "kiroshi"
    jwt_audience: str = "kiroshi"
    jwt_ttl_seconds: int = 3600
    bootstrap_admin_email: str = ""
    openai_base_url: str = ""
    openai_api_key: Secret = field(default=Secret(""), repr=False)
    models: tuple[str, ...] = ("gpt-4o-mini",)  # the catalogue's names when a models file is read
    models_file: str = ""  # KIROSHI_MODELS_FILE
    catalogue: Catalogue | None = field(default=None, repr=False, compare=False)  # None: the one-provider shorthand
    max_body_bytes: int = 1_048_576
    body_timeout_seconds: int = 10  # a request body not whole by then: 408, the connection closed
    login_max_failures_per_account: int = 100
    login_max_failures_per_address: int = 1000
    login_window_seconds: int = 3600
    register_max_per_address: int = 100
    register_window_seconds: int = 3600
    log_level: str = "INFO"
    free_token_quota: int = 100_000
    free_models: tuple[str, ...] = ()  # empty: every configured model
    context_tokens: int = 8000
    max_reply_tokens: int = 1024
    max_message_chars: int = 32_000
    messages_per_minute: int = 20
    sockets_per_user: int = 16
    upstream_timeout_seconds: int = 60
    client_ip_header: str = ""  # e.g. x-real-ip behind Nginx; unset: the socket's peer address
    events_max_age_days: int = 30  # JetStream keeps domain events this long (KIROSHI_EVENTS stream)
    events_max_bytes: int = 1 << 30  # and at most this much of them, dropping the oldest
    retention_days: int = 0  # chats untouched this long, and reply costs this old, are deleted (0: kept)
    memo_entries: int = 10_000  # principals, live contracts, usage totals memoised (embedded database)
    cache_entries: int = 100_000  # the in-process cache (no Redis): throttling windows, tickets, marks
    turn_cache_bytes: int = 64 << 20  # recent chat turns kept for the next turn's history
    resume_replies: int = 500  # ended replies kept (60 s each) for clients that resume: ~64 KB each at most
    payments: str = "trust"  # PAYMENT_MODES
    stripe_api_key: Secret = field(default=Secret(""), repr=False)
    stripe_webhook_secret: Secret = field(default=Secret(""), repr=False)
    stripe_api_base: str = STRIPE_API_BASE  # tests and benchmarks point it at a fake Stripe

    def with_(self, **changes: object) -> Settings:
        """A copy with some settings changed (tests use it)."""
        return replace(self, **changes)  # type: ignore[arg-type]

    @functools.cached_property
    def model_catalogue(self) -> Catalogue:
        """The models file's catalogue, else the one-provider shorthand: `models` on
        OPENAI_BASE_URL with OPENAI_API_KEY (lib.llm.catalogue.one_provider)."""
        if self.catalogue is not None:
            return self.catalogue
        from lib.llm.catalogue import one_provider  # noqa: PLC0415 - lib.llm.catalogue imports this module

        return one_provider(self.models, self.openai_base_url, self.openai_api_key)

    @property
    def embedded_database(self) -> bool:
        return scheme(self.database_url) in ("mem", "memory", "surrealkv", "file")

    @property
    def database_path(self) -> Path | None:
        """The on-disk path of an embedded database, None for memory or remote ones."""
        if scheme(self.database_url) not in ("surrealkv", "file"):
            return None
        return Path(self.database_url.split("://", 1)[1])


def scheme(url: str) -> str:
    return url.split("://", 1)[0].lower() if "://" in url else ""


def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 0, maximum: int | None = None) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ConfigError(f"{name} must be at most {maximum}, got {value}")
    return value


def _url(env: Mapping[str, str], name: str, kind: str, default: str = "") -> str:
    url = env.get(name, default).strip()
    if url and scheme(url) not in ADAPTER_SCHEMES[kind]:
        allowed = ", ".join(f"{s}://" for s in ADAPTER_SCHEMES[kind])
        raise ConfigError(f"{name}={url.split('://')[0]}://... is not supported (use {allowed})")
    return url


def _email(env: Mapping[str, str], name: str) -> str:
    """`name`'s e-mail address in the form accounts store (lib.emails.normalize_email), or ""."""
    raw = env.get(name, "").strip()
    if not raw:
        return ""
    from lib.emails import normalize_email  # noqa: PLC0415 - only a process with this setting pays for it

    try:
        return normalize_email(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} is not a valid e-mail address: {exc}") from None


MAX_TOKEN_TTL_SECONDS = 366 * 24 * 3600  # a token must be revocable: logout stores its expiry as a datetime

# Example secrets this repository has published (docker-compose.yml's old defaults): anyone can
# sign tokens or log in with them, so they are refused at start wherever they are set.
PUBLISHED_SECRETS = frozenset({"change-me-this-dev-secret-is-not-for-production-use", "kiroshi-dev-password"})


def _secret(env: Mapping[str, str], name: str) -> Secret:
    """`name`'s value. Raises ConfigError for one of PUBLISHED_SECRETS."""
    value = env.get(name, "")
    if value.strip() in PUBLISHED_SECRETS:
        raise ConfigError(f"{name} is an example value published with Kiroshi; set a secret of your own")
    return Secret(value)


def _jwt_secret(env: Mapping[str, str], data_dir: Path) -> Secret:
    """The configured secret, or one generated once and kept (mode 0600) in the data dir."""
    given = _secret(env, "KIROSHI_JWT_SECRET")
    if given:
        if len(given) < 32:
            raise ConfigError("KIROSHI_JWT_SECRET must be at least 32 characters")
        return Secret(given)
    path = data_dir / "jwt-secret"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(48))
    return Secret(path.read_text().strip())


def _payments(env: Mapping[str, str]) -> tuple[str, Secret, Secret, str]:
    """(KIROSHI_PAYMENTS, STRIPE_API_KEY, STRIPE_WEBHOOK_SECRET, STRIPE_API_BASE). Raises ConfigError
    naming the variable for an unknown mode, a key or secret missing in stripe mode, or a base that
    is not an https URL (http:// only for a loopback host)."""
    raw = env.get("KIROSHI_PAYMENTS", "").strip()
    mode = raw.lower() or "trust"
    if mode not in PAYMENT_MODES:
        raise ConfigError(f"KIROSHI_PAYMENTS must be one of {', '.join(PAYMENT_MODES)}, got {raw!r}")
    api_key, webhook_secret = _secret(env, "STRIPE_API_KEY"), _secret(env, "STRIPE_WEBHOOK_SECRET")
    for name, value in (("STRIPE_API_KEY", api_key), ("STRIPE_WEBHOOK_SECRET", webhook_secret)):
        if mode == "stripe" and not value.strip():
            raise ConfigError(f"{name} must be set when KIROSHI_PAYMENTS=stripe (KIROSHI_PAYMENTS=trust does without)")
    base = env.get("STRIPE_API_BASE", "").strip().rstrip("/") or STRIPE_API_BASE
    if scheme(base) not in ("http", "https") or not urlsplit(base).hostname:
        raise ConfigError(f"STRIPE_API_BASE must be an http(s):// URL, got {base!r}")
    if scheme(base) == "http" and urlsplit(base).hostname not in LOOPBACK_HOSTS:
        # the API key travels in every request: in clear text only to this machine (a fake Stripe)
        raise ConfigError(f"STRIPE_API_BASE must be https:// unless its host is loopback (a fake Stripe), got {base!r}")
    return mode, Secret(api_key.strip()), Secret(webhook_secret.strip()), base


def _models(env: Mapping[str, str]) -> tuple[str, Catalogue | None, tuple[str, ...]]:
    """(KIROSHI_MODELS_FILE, its catalogue, the models clients may choose). Raises ConfigError for
    a file that cannot be read or is wrong (naming the file, the model and the field), for both
    KIROSHI_MODELS_FILE and KIROSHI_MODELS set, or for no model."""
    path = env.get("KIROSHI_MODELS_FILE", "").strip()
    if path:
        if env.get("KIROSHI_MODELS", "").strip():
            raise ConfigError("KIROSHI_MODELS_FILE and KIROSHI_MODELS are both set: list the models in the file only")
        from lib.llm.catalogue import load_catalogue  # noqa: PLC0415 - lib.llm.catalogue imports this module

        catalogue = load_catalogue(path, env)
        return path, catalogue, catalogue.names
    models = tuple(m.strip() for m in env.get("KIROSHI_MODELS", "gpt-4o-mini").split(",") if m.strip())
    if not models:
        raise ConfigError("KIROSHI_MODELS must name at least one model")
    return "", None, models


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read settings from `env` (default: the process environment).

    Raises ConfigError for a malformed value or an unknown adapter scheme.
    """
    env = os.environ if env is None else env
    data_dir = Path(env.get("KIROSHI_DATA_DIR", "./data"))
    database_url = _url(env, "KIROSHI_DATABASE_URL", "database", f"surrealkv://{data_dir}/kiroshi")
    models_file, catalogue, models = _models(env)
    payments, stripe_api_key, stripe_webhook_secret, stripe_api_base = _payments(env)
    return Settings(
        host=env.get("KIROSHI_HOST", "127.0.0.1"),
        port=_int(env, "KIROSHI_PORT", 8080),
        data_dir=data_dir,
        database_url=database_url,
        database_user=env.get("KIROSHI_DATABASE_USER", ""),
        database_pass=_secret(env, "KIROSHI_DATABASE_PASS"),
        database_namespace=env.get("KIROSHI_DATABASE_NAMESPACE", "kiroshi"),
        database_name=env.get("KIROSHI_DATABASE_NAME", "main"),
        redis_url=_url(env, "KIROSHI_REDIS_URL", "redis"),
        nats_url=_url(env, "KIROSHI_NATS_URL", "nats"),
        loki_url=_url(env, "KIROSHI_LOKI_URL", "loki"),
        jwt_secret=_jwt_secret(env, data_dir),
        jwt_issuer=env.get("KIROSHI_JWT_ISSUER", "kiroshi"),
        jwt_audience=env.get("KIROSHI_JWT_AUDIENCE", "kiroshi"),
        jwt_ttl_seconds=_int(env, "KIROSHI_JWT_TTL_SECONDS", 3600, minimum=60, maximum=MAX_TOKEN_TTL_SECONDS),
        bootstrap_admin_email=_email(env, "KIROSHI_BOOTSTRAP_ADMIN_EMAIL"),
        openai_base_url=env.get("OPENAI_BASE_URL", ""),
        openai_api_key=Secret(env.get("OPENAI_API_KEY", "")),
        models=models,
        models_file=models_file,
        catalogue=catalogue,
        max_body_bytes=_int(env, "KIROSHI_MAX_BODY_BYTES", 1_048_576, minimum=1024),
        body_timeout_seconds=_int(env, "KIROSHI_BODY_TIMEOUT_SECONDS", 10, 1),
        login_max_failures_per_account=_int(env, "KIROSHI_LOGIN_MAX_FAILURES_PER_ACCOUNT", 100, 1),
        login_max_failures_per_address=_int(env, "KIROSHI_LOGIN_MAX_FAILURES_PER_ADDRESS", 1000, 1),
        login_window_seconds=_int(env, "KIROSHI_LOGIN_WINDOW_SECONDS", 3600, 1),
        register_max_per_address=_int(env, "KIROSHI_REGISTER_MAX_PER_ADDRESS", 100, 1),
        register_window_seconds=_int(env, "KIROSHI_REGISTER_WINDOW_SECONDS", 3600, 1),
        log_level=env.get("KIROSHI_LOG_LEVEL", "INFO").upper(),
        free_token_quota=_int(env, "KIROSHI_FREE_TOKEN_QUOTA", 100_000),
        free_models=tuple(m.strip() for m in env.get("KIROSHI_FREE_MODELS", "").split(",") if m.strip()),
        context_tokens=_int(env, "KIROSHI_CONTEXT_TOKENS", 8000, 256),
        max_reply_tokens=_int(env, "KIROSHI_MAX_REPLY_TOKENS", 1024, 1),
        max_message_chars=_int(env, "KIROSHI_MAX_MESSAGE_CHARS", 32_000, 1),
        messages_per_minute=_int(env, "KIROSHI_MESSAGES_PER_MINUTE", 20, 1),
        sockets_per_user=_int(env, "KIROSHI_SOCKETS_PER_USER", 16, 1),
        upstream_timeout_seconds=_int(env, "KIROSHI_UPSTREAM_TIMEOUT_SECONDS", 60, 1),
        client_ip_header=env.get("KIROSHI_CLIENT_IP_HEADER", "").strip().lower(),
        events_max_age_days=_int(env, "KIROSHI_EVENTS_MAX_AGE_DAYS", 30, minimum=1, maximum=36_500),
        retention_days=_int(env, "KIROSHI_RETENTION_DAYS", 0, minimum=0, maximum=36_500),
        events_max_bytes=_int(env, "KIROSHI_EVENTS_MAX_BYTES", 1 << 30, minimum=1 << 20),
        memo_entries=_int(env, "KIROSHI_MEMO_ENTRIES", 10_000, minimum=100),
        cache_entries=_int(env, "KIROSHI_CACHE_ENTRIES", 100_000, minimum=1000),
        turn_cache_bytes=_int(env, "KIROSHI_TURN_CACHE_BYTES", 64 << 20, minimum=1 << 20),
        resume_replies=_int(env, "KIROSHI_RESUME_REPLIES", 500, minimum=10),
        payments=payments,
        stripe_api_key=stripe_api_key,
        stripe_webhook_secret=stripe_webhook_secret,
        stripe_api_base=stripe_api_base,
    )


ENGINE_VALUE_CACHE = 2_000  # values SurrealKV keeps in memory; its own default, 100,000, is ~70 MB of messages


def prepare_engine_environment() -> None:
    """Make the embedded engine fsync every write, and cache at most ENGINE_VALUE_CACHE values
    (records) in memory, unless the operator said otherwise.

    The engine reads SURREAL_SYNC_DATA and SURREAL_SURREALKV_MAX_VALUE_CACHE_SIZE once, when it
    starts: call this before opening it.
    """
    os.environ.setdefault("SURREAL_SYNC_DATA", "true")
    os.environ.setdefault("SURREAL_SURREALKV_MAX_VALUE_CACHE_SIZE", str(ENGINE_VALUE_CACHE))
