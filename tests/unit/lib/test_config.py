from __future__ import annotations

import os
from pathlib import Path

import pytest

from lib.config import PUBLISHED_SECRETS, ConfigError, load_settings


def test_defaults_run_embedded(tmp_path: Path) -> None:
    settings = load_settings({"KIROSHI_DATA_DIR": str(tmp_path)})

    assert (settings.host, settings.port) == ("127.0.0.1", 8080)
    assert settings.database_url == f"surrealkv://{tmp_path}/kiroshi"
    assert settings.embedded_database
    assert (settings.redis_url, settings.nats_url, settings.loki_url) == ("", "", "")
    assert settings.models == ("gpt-4o-mini",)


def test_secrets_never_print(tmp_path: Path) -> None:
    secret = "s" * 40
    settings = load_settings(
        {"KIROSHI_DATA_DIR": str(tmp_path), "KIROSHI_JWT_SECRET": secret, "OPENAI_API_KEY": "sk-very-secret"}
    )

    assert secret not in repr(settings) and "sk-very-secret" not in repr(settings)
    assert settings.jwt_secret == secret


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("KIROSHI_DATABASE_URL", "mysql://x"),
        ("KIROSHI_REDIS_URL", "memcached://x"),
        ("KIROSHI_NATS_URL", "amqp://x"),
        ("KIROSHI_PORT", "eighty"),
        ("KIROSHI_JWT_SECRET", "short"),
        ("KIROSHI_MODELS", " , "),
        ("KIROSHI_JWT_TTL_SECONDS", "9999999999999"),  # tokens that no logout could revoke
        ("KIROSHI_JWT_TTL_SECONDS", "59"),
        ("KIROSHI_EVENTS_MAX_AGE_DAYS", "0"),  # JetStream would keep events forever
        ("KIROSHI_EVENTS_MAX_AGE_DAYS", "30d"),
        ("KIROSHI_EVENTS_MAX_BYTES", "1GiB"),
        ("KIROSHI_MEMO_ENTRIES", "0"),  # a bound of nothing: every read would clear the memo
        ("KIROSHI_CACHE_ENTRIES", "-1"),
        ("KIROSHI_TURN_CACHE_BYTES", "64MiB"),
        ("KIROSHI_RESUME_REPLIES", "1"),
    ],
)
def test_bad_settings_fail_at_start_with_the_name(tmp_path: Path, name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        load_settings({"KIROSHI_DATA_DIR": str(tmp_path), name: value})


@pytest.mark.parametrize("name", ["KIROSHI_JWT_SECRET", "KIROSHI_DATABASE_PASS"])
@pytest.mark.parametrize("value", sorted(PUBLISHED_SECRETS))
def test_a_secret_published_as_an_example_is_refused_at_start_with_the_name(
    tmp_path: Path, name: str, value: str
) -> None:
    with pytest.raises(ConfigError, match=name):
        load_settings({"KIROSHI_DATA_DIR": str(tmp_path), name: value})


def test_the_old_compose_default_jwt_secret_is_refused(tmp_path: Path) -> None:
    old_default = "change-me-this-dev-secret-is-not-for-production-use"  # docker-compose.yml until issue 14

    with pytest.raises(ConfigError, match="KIROSHI_JWT_SECRET"):
        load_settings({"KIROSHI_DATA_DIR": str(tmp_path), "KIROSHI_JWT_SECRET": f" {old_default}\n"})


def test_payments_default_to_trust_and_stripes_own_api(tmp_path: Path) -> None:
    settings = load_settings({"KIROSHI_DATA_DIR": str(tmp_path)})

    assert (settings.payments, settings.stripe_api_base) == ("trust", "https://api.stripe.com")
    assert (settings.stripe_api_key, settings.stripe_webhook_secret) == ("", "")


def test_stripe_mode_reads_its_settings_and_never_prints_them(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "KIROSHI_DATA_DIR": str(tmp_path),
            "KIROSHI_PAYMENTS": " Stripe ",
            "STRIPE_API_KEY": "sk_test_very_secret",
            "STRIPE_WEBHOOK_SECRET": "whsec_very_secret",
            "STRIPE_API_BASE": "http://127.0.0.1:12111/",
        }
    )

    assert (settings.payments, settings.stripe_api_base) == ("stripe", "http://127.0.0.1:12111")
    assert (settings.stripe_api_key, settings.stripe_webhook_secret) == ("sk_test_very_secret", "whsec_very_secret")
    assert "very_secret" not in repr(settings)


@pytest.mark.parametrize(
    ("missing", "name"),
    [
        ({"KIROSHI_PAYMENTS": "paypal"}, "KIROSHI_PAYMENTS"),
        ({"STRIPE_API_KEY": ""}, "STRIPE_API_KEY"),
        ({"STRIPE_API_KEY": "  "}, "STRIPE_API_KEY"),
        ({"STRIPE_WEBHOOK_SECRET": ""}, "STRIPE_WEBHOOK_SECRET"),
        ({"STRIPE_API_BASE": "api.stripe.com"}, "STRIPE_API_BASE"),
        ({"STRIPE_API_BASE": "ftp://api.stripe.com"}, "STRIPE_API_BASE"),
        ({"STRIPE_API_BASE": "http://api.stripe.com"}, "STRIPE_API_BASE"),  # the key would travel in clear
        ({"STRIPE_API_BASE": "http://10.0.0.5:12111"}, "STRIPE_API_BASE"),
    ],
)
def test_stripe_mode_without_what_it_needs_fails_at_start_with_the_name(
    tmp_path: Path, missing: dict[str, str], name: str
) -> None:
    env = {
        "KIROSHI_DATA_DIR": str(tmp_path),
        "KIROSHI_PAYMENTS": "stripe",
        "STRIPE_API_KEY": "sk_test_x",
        "STRIPE_WEBHOOK_SECRET": "whsec_x",
    }

    with pytest.raises(ConfigError, match=name):
        load_settings(env | missing)


@pytest.mark.parametrize("base", ["http://localhost:12111", "http://[::1]:12111", "https://stripe.internal.example"])
def test_stripe_api_base_is_https_or_a_loopback_fake(tmp_path: Path, base: str) -> None:
    env = {"KIROSHI_DATA_DIR": str(tmp_path), "KIROSHI_PAYMENTS": "stripe", "STRIPE_API_KEY": "sk_test_x"}

    settings = load_settings(env | {"STRIPE_WEBHOOK_SECRET": "whsec_x", "STRIPE_API_BASE": base})

    assert settings.stripe_api_base == base


def test_the_bounds_of_what_a_process_keeps_are_settings(tmp_path: Path) -> None:
    defaults = load_settings({"KIROSHI_DATA_DIR": str(tmp_path)})
    assert (defaults.memo_entries, defaults.cache_entries) == (10_000, 100_000)
    assert (defaults.turn_cache_bytes, defaults.resume_replies) == (64 << 20, 500)
    chosen = load_settings(
        {
            "KIROSHI_DATA_DIR": str(tmp_path),
            "KIROSHI_MEMO_ENTRIES": "500",
            "KIROSHI_CACHE_ENTRIES": "5000",
            "KIROSHI_TURN_CACHE_BYTES": "8388608",
            "KIROSHI_RESUME_REPLIES": "50",
        }
    )
    assert (chosen.memo_entries, chosen.cache_entries, chosen.turn_cache_bytes, chosen.resume_replies) == (
        500,
        5000,
        8 << 20,
        50,
    )


def test_the_engine_caches_few_values_unless_the_operator_says_otherwise(monkeypatch: pytest.MonkeyPatch) -> None:
    from lib.config import ENGINE_VALUE_CACHE, prepare_engine_environment

    monkeypatch.delenv("SURREAL_SURREALKV_MAX_VALUE_CACHE_SIZE", raising=False)
    prepare_engine_environment()
    assert os.environ["SURREAL_SURREALKV_MAX_VALUE_CACHE_SIZE"] == str(ENGINE_VALUE_CACHE)

    monkeypatch.setenv("SURREAL_SURREALKV_MAX_VALUE_CACHE_SIZE", "50000")
    prepare_engine_environment()
    assert os.environ["SURREAL_SURREALKV_MAX_VALUE_CACHE_SIZE"] == "50000"
