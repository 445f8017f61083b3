"""A test client that drives the real router and dispatch, as every front door does."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from functions.routes import router
from lib.http import json
from lib.http.dispatch import dispatch_request
from lib.http.messages import HttpRequest
from lib.services import Services

_emails = itertools.count(1)
PASSWORD = "a sturdy passphrase 42"


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    def __repr__(self) -> str:
        return f"<Answer {self.status} {self.body[:300]!r}>"


@dataclass
class Account:
    user_id: str
    email: str
    token: str
    password: str = PASSWORD


class Client:
    def __init__(self, services: Services, client_addr: str = "127.0.0.1") -> None:
        self.services = services
        self.client_addr = client_addr

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        body: bytes | None = None,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        query: dict[str, str] | None = None,
    ) -> Answer:
        all_headers = {k.lower(): v for k, v in (headers or {}).items()}
        if json_body is not None:
            body = json.dumps(json_body)
            all_headers.setdefault("content-type", "application/json")
        if token is not None:
            all_headers["authorization"] = f"Bearer {token}"
        request = HttpRequest(method, path, all_headers, query or {}, body or b"", self.client_addr)
        response = dispatch_request(router, request, self.services)
        return Answer(response.status, response.headers, response.body)

    def get(self, path: str, **kwargs: Any) -> Answer:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, json_body: Any = None, **kwargs: Any) -> Answer:
        return self.request("POST", path, json_body=json_body, **kwargs)

    def patch(self, path: str, json_body: Any = None, **kwargs: Any) -> Answer:
        return self.request("PATCH", path, json_body=json_body, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Answer:
        return self.request("DELETE", path, **kwargs)

    def register(self, email: str | None = None, password: str = PASSWORD, **fields: str) -> Answer:
        body = {
            "email": f"user{next(_emails)}@example.com" if email is None else email,
            "nickname": "nick",
            "name": "Ada",
            "surname": "Lovelace",
            "password": password,
            **fields,
        }
        return self.post("/users/register", body)

    def login(self, email: str, password: str = PASSWORD) -> Answer:
        return self.post("/users/login", {"email": email, "password": password})

    def create_plan(self, token: str, **fields: Any) -> dict[str, Any]:
        body = {"price": 9.99, "duration": 30, "title": "Pro", "description": "More of everything"} | fields
        answer = self.post("/subscriptions/plans", body, token=token)
        assert answer.status == 201, answer
        return answer.json["plan"]  # type: ignore[no-any-return]

    def buy(self, token: str, plan_id: str, transaction_id: str) -> Answer:
        return self.post("/subscriptions/buy", {"plan_id": plan_id, "transaction_id": transaction_id}, token=token)

    def relogin(self, account: Account) -> str:
        """A fresh token (after a test moved the clock past the old one's expiry)."""
        answer = self.login(account.email, account.password)
        assert answer.status == 200, answer
        account.token = answer.json["token"]
        return account.token

    def account(self, email: str | None = None, password: str = PASSWORD) -> Account:
        """Register and log in a fresh user."""
        created = self.register(email, password)
        assert created.status == 201, created
        user = created.json["created_user"]
        logged = self.login(user["email"], password)
        assert logged.status == 200, logged
        return Account(user["user_id"], user["email"], logged.json["token"], password)
