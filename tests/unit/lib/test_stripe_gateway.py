"""The Stripe gateway against the fake Stripe (tests/support/fake_stripe.py): what Stripe was sent,
and what Kiroshi makes of its answers."""

from __future__ import annotations

import datetime as dt
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest

from lib.billing.plans_repository import Plan
from lib.billing.stripe_gateway import StripeGateway, StripeRefund, paid_terms
from lib.errors import ApiError, BadGateway, BadRequest, PaymentRejected, ServiceUnavailable
from tests.support.fake_stripe import FakeStripe, Received, signed_webhook

SECRET = "whsec_test_" + "k" * 32
NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
PRO = Plan("plan1", "Pro", "", 999, "USD", 30, None, None, "active", NOW, NOW)
OTHER = replace(PRO, plan_id="plan2", title="Team")


@pytest.fixture
def fake(stripe: FakeStripe) -> FakeStripe:
    return stripe


def gateway_for(fake: FakeStripe, *, retries: int = 0, timeout: float = 5.0, key: str | None = None) -> StripeGateway:
    api_key = fake.api_key if key is None else key
    return StripeGateway(api_key, SECRET, api_base=fake.base_url, timeout_seconds=timeout, max_network_retries=retries)


@pytest.fixture
def gateway(fake: FakeStripe) -> StripeGateway:
    return gateway_for(fake)


def checkout(gateway: StripeGateway, plan: Plan = PRO, user_id: str = "user1") -> str:
    session_id, _ = gateway.create_checkout(
        plan, user_id, "https://app.test/ok?s={CHECKOUT_SESSION_ID}", "https://app.test/no"
    )
    return session_id


def problem(exc: ApiError) -> dict[str, object]:
    return exc.problem()


def test_checkout_sends_one_line_item_priced_from_the_plan(fake: FakeStripe, gateway: StripeGateway) -> None:
    session_id, url = gateway.create_checkout(PRO, "user1", "https://app.test/ok", "https://app.test/no")

    assert session_id.startswith("cs_test_") and url == f"https://checkout.stripe.com/c/pay/{session_id}"
    [sent] = fake.requests
    assert (sent.method, sent.path) == ("POST", "/v1/checkout/sessions")
    assert sent.params == {
        "mode": "payment",
        "line_items": [
            {"price_data": {"currency": "usd", "unit_amount": "999", "product_data": {"name": "Pro"}}, "quantity": "1"}
        ],
        "success_url": "https://app.test/ok",
        "cancel_url": "https://app.test/no",
        "client_reference_id": "user1",
        "metadata": {
            "kiroshi": "1",
            "user_id": "user1",
            "plan_id": "plan1",
            "price_minor": "999",
            "currency": "USD",
            "duration_days": "30",
        },
    }
    assert sent.idempotency_key  # the package gives every POST one, kept across its retries
    session = fake.sessions[session_id]
    assert (session["payment_status"], session["payment_intent"], session["amount_total"]) == ("unpaid", None, 999)


def test_a_paid_session_proves_the_payment_and_names_its_payment_intent(
    fake: FakeStripe, gateway: StripeGateway
) -> None:
    session_id = checkout(gateway)
    intent = fake.pay(session_id)

    assert gateway.verify_paid(session_id, "plan1", "user1").payment_intent_id == intent
    assert fake.requests[-1] == Received(
        "GET",
        f"/v1/checkout/sessions/{session_id}",
        {"expand": ["payment_intent.latest_charge"]},
        None,
        fake.requests[-1].stripe_version,
    )


def test_a_zero_decimal_currency_is_sent_in_its_own_units(fake: FakeStripe, gateway: StripeGateway) -> None:
    yen = replace(PRO, price_minor=1200, currency="JPY")
    session_id = checkout(gateway, yen)
    fake.pay(session_id)

    assert fake.requests[0].params["line_items"][0]["price_data"] == {
        "currency": "jpy",
        "unit_amount": "1200",
        "product_data": {"name": "Pro"},
    }
    assert str(gateway.verify_paid(session_id, "plan1", "user1").payment_intent_id).startswith("pi_")


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("unpaid", "session_unpaid"),
        ("paid less", "amount_mismatch"),
        ("paid in euros", "currency_mismatch"),
        ("another user", "user_mismatch"),
        ("another plan", "plan_mismatch"),
        ("invented id", "session_not_found"),
    ],
)
def test_a_session_that_does_not_prove_the_payment_is_rejected_with_its_reason(
    fake: FakeStripe, gateway: StripeGateway, case: str, reason: str
) -> None:
    session_id, plan, user_id = checkout(gateway), PRO, "user1"
    if case == "paid less":
        fake.pay(session_id, amount_total=499)
    elif case == "paid in euros":
        fake.pay(session_id, currency="EUR")
    elif case != "unpaid":
        fake.pay(session_id)
    if case == "another user":
        user_id = "user2"
    elif case == "another plan":
        plan = OTHER
    elif case == "invented id":
        session_id = "cs_test_invented"

    with pytest.raises(PaymentRejected) as caught:
        gateway.verify_paid(session_id, plan.plan_id, user_id)

    body = problem(caught.value)
    assert (body["status"], body["code"], body["reason"]) == (402, "payment_rejected", reason)
    assert fake.requests[-1].path == f"/v1/checkout/sessions/{session_id}"


@pytest.mark.parametrize("session_id", ["", "../refunds", "cs test", "x" * 300])
def test_an_id_that_cannot_be_a_session_is_rejected_without_asking_stripe(
    fake: FakeStripe, gateway: StripeGateway, session_id: str
) -> None:
    with pytest.raises(PaymentRejected) as caught:
        gateway.verify_paid(session_id, "plan1", "user1")

    assert problem(caught.value)["reason"] == "session_not_found"
    assert fake.requests == []


def test_stripe_failing_is_503_payments_unavailable(fake: FakeStripe, gateway: StripeGateway) -> None:
    session_id = checkout(gateway)
    fake.pay(session_id)
    fake.fail(1, status=500)

    with pytest.raises(ServiceUnavailable) as caught:
        gateway.verify_paid(session_id, "plan1", "user1")

    assert (caught.value.status, caught.value.code) == (503, "payments_unavailable")
    fake.fail(1, status=503)
    with pytest.raises(ServiceUnavailable):
        checkout(gateway)
    assert len(fake.sessions) == 1


def test_the_package_retries_a_5xx_when_asked(fake: FakeStripe) -> None:
    gateway = gateway_for(fake, retries=1)
    session_id = checkout(gateway)
    intent = fake.pay(session_id)
    fake.fail(1)

    assert gateway.verify_paid(session_id, "plan1", "user1").payment_intent_id == intent
    assert [r.method for r in fake.requests] == ["POST", "GET", "GET"]


def test_a_stripe_that_does_not_answer_in_time_is_503_quickly(fake: FakeStripe) -> None:
    gateway = gateway_for(fake, timeout=0.2)
    fake.delay_seconds = 1.0
    started = time.monotonic()

    with pytest.raises(ServiceUnavailable) as caught:
        checkout(gateway)

    assert caught.value.code == "payments_unavailable"
    assert time.monotonic() - started < 1.5


def test_an_unreachable_stripe_is_503(fake: FakeStripe) -> None:
    gateway = StripeGateway("sk_test_x", SECRET, api_base="http://127.0.0.1:9", max_network_retries=0)

    with pytest.raises(ServiceUnavailable):
        gateway.verify_paid("cs_test_x", "plan1", "user1")


def test_a_refused_api_key_is_502_and_never_logged(fake: FakeStripe, caplog: pytest.LogCaptureFixture) -> None:
    gateway = gateway_for(fake, key="sk_test_wrong_key_0123456789")

    with caplog.at_level(logging.DEBUG), pytest.raises(BadGateway) as caught:
        checkout(gateway)

    assert (caught.value.status, caught.value.code) == (502, "payments_failed")
    assert "AuthenticationError" in caplog.text  # logged once, by the gateway
    assert "wrong_key" not in caplog.text and "6789" not in caplog.text  # not even masked, as Stripe echoes it
    assert fake.sessions == {}


def refund(gateway: StripeGateway, intent: str, amount: int, currency: str = "USD") -> str:
    made: StripeRefund = gateway.refund(intent, amount, currency, "contract1", idempotency_key="refund-contract1")
    return made.refund_id


def paid_intent_of(fake: FakeStripe, gateway: StripeGateway) -> str:
    session_id = checkout(gateway)
    return fake.pay(session_id)


def test_a_refund_reaches_stripe_with_the_amount_and_the_contracts_key(
    fake: FakeStripe, gateway: StripeGateway
) -> None:
    intent = paid_intent_of(fake, gateway)

    refund_id = refund(gateway, intent, 300)

    [sent] = fake.refund_requests()
    assert sent.idempotency_key == "refund-contract1"
    assert sent.params == {
        "payment_intent": intent,
        "amount": "300",
        "reason": "requested_by_customer",
        "metadata": {"contract_id": "contract1"},
    }
    assert [(r["id"], r["amount"], r["payment_intent"], r["currency"]) for r in fake.refunds] == [
        (refund_id, 300, intent, "usd")
    ]


def test_fifty_concurrent_refunds_of_one_contract_refund_once(fake: FakeStripe) -> None:
    gateway = gateway_for(fake, retries=2)  # a key still executing is 409 at Stripe: the package retries
    intent = paid_intent_of(fake, gateway)
    fake.delay_seconds = 0.05

    with ThreadPoolExecutor(max_workers=50) as pool:
        ids = list(pool.map(lambda _: refund(gateway, intent, 300), range(50)))

    assert len(set(ids)) == 1
    assert [(r["id"], r["amount"]) for r in fake.refunds] == [(ids[0], 300)]
    sent = fake.refund_requests()
    assert len(sent) >= 50 and {r.idempotency_key for r in sent} == {"refund-contract1"}
    assert fake.payment_intents[intent]["amount_refunded"] == 300


def test_a_refund_replayed_later_is_the_same_refund_and_other_arguments_are_refused(
    fake: FakeStripe, gateway: StripeGateway
) -> None:
    intent = paid_intent_of(fake, gateway)
    first = refund(gateway, intent, 300)

    assert refund(gateway, intent, 300) == first
    with pytest.raises(BadGateway) as caught:
        refund(gateway, intent, 250)  # same key, other parameters: Stripe's idempotency_error

    assert (caught.value.status, caught.value.code) == (502, "refund_rejected")
    assert [r["amount"] for r in fake.refunds] == [300]


def test_a_refund_during_an_outage_refunds_nothing_then_once(fake: FakeStripe, gateway: StripeGateway) -> None:
    intent = paid_intent_of(fake, gateway)
    fake.fail(1, status=502)

    with pytest.raises(ServiceUnavailable):
        refund(gateway, intent, 300)
    assert fake.refunds == []

    refund(gateway, intent, 300)
    assert [r["amount"] for r in fake.refunds] == [300]


def test_refunding_what_was_refunded_in_the_dashboard_is_refused(fake: FakeStripe, gateway: StripeGateway) -> None:
    intent = paid_intent_of(fake, gateway)
    fake.refund_outside(intent)

    with pytest.raises(BadGateway) as caught:
        refund(gateway, intent, 300)

    assert caught.value.code == "refund_rejected"
    assert len(fake.refunds) == 1


def test_a_refund_of_nothing_is_a_programming_error(gateway: StripeGateway) -> None:
    with pytest.raises(ValueError, match="at least one minor unit"):
        refund(gateway, "pi_x", 0)


def test_a_signed_checkout_completed_event_is_parsed_and_proves_the_payment(
    fake: FakeStripe, gateway: StripeGateway
) -> None:
    session_id = checkout(gateway)
    intent = fake.pay(session_id)
    event = fake.checkout_completed(session_id)
    body, signature = signed_webhook(event, SECRET)

    parsed = gateway.parse_webhook(body, signature)

    assert (parsed.event_id, parsed.type) == (event["id"], "checkout.session.completed")
    assert parsed.object["id"] == session_id
    assert paid_terms(parsed.object, "plan1", "user1").payment_intent_id == intent


def test_refund_and_dispute_events_name_the_payment_intent(fake: FakeStripe, gateway: StripeGateway) -> None:
    intent = paid_intent_of(fake, gateway)
    fake.refund_outside(intent, 500)

    refunded = gateway.parse_webhook(*signed_webhook(fake.charge_refunded(intent), SECRET))
    disputed = gateway.parse_webhook(*signed_webhook(fake.dispute_created(intent), SECRET))

    assert (refunded.type, refunded.object["payment_intent"], refunded.object["amount_refunded"]) == (
        "charge.refunded",
        intent,
        500,
    )
    assert (disputed.type, disputed.object["payment_intent"]) == ("charge.dispute.created", intent)


@pytest.mark.parametrize("case", ["wrong secret", "tampered body", "stale", "no header", "garbage header", "not json"])
def test_a_webhook_whose_signature_does_not_verify_is_400(fake: FakeStripe, gateway: StripeGateway, case: str) -> None:
    event = fake.checkout_completed(checkout(gateway))
    body, signature = signed_webhook(event, "whsec_someone_else" if case == "wrong secret" else SECRET)
    if case == "tampered body":
        body = body.replace(b'"unpaid"', b'"paid"')
    elif case == "stale":
        body, signature = signed_webhook(event, SECRET, timestamp=int(time.time()) - 301)
    elif case == "no header":
        signature = ""
    elif case == "garbage header":
        signature = "v1=deadbeef"
    elif case == "not json":
        body, signature = b"\xff\xfe not json", signed_webhook(event, SECRET)[1]

    with pytest.raises(BadRequest) as caught:
        gateway.parse_webhook(body, signature)

    assert (caught.value.status, caught.value.code) == (400, "webhook_signature_invalid")


def test_a_signature_within_five_minutes_is_accepted(fake: FakeStripe, gateway: StripeGateway) -> None:
    event = fake.checkout_completed(checkout(gateway))

    parsed = gateway.parse_webhook(*signed_webhook(event, SECRET, timestamp=int(time.time()) - 250))

    assert parsed.event_id == event["id"]


def test_a_refund_whose_key_is_still_executing_is_503_so_the_client_retries(fake: FakeStripe) -> None:
    gateway = gateway_for(fake, retries=0)  # no retries of its own: Stripe's 409 reaches the gateway
    intent = paid_intent_of(fake, gateway)
    fake.delay_seconds = 0.3

    def attempt(_: int) -> str:
        try:
            return refund(gateway, intent, 300)
        except ServiceUnavailable as exc:
            return exc.code

    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = list(pool.map(attempt, range(4)))

    assert sorted(o.startswith("re_") for o in outcomes) == [False, False, False, True]
    assert {o for o in outcomes if not o.startswith("re_")} == {"payments_unavailable"}  # 503, not 502
    assert len(fake.refunds) == 1


def test_refunds_made_for_a_contract_are_found_at_stripe_in_its_units(fake: FakeStripe, gateway: StripeGateway) -> None:
    krona = replace(PRO, price_minor=500, currency="ISK")
    session_id = checkout(gateway, krona)
    intent = fake.pay(session_id)
    gateway.refund(intent, 120, "ISK", "contract1", idempotency_key="refund-contract1")
    fake.refund_outside(intent, 5000, metadata={"contract_id": "contract2"})
    fake.refund_outside(intent, 10000)  # the dashboard's, for no contract

    assert gateway.contract_refunds(intent, "contract1", "ISK") == 120
    assert gateway.contract_refunds(intent, "contract3", "ISK") == 0
    listed = [r for r in fake.requests if (r.method, r.path) == ("GET", "/v1/refunds")]
    assert listed[0].params == {"payment_intent": intent, "limit": "100"}
    assert [r["amount"] for r in fake.refunds] == [12000, 5000, 10000]


def test_a_kwd_amount_off_stripes_step_is_never_sent(fake: FakeStripe, gateway: StripeGateway) -> None:
    with pytest.raises(ValueError, match="multiples of 10"):
        checkout(gateway, replace(PRO, price_minor=1234, currency="KWD"))

    assert fake.requests == []
