from __future__ import annotations

from tests.support.client import Client


def test_the_openapi_document_is_served_and_strict(client: Client) -> None:
    document = client.get("/openapi.json").json

    assert document["openapi"] == "3.1.0"
    register = document["paths"]["/users/register"]["post"]
    schema_ref = register["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = document["components"]["schemas"][schema_ref.rsplit("/", 1)[1]]
    assert set(schema["required"]) == {"email", "nickname", "name", "surname", "password"}
    assert schema.get("additionalProperties") is False
    assert {"201", "409", "422", "429"} <= set(register["responses"])


def test_the_docs_page_and_its_assets_are_served_from_the_installed_package(client: Client) -> None:
    page = client.get("/docs")
    assert page.status == 200
    assert page.headers["content-type"].startswith("text/html")
    for asset in ("swagger-ui.css", "swagger-ui-bundle.js", "docs-init.js"):
        assert client.get(f"/docs/{asset}").status == 200
    assert client.get("/docs/..%2F..%2Fetc%2Fpasswd").status == 404
    assert client.get("/docs/index.html").status == 404
