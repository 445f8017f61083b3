from __future__ import annotations

import tomllib
from pathlib import Path

import lib
from tests.support.client import Client

ROOT = Path(__file__).resolve().parents[4]


def test_the_root_says_what_answers_here_and_where_its_documentation_is(client: Client) -> None:
    answer = client.get("/")

    assert answer.status == 200
    assert answer.json["name"] == "Kiroshi"
    assert (answer.json["docs"], answer.json["openapi"]) == ("/docs", "/openapi.json")
    assert "docs/API.md" in answer.json["contract"]
    for path in (answer.json["docs"], answer.json["openapi"]):
        assert client.get(path).status == 200


def test_one_version_in_pyproject_the_root_and_the_openapi_document(client: Client) -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())

    assert pyproject["project"]["version"] == lib.__version__
    assert client.get("/").json["version"] == lib.__version__
    assert client.get("/openapi.json").json["info"]["version"] == lib.__version__
