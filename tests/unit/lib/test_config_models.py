"""KIROSHI_MODELS_FILE: the catalogue is read at start, its mistakes stop the start naming the file,
and without it the one-provider shorthand (KIROSHI_MODELS on OPENAI_BASE_URL) keeps working."""

from __future__ import annotations

from pathlib import Path

import pytest

from lib.config import ConfigError, load_settings
from lib.llm.catalogue import Upstream

MODELS = """
[upstreams.local]
base_url = "http://127.0.0.1:11434/v1"
[upstreams.hosted]
base_url = "https://api.example.com/v1"
api_key_env = "HOSTED_KEY"
[models.small]
upstream = "local"
provider_model = "llama3.1:8b"
input_per_million = "0"
output_per_million = "0"
[models.big]
upstream = "hosted"
input_per_million = "2.5"
output_per_million = "10"
fallbacks = ["small"]
"""


def test_the_models_file_names_the_models_clients_may_choose(tmp_path: Path) -> None:
    path = tmp_path / "models.toml"
    path.write_text(MODELS)

    settings = load_settings({"KIROSHI_DATA_DIR": str(tmp_path), "KIROSHI_MODELS_FILE": str(path), "HOSTED_KEY": "k"})

    assert settings.models == ("small", "big")
    assert settings.model_catalogue.chain("big")[1].provider_model == "llama3.1:8b"
    assert "'***'" in repr(settings.model_catalogue.models["big"].upstream.api_key)


def test_without_a_models_file_every_model_is_on_openai_base_url(tmp_path: Path) -> None:
    env = {"KIROSHI_DATA_DIR": str(tmp_path), "KIROSHI_MODELS": "a, b", "OPENAI_BASE_URL": "http://x:1/v1"}

    catalogue = load_settings(env).model_catalogue

    assert catalogue.names == ("a", "b")
    assert {m.upstream for m in catalogue.models.values()} == {Upstream("default", "http://x:1/v1", "openai")}


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({}, "HOSTED_KEY is unset"),  # the key's variable
        ({"HOSTED_KEY": "k", "KIROSHI_MODELS": "small"}, "both set"),
    ],
)
def test_a_wrong_models_setup_stops_the_start_saying_what(tmp_path: Path, env: dict[str, str], named: str) -> None:
    path = tmp_path / "models.toml"
    path.write_text(MODELS)

    with pytest.raises(ConfigError, match=named):
        load_settings({"KIROSHI_DATA_DIR": str(tmp_path), "KIROSHI_MODELS_FILE": str(path), **env})


def test_a_models_file_that_cannot_be_read_names_itself(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"

    with pytest.raises(ConfigError, match=f"KIROSHI_MODELS_FILE {missing}: cannot be read"):
        load_settings({"KIROSHI_DATA_DIR": str(tmp_path), "KIROSHI_MODELS_FILE": str(missing)})
