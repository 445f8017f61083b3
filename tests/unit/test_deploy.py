"""docker-compose.yml, Dockerfile and the monitoring files agree with the code (there is no
Docker engine here: `docker compose config` cannot run, so the file is checked as data)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

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
