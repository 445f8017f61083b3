"""A faithful fake of the part of Stripe's API that Kiroshi uses, served on 127.0.0.1 in a thread.

Like api.stripe.com it wants `Authorization: Bearer <secret key>` (401 without, or with another key
than `api_key`), takes form-encoded bodies with nested keys (`line_items[0][price_data][currency]`,
`metadata[user_id]`), refuses unknown parameters, and answers Stripe-shaped objects and errors
(`{"error": {"type", "code", "message", "param"}}`, 404 `resource_missing` for an unknown id in the
path, 400 for one named in the body). Endpoints:
  POST /v1/checkout/sessions        mode=payment, line items priced with `price_data`; `unpaid`
  GET  /v1/checkout/sessions/{id}   `payment_intent` stays null until the session is paid;
                                    `expand[]=payment_intent` or `payment_intent.latest_charge`
                                    answers the PaymentIntent (and its charge: `amount_refunded`,
                                    `refunded`, `disputed`) in place of its id
  POST /v1/refunds                  on a PaymentIntent, whole or partial; `amount_too_large`,
                                    `charge_already_refunded`
  GET  /v1/refunds                  a list object, newest first; `payment_intent`, `limit`,
                                    `starting_after` as Stripe takes them
Amounts follow Stripe's currency rules: ISK and UGX are two-decimal amounts ending in 00, and the
three-decimal BHD JOD KWD OMR TND are charged and refunded in multiples of 10 (`invalid_amount`).
For a browser, the part Stripe's hosted checkout plays (no key; not in `requests`):
  GET  /pay/{id}                    pays the session (as `pay` does; once) and answers 303 to its
                                    `success_url`, `{CHECKOUT_SESSION_ID}` replaced by the id;
                                    `?cancel` pays nothing and answers 303 to its `cancel_url`
A session's `url` is https://checkout.stripe.com/c/pay/{id}, as Stripe's; with `checkout_page=True`
it is this fake's `/pay/{id}` instead, so that a browser test can follow it.
Every POST honours `Idempotency-Key` as Stripe does: the first answer that began executing is kept
and replayed (`Idempotent-Replayed: true`) for the same key and parameters; the same key with other
parameters is 400 `idempotency_error`; a key still executing is 409 `idempotency_key_in_use`.
Parameter errors, injected failures and refusals of the key are not kept.

Knobs for tests (thread-safe; the server runs on one event loop, the knobs take the same lock):
`pay(session_id, amount_total=?, currency=?)` completes a session (a PaymentIntent `pi_...` and its
charge `ch_...`), `fail(count, status)` answers the next requests 5xx, `lose(count)` executes the
next requests but answers them 502 (an answer lost on the way back), `delay_seconds` holds every
answer (a timeout), `refund_outside(pi)` refunds as Stripe's dashboard would, `after_refund` (a
callable given each refund created, outside the lock, before it is answered) plays a webhook that
arrives first. `requests` records
everything received, `refund_requests()` the refund calls and `refunds` the refunds created.
Webhooks: `checkout_completed(session_id)`, `charge_refunded(pi)`, `dispute_created(pi)` build the
events Stripe would send, `signed_webhook(event, secret)` signs one (`t=<ts>,v1=<HMAC-SHA256>`).
Run it alone: `python -m tests.support.fake_stripe PORT [API_KEY]`.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote

import orjson
import uvicorn

__all__ = ["API_VERSION", "FakeStripe", "Received", "signed_webhook", "stripe_event"]

API_VERSION = "2026-10-28.endive"  # what stripe==16.1.0 sends as Stripe-Version
CHECKOUT_PARAMS = frozenset(
    {
        "mode", "line_items", "success_url", "cancel_url", "client_reference_id", "metadata", "customer",
        "customer_email", "currency", "expires_at", "locale", "payment_method_types", "payment_intent_data",
        "allow_promotion_codes", "ui_mode", "expand",
    }
)  # fmt: skip
REFUND_PARAMS = frozenset({"payment_intent", "charge", "amount", "metadata", "reason", "expand"})
REFUND_REASONS = frozenset({"duplicate", "fraudulent", "requested_by_customer"})
PAY_PAGE = "/pay/"  # the fake's stand-in for Stripe's hosted checkout page (GET /pay/{session id})


class StripeProblem(Exception):
    """An error answer: its status and Stripe's error object. `kept`: an idempotent replay repeats it."""

    def __init__(self, status: int, type_: str, message: str, *, code: str | None = None, param: str | None = None):
        super().__init__(message)
        self.status, self.kept = status, status in (400, 402, 404) and type_ != "idempotency_error"
        self.body: dict[str, Any] = {"error": {"type": type_, "message": message}}
        if code is not None:
            self.body["error"] |= {
                "code": code,
                "doc_url": f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}",
            }
        if param is not None:
            self.body["error"]["param"] = param


class ParameterError(StripeProblem):
    """A parameter failed validation: never kept for an idempotency key (execution did not begin)."""

    def __init__(self, message: str, *, code: str, param: str) -> None:
        super().__init__(400, "invalid_request_error", message, code=code, param=param)
        self.kept = False


@dataclass(frozen=True)
class Received:
    """One request as the fake read it: `params` decoded from the form body (or the query string)."""

    method: str
    path: str
    params: dict[str, Any]
    idempotency_key: str | None
    stripe_version: str | None


@dataclass
class FakeStripe:
    api_key: str = "sk_test_kiroshi_fake"
    port: int = 0
    delay_seconds: float = 0.0
    requests: list[Received] = field(default_factory=list)
    refunds: list[dict[str, Any]] = field(default_factory=list)  # created, in order (no replays)
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    payment_intents: dict[str, dict[str, Any]] = field(default_factory=dict)
    checkout_page: bool = False  # True: a session's `url` is this fake's GET /pay/{id}, not Stripe's
    after_refund: Callable[[dict[str, Any]], None] | None = None
    _failures: list[int] = field(default_factory=list, init=False, repr=False)
    _losses: int = field(default=0, init=False, repr=False)
    _kept: dict[str, tuple[str, dict[str, Any], int, dict[str, Any]]] = field(
        default_factory=dict, init=False, repr=False
    )
    _executing: set[str] = field(default_factory=set, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    _generation: int = field(default=0, init=False, repr=False)

    # -- knobs ------------------------------------------------------------------------------------

    def pay(self, session_id: str, *, amount_total: int | None = None, currency: str | None = None) -> str:
        """Complete the session as a customer paying it would; returns its new PaymentIntent id.
        `amount_total`/`currency` replace what the session asked (a session paid at another price)."""
        with self._lock:
            session = self.sessions[session_id]
            if amount_total is not None:
                session["amount_total"] = session["amount_subtotal"] = amount_total
            session["currency"] = (currency or session["currency"]).lower()
            intent_id, charge_id = _new_id("pi"), _new_id("ch")
            self.payment_intents[intent_id] = {
                "id": intent_id,
                "charge": charge_id,
                "amount": session["amount_total"],
                "currency": session["currency"],
                "amount_refunded": 0,
                "metadata": dict(session["metadata"]),
            }
            session |= {"payment_intent": intent_id, "payment_status": "paid", "status": "complete"}
            return intent_id

    def reset(self) -> None:
        """Forget every object, record, key and knob (one server can serve many tests). A request
        still held by `delay_seconds` then answers 500 without executing."""
        with self._lock:
            for records in (self.requests, self.refunds, self._failures):
                records.clear()
            for table in (self.sessions, self.payment_intents, self._kept):
                table.clear()
            self._executing.clear()
            self.delay_seconds, self._losses, self.after_refund = 0.0, 0, None
            self._generation += 1

    def fail(self, count: int, status: int = 500) -> None:
        """Answer the next `count` requests with `status` (Stripe's `api_error`), executing nothing."""
        with self._lock:
            self._failures += [status] * count

    def lose(self, count: int) -> None:
        """Execute the next `count` requests (keeping their answers for their idempotency keys) but
        answer them 502 `api_error`, as if the answers were lost on the way back."""
        with self._lock:
            self._losses += count

    def refund_outside(
        self, payment_intent_id: str, amount: int | None = None, metadata: dict[str, str] | None = None
    ) -> dict[str, Any]:
        """A refund made in Stripe's dashboard: created, but not a request this fake received."""
        with self._lock:
            return self._create_refund(
                {
                    "payment_intent": payment_intent_id,
                    **({"amount": str(amount)} if amount else {}),
                    **({"metadata": metadata} if metadata else {}),
                }
            )

    def refund_requests(self) -> list[Received]:
        with self._lock:
            return [r for r in self.requests if (r.method, r.path) == ("POST", "/v1/refunds")]

    # -- webhook events -----------------------------------------------------------------------------

    def checkout_completed(self, session_id: str) -> dict[str, Any]:
        with self._lock:
            return stripe_event("checkout.session.completed", dict(self.sessions[session_id]))

    def charge_refunded(self, payment_intent_id: str) -> dict[str, Any]:
        with self._lock:
            return stripe_event("charge.refunded", self._charge(self.payment_intents[payment_intent_id]))

    def dispute_created(self, payment_intent_id: str, reason: str = "fraudulent") -> dict[str, Any]:
        with self._lock:
            intent = self.payment_intents[payment_intent_id]
            intent["disputed"] = True
            dispute = {
                "id": _new_id("dp"),
                "object": "dispute",
                "amount": intent["amount"],
                "charge": intent["charge"],
                "currency": intent["currency"],
                "payment_intent": payment_intent_id,
                "reason": reason,
                "status": "needs_response",
                "created": int(time.time()),
                "livemode": False,
                "metadata": {},
            }
            return stripe_event("charge.dispute.created", dispute)

    # -- serving ------------------------------------------------------------------------------------

    def serve_in_thread(self) -> FakeStripe:
        """Serve on 127.0.0.1 (a free port unless `port` is set) until `stop()`."""
        config = uvicorn.Config(
            self, host="127.0.0.1", port=self.port, log_level="error", lifespan="off", loop="asyncio", http="httptools"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        while not self._server.started:
            time.sleep(0.01)
        self.port = self._server.servers[0].sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeStripe:
        return self.serve_in_thread()

    def __exit__(self, *_: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """What STRIPE_API_BASE names: the host, without /v1 (as https://api.stripe.com)."""
        return f"http://127.0.0.1:{self.port}"

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        method, path = scope["method"], scope["path"]
        if method == "GET" and path.startswith(PAY_PAGE) and "/" not in path[len(PAY_PAGE) :]:
            await self._serve_pay_page(unquote(path[len(PAY_PAGE) :]), scope["query_string"].decode(), send)
            return
        form = body.decode() if method == "POST" else scope["query_string"].decode()
        received = Received(method, path, _nested(form), headers.get("idempotency-key"), headers.get("stripe-version"))
        with self._lock:
            self.requests.append(received)
            early, generation = self._admit(received, headers.get("authorization", "")), self._generation
        if early is None:
            if self.delay_seconds:
                await asyncio.sleep(self.delay_seconds)  # the key stays `executing` meanwhile
            with self._lock:
                if generation == self._generation:
                    early = self._execute(received)
                else:
                    early = (500, {"error": {"type": "api_error", "message": "reset while executing"}}, {})
                hook = self.after_refund
            created = (received.method, received.path, early[0]) == ("POST", "/v1/refunds", 200)
            if hook is not None and created and not early[2]:
                hook(early[1])
        with self._lock:
            lost, self._losses = self._losses > 0, max(self._losses - 1, 0)
        if lost:
            early = (502, {"error": {"type": "api_error", "message": "The answer was lost (the fake)."}}, {})
        status, answer, extra = early
        response_headers = [(b"content-type", b"application/json"), (b"request-id", _new_id("req").encode())]
        response_headers += [(k.encode(), v.encode()) for k, v in extra.items()]
        await send({"type": "http.response.start", "status": status, "headers": response_headers})
        await send({"type": "http.response.body", "body": orjson.dumps(answer)})

    async def _serve_pay_page(self, session_id: str, query: str, send: Any) -> None:
        """Stripe's hosted checkout, as a browser meets it: the buyer pays at once (or, with `?cancel`,
        gives up) and is sent back to the session's success (or cancel) URL."""
        cancelled = "cancel" in dict(parse_qsl(query, keep_blank_values=True))
        with self._lock:
            session = self.sessions.get(session_id)
            paid = session is not None and session["payment_status"] == "paid"
        if session is not None and not (cancelled or paid):
            try:
                self.pay(session_id)
            except KeyError:  # reset meanwhile
                session = None
        headers: list[tuple[bytes, bytes]] = []
        if session is None:
            status, text = 404, f"No such checkout session: {session_id}"
        else:
            status, text = 200, "Cancelled." if cancelled else "Paid."
            if back := session["cancel_url" if cancelled else "success_url"]:
                status, headers = 303, [(b"location", back.replace("{CHECKOUT_SESSION_ID}", session_id).encode())]
        headers += [(b"content-type", b"text/plain; charset=utf-8"), (b"cache-control", b"no-store")]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": text.encode()})

    # -- the API ------------------------------------------------------------------------------------

    def _admit(self, request: Received, authorization: str) -> tuple[int, dict[str, Any], dict[str, str]] | None:
        """The answer given before executing (refused key, injected failure, idempotent replay or
        conflict), or None: then the request's key is marked executing. The lock is held."""
        if (refusal := self._refusal(authorization)) is not None:
            return 401, refusal, {}
        if self._failures:
            status = self._failures.pop(0)
            error = {"type": "api_error", "message": "An unknown error occurred (the fake Stripe failed)."}
            return status, {"error": error}, {}
        key = request.idempotency_key if request.method == "POST" else None
        if key is None:
            return None
        if (kept := self._kept.get(key)) is not None:
            return self._replay(key, kept, request)
        if key in self._executing:
            message = (
                "There is currently another in-progress request using this Idempotent Key (that probably"
                f" means you submitted twice, and the other request is still going through): {key}."
                " Please try again later."
            )
            problem = StripeProblem(409, "invalid_request_error", message, code="idempotency_key_in_use")
            return 409, problem.body, {"stripe-should-retry": "true"}
        self._executing.add(key)
        return None

    def _execute(self, request: Received) -> tuple[int, dict[str, Any], dict[str, str]]:
        """Run an admitted request and keep its answer for its idempotency key. The lock is held."""
        key = request.idempotency_key if request.method == "POST" else None
        self._executing.discard(key or "")
        try:
            status, answer = 200, self._route(request)
        except StripeProblem as exc:
            if not exc.kept:
                return exc.status, exc.body, {}
            status, answer = exc.status, exc.body
        if key is not None:
            self._kept[key] = (f"{request.method} {request.path}", request.params, status, answer)
        return status, answer, {}

    def _replay(
        self, key: str, kept: tuple[str, dict[str, Any], int, dict[str, Any]], request: Received
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        endpoint, params, status, answer = kept
        if endpoint != f"{request.method} {request.path}" or params != request.params:
            message = (
                "Keys for idempotent requests can only be used with the same parameters they were first used"
                f" with. Try using a key other than '{key}' if you meant to execute a different request."
            )
            return 400, StripeProblem(400, "idempotency_error", message).body, {}
        return status, answer, {"idempotent-replayed": "true", "original-request": _new_id("req")}

    def _refusal(self, authorization: str) -> dict[str, Any] | None:
        if not authorization.startswith("Bearer ") or not authorization[7:].strip():
            message = (
                "You did not provide an API key. You need to provide your API key in the Authorization header,"
                " using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY')."
            )
            return {"error": {"type": "invalid_request_error", "message": message}}
        key = authorization[7:]
        if key == self.api_key:
            return None
        masked = key[:8] + "*" * max(0, len(key) - 12) + key[-4:] if len(key) > 12 else "*" * len(key)
        return {"error": {"type": "invalid_request_error", "message": f"Invalid API Key provided: {masked}"}}

    def _route(self, request: Received) -> dict[str, Any]:
        """The object a request answers. Raises StripeProblem for Stripe's errors."""
        routes: dict[tuple[str, str], Callable[[dict[str, Any]], dict[str, Any]]] = {
            ("POST", "/v1/checkout/sessions"): self._create_session,
            ("POST", "/v1/refunds"): self._create_refund,
        }
        if (handler := routes.get((request.method, request.path))) is not None:
            return handler(request.params)
        if (request.method, request.path) == ("GET", "/v1/refunds"):
            return self._list_refunds(request.params)
        prefix = "/v1/checkout/sessions/"
        if request.method == "GET" and request.path.startswith(prefix) and "/" not in request.path[len(prefix) :]:
            session_id = unquote(request.path[len(prefix) :])
            if session_id not in self.sessions:
                message = f"No such checkout.session: '{session_id}'"
                raise StripeProblem(404, "invalid_request_error", message, code="resource_missing", param="session")
            return self._expanded(dict(self.sessions[session_id]), request.params)
        message = f"Unrecognized request URL ({request.method}: {request.path})."
        raise StripeProblem(404, "invalid_request_error", message)

    def _expanded(self, session: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        """The session with what `expand[]` names in place of ids, as Stripe answers it."""
        _no_unknown(params, frozenset({"expand"}))
        expand = params.get("expand", [])
        expand = list(expand.values()) if isinstance(expand, dict) else expand  # `expand[]=` decodes as {"": v}
        if not isinstance(expand, list):
            raise ParameterError("Invalid array", code="parameter_invalid", param="expand")
        for path in expand:
            if path not in ("payment_intent", "payment_intent.latest_charge"):
                message = f"This property cannot be expanded ({path})."
                raise ParameterError(message, code="parameter_invalid", param="expand")
        intent = self.payment_intents.get(session["payment_intent"] or "")
        if intent is not None and expand:
            charge = self._charge(intent) if "payment_intent.latest_charge" in expand else intent["charge"]
            session["payment_intent"] = {
                "id": intent["id"],
                "object": "payment_intent",
                "amount": intent["amount"],
                "amount_received": intent["amount"],
                "currency": intent["currency"],
                "latest_charge": charge,
                "metadata": dict(intent["metadata"]),
                "status": "succeeded",
            }
        return session

    def _list_refunds(self, params: dict[str, Any]) -> dict[str, Any]:
        """GET /v1/refunds: newest first, filtered by `payment_intent`, paged by `limit` and `starting_after`."""
        _no_unknown(params, frozenset({"payment_intent", "charge", "limit", "starting_after", "ending_before"}))
        limit = _positive_int(params.get("limit", "10"), "limit")
        if limit > 100:
            raise ParameterError("limit must be at most 100", code="parameter_invalid_integer", param="limit")
        refunds = [
            r
            for r in reversed(self.refunds)
            if r["payment_intent"] == params.get("payment_intent", r["payment_intent"])
        ]
        if "starting_after" in params:
            ids = [r["id"] for r in refunds]
            if params["starting_after"] not in ids:
                message = f"No such refund: '{params['starting_after']}'"
                raise StripeProblem(
                    400, "invalid_request_error", message, code="resource_missing", param="starting_after"
                )
            refunds = refunds[ids.index(params["starting_after"]) + 1 :]
        page = [dict(r) for r in refunds[:limit]]
        return {"object": "list", "data": page, "has_more": len(refunds) > limit, "url": "/v1/refunds"}

    def _create_session(self, params: dict[str, Any]) -> dict[str, Any]:
        _no_unknown(params, CHECKOUT_PARAMS)
        if "mode" not in params:
            raise ParameterError("Missing required param: mode.", code="parameter_missing", param="mode")
        if params["mode"] != "payment":
            raise ParameterError("The fake Stripe only has mode=payment.", code="parameter_invalid", param="mode")
        items = params.get("line_items")
        if not isinstance(items, list) or not items:
            message = "You must specify either `line_items` or `price` and `quantity` in `payment` mode."
            raise ParameterError(message, code="parameter_missing", param="line_items")
        currencies, total = set(), 0
        for index, item in enumerate(items):
            currency, amount = _line_item(item, f"line_items[{index}]")
            currencies.add(currency)
            total += amount
        if len(currencies) > 1:
            message = "All line items must have the same currency."
            raise ParameterError(message, code="parameter_invalid", param="line_items")
        metadata = _metadata(params.get("metadata", {}))
        session_id = "cs_test_" + secrets.token_urlsafe(44).replace("-", "a").replace("_", "b")
        created = int(time.time())
        session = {
            "id": session_id,
            "object": "checkout.session",
            "amount_subtotal": total,
            "amount_total": total,
            "cancel_url": params.get("cancel_url"),
            "client_reference_id": params.get("client_reference_id"),
            "created": created,
            "currency": currencies.pop(),
            "customer": None,
            "customer_email": params.get("customer_email"),
            "expires_at": created + 24 * 3600,
            "livemode": False,
            "metadata": metadata,
            "mode": "payment",
            "payment_intent": None,
            "payment_method_types": ["card"],
            "payment_status": "unpaid",
            "status": "open",
            "success_url": params.get("success_url"),
            "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
            "ui_mode": "hosted",
            "url": f"{self.base_url}{PAY_PAGE}{session_id}"
            if self.checkout_page
            else f"https://checkout.stripe.com/c/pay/{session_id}",
        }
        self.sessions[session_id] = session
        return dict(session)

    def _create_refund(self, params: dict[str, Any]) -> dict[str, Any]:
        """Refund a PaymentIntent's charge (the lock is held)."""
        _no_unknown(params, REFUND_PARAMS)
        if "charge" in params:
            raise ParameterError("The fake Stripe refunds by payment_intent.", code="parameter_invalid", param="charge")
        if "payment_intent" not in params:
            message = "One of the following params should be provided for this request: payment_intent or charge."
            raise ParameterError(message, code="parameter_missing", param="payment_intent")
        reason = params.get("reason")
        if reason is not None and reason not in REFUND_REASONS:
            raise ParameterError(f"Invalid reason: {reason}", code="parameter_invalid", param="reason")
        amount = _positive_int(params["amount"], "amount") if "amount" in params else None
        intent = self.payment_intents.get(params["payment_intent"])
        if intent is None:
            message = f"No such payment_intent: '{params['payment_intent']}'"
            raise StripeProblem(400, "invalid_request_error", message, code="resource_missing", param="payment_intent")
        left = intent["amount"] - intent["amount_refunded"]
        if left == 0:
            message = f"Charge {intent['charge']} has already been refunded."
            raise StripeProblem(400, "invalid_request_error", message, code="charge_already_refunded")
        if amount is not None and amount > left:
            message = f"Refund amount ({amount}) is greater than unrefunded amount on charge ({left})"
            raise StripeProblem(400, "invalid_request_error", message, code="amount_too_large", param="amount")
        if amount is not None:
            _stripe_amount(amount, intent["currency"], "amount")
        amount = left if amount is None else amount
        intent["amount_refunded"] += amount
        refund = {
            "id": _new_id("re"),
            "object": "refund",
            "amount": amount,
            "balance_transaction": _new_id("txn"),
            "charge": intent["charge"],
            "created": int(time.time()),
            "currency": intent["currency"],
            "metadata": _metadata(params.get("metadata", {})),
            "payment_intent": intent["id"],
            "reason": reason,
            "receipt_number": None,
            "source_transfer_reversal": None,
            "status": "succeeded",
            "transfer_reversal": None,
        }
        self.refunds.append(refund)
        return dict(refund)

    def _charge(self, intent: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": intent["charge"],
            "object": "charge",
            "amount": intent["amount"],
            "amount_captured": intent["amount"],
            "amount_refunded": intent["amount_refunded"],
            "captured": True,
            "created": int(time.time()),
            "currency": intent["currency"],
            "livemode": False,
            "metadata": dict(intent["metadata"]),
            "paid": True,
            "payment_intent": intent["id"],
            "refunded": intent["amount_refunded"] == intent["amount"],
            "disputed": intent.get("disputed", False),
            "status": "succeeded",
        }


def stripe_event(type_: str, obj: dict[str, Any], *, event_id: str | None = None) -> dict[str, Any]:
    """An event as Stripe posts it to a webhook endpoint (a snapshot event of API version API_VERSION)."""
    return {
        "id": event_id or _new_id("evt"),
        "object": "event",
        "api_version": API_VERSION,
        "created": int(time.time()),
        "data": {"object": obj},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": type_,
    }


def signed_webhook(event: dict[str, Any], secret: str, *, timestamp: int | None = None) -> tuple[bytes, str]:
    """The body Stripe would post and its `Stripe-Signature` header: `t=<ts>,v1=<hex HMAC-SHA256 of
    "<ts>.<body>" keyed with the endpoint's secret>` (now, unless `timestamp` is given)."""
    body = orjson.dumps(event)
    ts = int(time.time()) if timestamp is None else timestamp
    signature = hmac.new(secret.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    return body, f"t={ts},v1={signature}"


def _new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def _nested(form: str) -> dict[str, Any]:
    """Stripe's form encoding decoded: `a[b][0][c]=v` → {"a": {"b": [{"c": "v"}]}} (values stay strings)."""
    root: dict[str, Any] = {}
    for key, value in parse_qsl(form, keep_blank_values=True):
        head, _, rest = key.partition("[")
        parts = [head, *rest.rstrip("]").split("][")] if rest else [head]
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    listed: dict[str, Any] = _listed(root)
    return listed


def _listed(node: Any) -> Any:
    """Dicts keyed 0..n-1 become lists, as Stripe reads `line_items[0]`."""
    if not isinstance(node, dict):
        return node
    items = {k: _listed(v) for k, v in node.items()}
    if items and all(k.isdigit() for k in items):
        return [items[k] for k in sorted(items, key=int)]
    return items


def _no_unknown(params: dict[str, Any], known: frozenset[str]) -> None:
    for name in params:
        if name not in known:
            raise ParameterError(f"Received unknown parameter: {name}", code="parameter_unknown", param=name)


def _positive_int(value: Any, param: str) -> int:
    if not isinstance(value, str) or not value.isdigit() or int(value) < 1:
        raise ParameterError("Invalid positive integer", code="parameter_invalid_integer", param=param)
    return int(value)


def _metadata(value: Any) -> dict[str, str]:
    if not isinstance(value, dict) or any(isinstance(v, (dict, list)) for v in value.values()):
        raise ParameterError("Invalid hash", code="parameter_invalid", param="metadata")
    for key, text in value.items():
        if len(key) > 40 or len(text) > 500:
            message = "Metadata keys have at most 40 characters and values at most 500."
            raise ParameterError(message, code="parameter_invalid", param=f"metadata[{key}]")
    return {k: v for k, v in value.items() if v != ""}  # an empty value unsets the key


def _line_item(item: Any, param: str) -> tuple[str, int]:
    """(currency, amount) of one `price_data` line item. Raises ParameterError as Stripe words it."""
    if not isinstance(item, dict):
        raise ParameterError("Invalid object", code="parameter_invalid", param=param)
    _no_unknown(item, frozenset({"price_data", "quantity"}))
    if "quantity" not in item:
        message = f"Missing required param: {param}[quantity]."
        raise ParameterError(message, code="parameter_missing", param=f"{param}[quantity]")
    quantity = _positive_int(item["quantity"], f"{param}[quantity]")
    price = item.get("price_data")
    if not isinstance(price, dict):
        message = f"Missing required param: {param}[price_data]."
        raise ParameterError(message, code="parameter_missing", param=f"{param}[price_data]")
    _no_unknown(price, frozenset({"currency", "unit_amount", "product_data", "product"}))
    for name in ("currency", "unit_amount"):
        if name not in price:
            message = f"Missing required param: {param}[price_data][{name}]."
            raise ParameterError(message, code="parameter_missing", param=f"{param}[price_data][{name}]")
    if not (price.get("product_data") or {}).get("name") and "product" not in price:
        message = f"Missing required param: {param}[price_data][product_data][name]."
        raise ParameterError(message, code="parameter_missing", param=f"{param}[price_data][product_data][name]")
    unit = price["unit_amount"]
    if not isinstance(unit, str) or not unit.isdigit():
        raise ParameterError(
            "Invalid integer", code="parameter_invalid_integer", param=f"{param}[price_data][unit_amount]"
        )
    currency = price["currency"].lower()
    if len(currency) != 3 or not currency.isalpha():
        message = f"Invalid currency: {currency}."
        raise ParameterError(message, code="parameter_invalid", param=f"{param}[price_data][currency]")
    _stripe_amount(int(unit), currency, f"{param}[price_data][unit_amount]")
    return currency, int(unit) * quantity


def _stripe_amount(amount: int, currency: str, param: str) -> None:
    """Stripe's currency rules for an amount: ISK and UGX in whole units (a multiple of 100), the
    three-decimal currencies in multiples of 10. Raises ParameterError `invalid_amount` otherwise."""
    step = {"isk": 100, "ugx": 100, "bhd": 10, "jod": 10, "kwd": 10, "omr": 10, "tnd": 10}.get(currency.lower(), 1)
    if amount % step:
        message = f"Amounts in {currency.upper()} must be divisible by {step}."
        raise ParameterError(message, code="invalid_amount", param=param)


if __name__ == "__main__":
    fake = FakeStripe(port=int(sys.argv[1]))
    fake.api_key = sys.argv[2] if len(sys.argv) > 2 else fake.api_key
    uvicorn.run(fake, host="127.0.0.1", port=fake.port, log_level="error", lifespan="off")
