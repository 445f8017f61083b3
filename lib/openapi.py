"""The OpenAPI 3.1 document, generated from the route table and the marshmallow schemas."""

from __future__ import annotations

import functools
import importlib
from collections.abc import Sequence
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import fields

from lib import __version__
from lib.auth.policies import Auth
from lib.chats.frames import QUERY, REFUSALS
from lib.http.routing import Route
from lib.http.schemas import StrictSchema

__all__ = ["openapi_document"]

DESCRIPTION = """Kiroshi: accounts, paid plans and streaming chat with LLMs.

Errors are RFC 9457 problem details (`application/problem+json`) with a stable `code`; on `/v1/*`
they are OpenAI's error object (`{"error": {"message", "type", "param", "code"}}`), as its SDKs read it.
Unknown JSON fields are rejected with 422. Lists take `?limit=` (1-200, default 50) and `?cursor=`
and answer `next_cursor` (null at the end).

Decisions where the API contract is silent:
- E-mails are trimmed and their domain lower-cased; uniqueness and login ignore case entirely.
- Login is limited per account and per client address (429 with Retry-After); a correct password
  does not count as a failure. Register is limited per client address.
- A wrong `current_password` answers 403 `wrong_password`; a missing one 422.
- Changing the password revokes every token issued before it, the presenting one included.
- Prices are JSON numbers with at most the currency's decimals (2 for USD, 0 for JPY); they are
  stored as integer minor units. `duration` is in days. Plans may carry entitlements: `models`
  (null: every configured model) and `token_quota` (tokens per period, null: unlimited).
- A plan's `currency` can change only together with its `price`.
- A subscriber is the user's billing record (`auto_renew`, `billing_email`, `paid_until`); its id is
  stable per user. It is created at the first purchase when missing, and cannot be deleted while it
  has an active or scheduled contract (409 `subscriber_has_live_contracts`).
- Buying: with KIROSHI_PAYMENTS=stripe the transaction id is a Stripe Checkout Session id (from
  `POST /subscriptions/checkout`), verified with Stripe before anything is stored: unpaid, another
  amount, currency, user or plan, or a payment refunded or disputed, is 402 `payment_rejected` with a
  `reason`; Stripe unreachable 503 `payments_unavailable`. The contract gets the price, currency and
  duration the session was sold at; a plan deleted before the payment refunds it (409
  `plan_withdrawn`); a free plan cannot be checked out (409 `free_plan`). The contract keeps
  `payment_intent_id`, and a refund goes back through Stripe first. `POST /payments/stripe/webhook`
  (signed by Stripe-Signature) makes the same purchase
  when the buyer never returns, and applies refunds and disputes made at Stripe. With
  KIROSHI_PAYMENTS=trust (local development) any transaction id is taken as proof of payment and
  checkout is 409 `payments_not_configured`. Replaying a transaction id for the same plan answers
  200 with the same contract; for another plan or user 409 `transaction_id_reused`. Unknown plan
  404, archived plan 409 `plan_archived`.
- Contract `status` is `scheduled`, `active`, `expired` or `refunded`. Refunding an expired
  contract is 409 `contract_expired`; a refunded one 409 `already_refunded`. A refunded contract
  ends at the refund (or at its start, if it had not started) and carries `refund_amount`.
- Deleting a user deletes everything it owns (subscriber record, chats, messages, usage) with the
  account, except its contracts: they stay as money records, without personal data, and their
  transaction ids stay spent (409 `transaction_id_reused` forever).
- Chats list newest first by creation (stable pages). A chat's `title` is set from its first message.
  Messages carry `status`: `complete`, `stopped` (the user sent stop) or `error` (the model failed).
- The chat session (`GET /chats/{user_id}/{chat_id}/session`) is a WebSocket, authenticated by its
  `auth_token` query parameter (a JWT or a ticket), not a header. Its frames, their error codes and
  the close codes are the AsyncAPI 3.0 document at `/asyncapi.json`.
- `GET /` answers the web console's page (HTML, with a strict Content-Security-Policy) to a request whose
  `Accept` names `text/html` first, as a browser's navigation does, and its JSON (name, version, where the
  documentation is) to any other, curl's `*/*` and a missing `Accept` included; both say `Vary: Accept`.
  The console's files are `GET /console/{asset}`.
- `/v1/chat/completions` accepts OpenAI's standard parameters (tools and tool calls, response_format,
  sampling, logprobs, max_tokens or max_completion_tokens, stream_options; n=1 only); a quota refusal
  there is 429 `insufficient_quota`, a model outside the caller's plan 404 `model_not_found`.
"""

STATUS_TITLES = {
    400: "Malformed JSON (on Stripe's webhook also: a Stripe-Signature that does not verify)",
    401: "Unauthorized",
    402: "Payment rejected",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    413: "Body too large",
    415: "Unsupported media type",
    422: "Validation failed",
    426: "Upgrade required (a WebSocket endpoint)",
    502: "An upstream server failed (the model server, or Stripe on payment routes)",
    429: "Rate limited",
    503: "Dependency unavailable",
}


class OpenAIErrorObject(StrictSchema):
    message = fields.String(required=True)
    type = fields.String(required=True)
    param = fields.String(required=True, allow_none=True, metadata={"description": "the offending field"})
    code = fields.String(required=True, allow_none=True)


class OpenAIError(StrictSchema):
    error = fields.Nested(OpenAIErrorObject, required=True)


class Problem(StrictSchema):
    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True)
    code = fields.String(required=True, metadata={"description": "stable machine-readable error code"})
    errors = fields.Dict(metadata={"description": "on 422: the offending fields and their messages"})


def _summary(route: Route) -> tuple[str, str]:
    doc = (importlib.import_module(route.module).__doc__ or route.name).strip()
    first, _, rest = doc.partition("\n")
    return first, rest.strip()


def _responses(route: Route) -> dict[str, Any]:
    ok: dict[str, Any] = {"description": "success"}
    if route.websocket:
        ok["description"] = "Switching Protocols: the session is open; its frames are in /asyncapi.json"
    if route.out is not None:
        ok["content"] = {"application/json": {"schema": route.schema_class("out")}}
    responses: dict[str, Any] = {str(status): ok for status in (route.status, *route.also)}
    codes = set(route.errors) | {503}  # every function answers 503 while a dependency is down
    if route.body is not None:
        codes |= {400, 413, 415, 422}
    if route.query is not None:
        codes.add(422)
    if route.auth is not Auth.PUBLIC:
        codes.add(401)
    if route.auth in (Auth.SELF, Auth.SELF_OR_ADMIN, Auth.ADMIN):
        codes.add(403)
    for code in sorted(codes):
        responses[str(code)] = {
            "description": _refusal(code) if route.websocket else STATUS_TITLES[code],
            "content": _ERROR_CONTENT[route.error_shape],
        }
    return responses


_ERROR_CONTENT = {
    "problem": {"application/problem+json": {"schema": "Problem"}},
    "openai": {"application/json": {"schema": "OpenAIError"}},
}


def _refusal(status: int) -> str:
    """Why the session's upgrade is answered `status` instead of 101, and with which codes."""
    codes, when = REFUSALS[status]
    return f"{STATUS_TITLES[status]}: {when} (`code`: {', '.join(codes)})"


def _session_query() -> list[dict[str, Any]]:
    """The session's query parameters: a WebSocket client cannot send headers, so its credential
    travels here (as `auth_token`), not as a bearer token."""
    return [
        {
            "in": "query",
            "name": f.name,
            "required": f.required,
            "description": f.description,
            "schema": {"type": f.type},
        }
        for f in QUERY
    ]


def _operation(route: Route) -> dict[str, Any]:
    summary, description = _summary(route)
    operation: dict[str, Any] = {
        "operationId": route.target,
        "summary": summary,
        "tags": [route.name.split(".")[0]],
        "responses": _responses(route),
    }
    if description:
        operation["description"] = description
    parameters: list[dict[str, Any]] = [
        {"in": "path", "name": name, "required": True, "schema": {"type": "string"}} for name in route.params
    ]
    if route.query is not None:
        parameters.append({"in": "query", "schema": route.schema_class("query")})
    if route.websocket:
        parameters += _session_query()
    if parameters:
        operation["parameters"] = parameters
    if route.body is not None:
        body = route.schema_class("body")
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    if route.websocket:
        operation["security"] = []  # the credential is the `auth_token` query parameter
    elif route.auth is not Auth.PUBLIC:
        operation["security"] = [{"bearerAuth": []}]
    return operation


@functools.cache
def _document(routes: tuple[Route, ...]) -> dict[str, Any]:
    spec = APISpec(
        title="Kiroshi",
        version=__version__,
        openapi_version="3.1.0",
        plugins=[MarshmallowPlugin()],
        info={"description": DESCRIPTION},
    )
    spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
    spec.components.schema("Problem", schema=Problem)
    spec.components.schema("OpenAIError", schema=OpenAIError)
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route)
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()


def openapi_document(routes: Sequence[Route]) -> dict[str, Any]:
    return _document(tuple(routes))
