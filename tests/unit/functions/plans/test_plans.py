from __future__ import annotations

import pytest

from tests.support.client import Account, Client


def test_an_admin_creates_a_plan_with_an_exact_price(client: Client, admin: Account) -> None:
    answer = client.post(
        "/subscriptions/plans", {"price": 9.99, "duration": 30, "title": "Pro", "description": "Yes"}, token=admin.token
    )

    assert answer.status == 201
    assert answer.json["message"] == "Plan created"
    plan = answer.json["plan"]
    assert (plan["price"], plan["currency"], plan["duration"], plan["status"]) == (9.99, "USD", 30, "active")
    assert b'"price":9.99' in answer.body
    assert plan["models"] is None and plan["token_quota"] is None
    assert client.services.db.one("SELECT VALUE price_minor FROM plan") == [999]


def test_plans_may_carry_entitlements_and_other_currencies(client: Client, admin: Account) -> None:
    plan = client.create_plan(admin.token, price=1200, currency="jpy", models=["gpt-4o-mini"], token_quota=50_000)

    assert (plan["price"], plan["currency"], plan["models"], plan["token_quota"]) == (
        1200,
        "JPY",
        ["gpt-4o-mini"],
        50_000,
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"price": 9.999}, "price"),
        ({"price": "9.99"}, "price"),
        ({"price": -1}, "price"),
        ({"price": True}, "price"),
        ({"price": 1.5, "currency": "JPY"}, "price"),
        ({"currency": "XYZ"}, "currency"),
        ({"duration": 0}, "duration"),
        ({"duration": 1.5}, "duration"),
        ({"duration": "30"}, "duration"),
        ({"title": ""}, "title"),
        ({"title": "x" * 121}, "title"),
        ({"description": "x" * 2001}, "description"),
        ({"models": ["not-a-configured-model"]}, "models"),
        ({"token_quota": -5}, "token_quota"),
        ({"status": "archived"}, "status"),
        ({"plan_id": "mine"}, "plan_id"),
    ],
)
def test_invalid_plans_are_422_naming_the_field(
    client: Client, admin: Account, body: dict[str, object], field: str
) -> None:
    full = {"price": 9.99, "duration": 30, "title": "Pro", "description": "d"} | body
    answer = client.post("/subscriptions/plans", full, token=admin.token)

    assert answer.status == 422, answer
    assert field in answer.json["errors"]


def test_only_admins_write_plans(client: Client, alice: Account, admin: Account) -> None:
    plan = client.create_plan(admin.token)
    body = {"price": 1, "duration": 1, "title": "t", "description": "d"}

    assert client.post("/subscriptions/plans", body, token=alice.token).status == 403
    assert client.patch(f"/subscriptions/plans/{plan['plan_id']}", {"title": "x"}, token=alice.token).status == 403
    assert client.delete(f"/subscriptions/plans/{plan['plan_id']}", token=alice.token).status == 403
    assert client.get(f"/subscriptions/plans/{plan['plan_id']}", token=alice.token).json == plan


def test_patch_changes_any_subset(client: Client, admin: Account) -> None:
    plan = client.create_plan(admin.token)

    answer = client.patch(
        f"/subscriptions/plans/{plan['plan_id']}", {"price": 19.9, "title": "Pro+"}, token=admin.token
    )

    assert answer.status == 200
    assert answer.json["message"] == "Plan updated"
    updated = answer.json["plan"]
    assert (updated["price"], updated["title"], updated["duration"]) == (19.9, "Pro+", 30)
    assert client.patch(f"/subscriptions/plans/{plan['plan_id']}", {}, token=admin.token).status == 422
    assert client.patch("/subscriptions/plans/nope", {"title": "x"}, token=admin.token).status == 404
    changed = client.patch(f"/subscriptions/plans/{plan['plan_id']}", {"currency": "EUR"}, token=admin.token)
    assert changed.status == 422
    assert "price" in changed.json["errors"]


def test_users_see_plans_on_sale_and_admins_see_archived_ones(client: Client, alice: Account, admin: Account) -> None:
    sold = client.create_plan(admin.token, title="Sold")
    kept = client.create_plan(admin.token, title="Kept")
    assert client.buy(alice.token, sold["plan_id"], "tx-1").status == 201
    archived = client.delete(f"/subscriptions/plans/{sold['plan_id']}", token=admin.token)

    assert archived.json["message"] == "Plan archived"
    assert archived.json["plan"]["status"] == "archived"
    user_view = client.get("/subscriptions/plans", token=alice.token).json
    admin_view = client.get("/subscriptions/plans", token=admin.token).json
    assert [p["plan_id"] for p in user_view["plans"]] == [kept["plan_id"]]
    assert {p["plan_id"] for p in admin_view["plans"]} == {sold["plan_id"], kept["plan_id"]}
    assert user_view["next_cursor"] is None


def test_a_plan_without_live_contracts_is_deleted(client: Client, admin: Account) -> None:
    plan = client.create_plan(admin.token)

    answer = client.delete(f"/subscriptions/plans/{plan['plan_id']}", token=admin.token)

    assert answer.json["message"] == "Plan deleted"
    assert client.get(f"/subscriptions/plans/{plan['plan_id']}", token=admin.token).status == 404
    assert client.delete(f"/subscriptions/plans/{plan['plan_id']}", token=admin.token).status == 404


def test_plans_page_in_order(client: Client, admin: Account) -> None:
    ids = [client.create_plan(admin.token, title=f"P{i}")["plan_id"] for i in range(5)]
    seen, cursor = [], None
    while True:
        page = client.get(
            "/subscriptions/plans", token=admin.token, query={"limit": "2"} | ({"cursor": cursor} if cursor else {})
        ).json
        seen += [p["plan_id"] for p in page["plans"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ids
