"""Signed events of an odd shape are answered 200 `rejected`, never 500; a session is this server's
only if its checkout made it (the `kiroshi` marker) for the user it names everywhere."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.client import Account, Client
from tests.support.fake_stripe import FakeStripe, stripe_event
from tests.support.stripe_payments import contracts_of, deliver, paid_session


@pytest.mark.parametrize(
    "spoil",
    [
        {"created": "yesterday"},
        {"created": None},
        {"data": {"object": ["not", "an", "object"]}},
    ],
    ids=["created a string", "created null", "object a list"],
)
def test_a_signed_event_of_the_wrong_shape_is_rejected_not_a_crash(
    client: Client, stripe: FakeStripe, alice: Account, plan: dict[str, Any], spoil: dict[str, Any]
) -> None:
    session_id, _ = paid_session(client, stripe, alice, plan["plan_id"])
    event = stripe.checkout_completed(session_id) | spoil

    answer = deliver(client, event)

    assert (answer.status, answer.json["outcome"]) == (200, "rejected"), answer
    assert contracts_of(client, alice) == []


@pytest.mark.parametrize("metadata", ["user_id=someone", ["a"], 7])
def test_a_session_whose_metadata_is_not_an_object_is_rejected(
    client: Client, stripe: FakeStripe, alice: Account, plan: dict[str, Any], metadata: Any
) -> None:
    session_id, _ = paid_session(client, stripe, alice, plan["plan_id"])
    session = stripe.checkout_completed(session_id)["data"]["object"] | {"metadata": metadata}

    answer = deliver(client, stripe_event("checkout.session.completed", session))

    assert (answer.status, answer.json["outcome"]) == (200, "rejected"), answer


def test_a_session_without_the_kiroshi_marker_buys_nothing(
    client: Client, stripe: FakeStripe, alice: Account, plan: dict[str, Any]
) -> None:
    session_id, _ = paid_session(client, stripe, alice, plan["plan_id"])
    del stripe.sessions[session_id]["metadata"]["kiroshi"]  # a session another integration made

    bought = client.buy(alice.token, plan["plan_id"], session_id)
    event = deliver(client, stripe.checkout_completed(session_id))

    assert (bought.status, bought.json["reason"]) == (402, "not_a_kiroshi_session")
    assert event.json["outcome"] == "rejected"
    assert contracts_of(client, alice) == []


def test_a_session_whose_client_reference_names_another_user_buys_nothing(
    client: Client, stripe: FakeStripe, alice: Account, bob: Account, plan: dict[str, Any]
) -> None:
    session_id, _ = paid_session(client, stripe, alice, plan["plan_id"])
    stripe.sessions[session_id]["client_reference_id"] = bob.user_id

    bought = client.buy(alice.token, plan["plan_id"], session_id)
    event = deliver(client, stripe.checkout_completed(session_id))

    assert (bought.status, bought.json["reason"]) == (402, "user_mismatch")
    assert event.json["outcome"] == "rejected"
    assert contracts_of(client, alice) == contracts_of(client, bob) == []
