"""docker-compose.yml, Dockerfile and the monitoring files agree with the code (there is no
Docker engine here: `docker compose config` cannot run, so the file is checked as data)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from lib.config import PUBLISHED_SECRETS

ROOT = Path(__file__).resolve().parents[2]


def _compose() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())  # type: ignore[no-any-return]


def test_every_service_has_a_healthcheck_and_waits_for_healthy_dependencies() -> None:
    services = _compose()["services"]

    assert set(services) >= {
        "nginx",
        "http",
        "websocket",
        "surrealdb",
        "redis",
        "nats",
        "loki",
        "prometheus",
        "grafana",
    }
    for name, service in services.items():
        assert "healthcheck" in service or "build" in service, name  # the Dockerfile has Kiroshi's
        for dependency, rule in (service.get("depends_on") or {}).items():
            assert dependency in services
            assert rule["condition"] in ("service_healthy", "service_started")
    assert "HEALTHCHECK" in (ROOT / "Dockerfile").read_text()


def test_kiroshi_services_use_only_settings_that_exist() -> None:
    config = (ROOT / "lib" / "config.py").read_text()
    services = _compose()["services"]
    for name in ("http", "websocket"):
        for variable in services[name]["environment"]:
            if variable.startswith(("KIROSHI_", "OPENAI_")):
                assert f'"{variable}"' in config, variable
    assert services["http"]["command"][-1] == "http"
    assert services["websocket"]["command"][-1] == "websocket"


def test_every_setting_of_the_readme_can_be_set_in_dot_env() -> None:
    """.env reaches the Kiroshi containers whole (optional, so a stack without one starts); what
    compose sets itself is only the stack's wiring, which must win over a .env written for `make run`."""
    readme = (ROOT / "README.md").read_text()
    table = readme[readme.index("## Configuration") : readme.index("## Running the full stack")]
    settings = set(re.findall(r"`((?:KIROSHI|OPENAI)_[A-Z_]+)`", table))
    services = _compose()["services"]
    wiring = {
        "KIROSHI_HOST",
        "KIROSHI_PORT",
        "KIROSHI_DATABASE_URL",
        "KIROSHI_DATABASE_USER",
        "KIROSHI_DATABASE_PASS",
        "KIROSHI_REDIS_URL",
        "KIROSHI_NATS_URL",
        "KIROSHI_LOKI_URL",
        "KIROSHI_CLIENT_IP_HEADER",
    }

    assert len(settings) > 30 and wiring <= settings
    for name in ("http", "websocket"):
        assert services[name]["env_file"] == [{"path": ".env", "required": False}]
        fixed = {variable for variable, value in services[name]["environment"].items() if "${" not in str(value)}
        assert fixed <= wiring, fixed - wiring


def test_nginx_uses_the_rendered_config_and_routes_to_both_halves() -> None:
    nginx = _compose()["services"]["nginx"]
    conf = (ROOT / "nginx" / "compose.conf").read_text()

    assert "./nginx/compose.conf:/etc/nginx/nginx.conf:ro" in nginx["volumes"]
    assert "server http:8080" in conf and "server websocket:8081" in conf
    assert re.search(r"location ~ \^/chats/.+/session\$", conf)


def test_grafana_is_provisioned_with_both_data_sources_and_a_dashboard_of_real_metrics() -> None:
    sources = yaml.safe_load((ROOT / "observability/grafana/provisioning/datasources/kiroshi.yml").read_text())
    dashboard = json.loads((ROOT / "observability/grafana/dashboards/kiroshi.json").read_text())
    metrics = (ROOT / "lib" / "metrics.py").read_text()

    assert {s["type"] for s in sources["datasources"]} == {"prometheus", "loki"}
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            for name in re.findall(r"kiroshi_[a-z_]+", target["expr"]):
                base = re.sub(r"_(bucket|total)$", "", name)
                assert base in metrics or name in metrics, name


def test_compose_refuses_to_start_without_secrets_of_its_own() -> None:
    raw = (ROOT / "docker-compose.yml").read_text()
    services = _compose()["services"]

    for name in ("http", "websocket"):
        environment = services[name]["environment"]
        assert environment["KIROSHI_JWT_SECRET"].startswith("${KIROSHI_JWT_SECRET:?")
        assert environment["KIROSHI_DATABASE_PASS"].startswith("${SURREAL_PASS:?")
    assert any(part.startswith("${SURREAL_PASS:?") for part in services["surrealdb"]["command"])
    for variable, default in re.findall(r"\$\{(\w+):?-([^}]*)\}", raw):
        assert not re.search(r"SECRET|PASS|TOKEN", variable) and not (default and "KEY" in variable), variable
    for published in PUBLISHED_SECRETS:  # the runner refuses them; nothing offers them any more
        for path in ("docker-compose.yml", "README.md", "serverless.yml", ".env.example"):
            assert not (ROOT / path).exists() or published not in (ROOT / path).read_text(), path


def _locations(conf: str) -> dict[str, str]:
    """Each `location` block's heading and body (braces inside quoted strings are text)."""
    blocks = {}
    for heading in re.finditer(r"^\s*location ([^{]+)\{", conf, re.MULTILINE):
        depth, quote, index = 1, "", heading.end()
        while depth:
            char = conf[index]
            if quote:
                quote = "" if char == quote else quote
            elif char in "'\"":
                quote = char
            elif char in "{}":
                depth += 1 if char == "{" else -1
            index += 1
        blocks[heading.group(1).strip()] = conf[heading.end() : index - 1]
    return blocks


def test_every_nginx_location_sends_the_client_address_and_logs_no_request_line() -> None:
    """A location with a proxy_set_header of its own inherits none of the server's (it once sent
    `Connection ""` alone: Kiroshi never saw X-Real-IP). Nginx ends every error it logs about a
    request with the request line, query string and all: no location may log those."""
    conf = (ROOT / "nginx" / "kiroshi.conf.template").read_text()
    headers = [
        "proxy_set_header X-Real-IP $remote_addr;",
        'proxy_set_header X-Forwarded-For "";',
        "proxy_set_header X-Request-Id $request_id;",
        "proxy_set_header Host $host;",
    ]
    server = conf[conf.index("server {") : re.search(r"^\s*location ", conf, re.MULTILINE).start()]  # type: ignore[union-attr]
    locations = _locations(conf)

    assert all(header in server for header in headers)
    assert {"@too_large", "@too_many", "@unavailable", "/"} <= set(locations)
    for heading, body in locations.items():
        assert "error_log {{error_log}} emerg;" in body, heading
        if "proxy_set_header" in body:
            assert all(header in body for header in headers), heading
    log_format = conf[conf.index("log_format") : conf.index("access_log")]
    assert not re.search(r"\$(request|request_uri|args|query_string|is_args|arg_\w+)\b", log_format)


def test_prometheus_scrapes_each_instance_directly_not_through_nginx() -> None:
    """Nginx answers /metrics and /ready with 404 to the internet."""
    scrape = yaml.safe_load((ROOT / "observability" / "prometheus.yml").read_text())["scrape_configs"]
    targets = {(sd["names"][0], sd["port"]) for job in scrape for sd in job["dns_sd_configs"]}

    assert targets == {("http", 8080), ("websocket", 8081)}
    assert re.search(r"location ~\*? \^/\(metrics\|ready\)", (ROOT / "nginx" / "kiroshi.conf.template").read_text())


def test_ci_runs_the_python_that_the_readme_and_the_makefile_name() -> None:
    """README says which Python the quick start uses; the Makefile's default is that one; and under
    CI (CI=true, .ci/run through make) the tests run on it."""
    import os
    import sys

    named = re.search(r"^PYTHON \?= python(\d+)\.(\d+)$", (ROOT / "Makefile").read_text(), re.MULTILINE)
    assert named is not None
    version = f"{named[1]}.{named[2]}"
    assert f"`python{version}` (what CI runs)" in (ROOT / "README.md").read_text()
    if os.environ.get("CI") == "true":
        assert f"{sys.version_info.major}.{sys.version_info.minor}" == version


def test_compose_takes_payments_at_stripe_unless_told_to_trust() -> None:
    """Compose's default is KIROSHI_PAYMENTS=stripe, with no key of its own: without STRIPE_API_KEY (in
    .env) the Kiroshi services stop at start, naming it, unless KIROSHI_PAYMENTS=trust is set."""
    from lib.config import ConfigError, load_settings

    raw = (ROOT / "docker-compose.yml").read_text()
    for name in ("http", "websocket"):
        environment = _compose()["services"][name]["environment"]
        assert environment["KIROSHI_PAYMENTS"] == "${KIROSHI_PAYMENTS:-stripe}"
        assert not any(variable.startswith("STRIPE_") for variable in environment)  # .env's, never a default
    assert "STRIPE_" not in raw.split("services:", 1)[1]
    with pytest.raises(ConfigError, match="STRIPE_API_KEY"):
        load_settings({"KIROSHI_PAYMENTS": "stripe", "KIROSHI_JWT_SECRET": "j" * 40})
    assert load_settings({"KIROSHI_PAYMENTS": "trust", "KIROSHI_JWT_SECRET": "j" * 40}).payments == "trust"
