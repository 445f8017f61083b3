from __future__ import annotations

import pytest

from tests.support.client import Account, Client
from tests.support.clock import MovableClock


def _chat(client: Client, account: Account, model: str = "gpt-4o-mini") -> str:
    answer = client.post(f"/chats/{account.user_id}", {"model": model}, token=account.token)
    assert answer.status == 201, answer
    return str(answer.json["chat_id"])


def test_creating_a_chat_answers_its_id(client: Client, alice: Account) -> None:
    answer = client.post(f"/chats/{alice.user_id}", {"model": "gpt-4o-mini"}, token=alice.token)

    assert answer.status == 201
    assert set(answer.json) == {"chat_id"}


@pytest.mark.parametrize("body", [{"model": "gpt-2"}, {"model": ""}, {}, {"model": "gpt-4o-mini", "title": "x"}])
def test_unknown_models_and_bad_bodies_are_422(client: Client, alice: Account, body: dict[str, str]) -> None:
    answer = client.post(f"/chats/{alice.user_id}", body, token=alice.token)
    assert answer.status == 422


def test_a_plan_limits_the_models(make_services: object, admin_email: str = "root@example.com") -> None:
    services = make_services(models=("gpt-4o-mini", "small-model"))  # type: ignore[operator]
    client = Client(services)
    admin, user = client.account(admin_email), client.account("u@example.com")
    plan = client.create_plan(admin.token, models=["small-model"])
    client.buy(user.token, plan["plan_id"], "pay_1")

    refused = client.post(f"/chats/{user.user_id}", {"model": "gpt-4o-mini"}, token=user.token)

    assert refused.status == 422
    assert "small-model" in refused.json["errors"]["model"][0]
    assert client.post(f"/chats/{user.user_id}", {"model": "small-model"}, token=user.token).status == 201


def test_chats_list_newest_first_for_self_and_admin(
    client: Client, alice: Account, bob: Account, admin: Account
) -> None:
    ids = [_chat(client, alice) for _ in range(3)]
    _chat(client, bob)

    page = client.get(f"/chats/{alice.user_id}", token=alice.token, query={"limit": "2"}).json
    rest = client.get(
        f"/chats/{alice.user_id}", token=admin.token, query={"limit": "2", "cursor": page["next_cursor"]}
    ).json

    assert [c["chat_id"] for c in page["chats"] + rest["chats"]] == ids[::-1]
    assert set(page["chats"][0]) == {"chat_id", "model", "title", "created_at", "updated_at", "message_count"}
    assert rest["next_cursor"] is None
    assert client.get(f"/chats/{alice.user_id}", token=bob.token).status == 403


def test_a_chat_reads_renames_and_deletes(client: Client, alice: Account) -> None:
    chat_id = _chat(client, alice)
    path = f"/chats/{alice.user_id}/{chat_id}"

    fresh = client.get(path, token=alice.token).json
    renamed = client.patch(path, {"title": "  Trip plans "}, token=alice.token)
    deleted = client.delete(path, token=alice.token)

    assert (fresh["chat_id"], fresh["model"], fresh["title"], fresh["messages"]) == (chat_id, "gpt-4o-mini", "", [])
    assert renamed.status == 200
    assert renamed.json["chat"]["title"] == "Trip plans"
    assert deleted.status == 200
    assert client.get(path, token=alice.token).status == 404


def test_another_users_chat_is_never_reachable(client: Client, alice: Account, bob: Account, admin: Account) -> None:
    chat_id = _chat(client, alice)

    assert client.get(f"/chats/{alice.user_id}/{chat_id}", token=bob.token).status == 403
    assert client.get(f"/chats/{bob.user_id}/{chat_id}", token=bob.token).status == 404  # own path, foreign chat
    assert client.delete(f"/chats/{bob.user_id}/{chat_id}", token=bob.token).status == 404
    assert client.post(f"/chats/{bob.user_id}/{chat_id}/ticket", token=bob.token).status == 404
    assert client.patch(f"/chats/{alice.user_id}/{chat_id}", {"title": "x"}, token=admin.token).status == 403
    assert client.get(f"/chats/{alice.user_id}/{chat_id}", token=admin.token).status == 200


def test_tickets_are_short_lived_and_single_use(client: Client, alice: Account) -> None:
    from lib.chats.access import socket_principal
    from lib.errors import Unauthorized

    chat_id = _chat(client, alice)
    answer = client.post(f"/chats/{alice.user_id}/{chat_id}/ticket", token=alice.token)

    assert answer.status == 200
    assert answer.json["expires_in"] <= 60
    ticket = answer.json["ticket"]
    assert socket_principal(client.services, ticket, alice.user_id, chat_id).user_id == alice.user_id
    with pytest.raises(Unauthorized):
        socket_principal(client.services, ticket, alice.user_id, chat_id)


def test_a_ticket_dies_with_the_token_that_asked_for_it(client: Client, alice: Account) -> None:
    from lib.chats.access import socket_principal
    from lib.errors import Unauthorized

    chat_id = _chat(client, alice)
    ticket = client.post(f"/chats/{alice.user_id}/{chat_id}/ticket", token=alice.token).json["ticket"]
    client.post(f"/users/{alice.user_id}/logout", token=alice.token)

    with pytest.raises(Unauthorized):
        socket_principal(client.services, ticket, alice.user_id, chat_id)


def test_a_ticket_dies_when_the_token_that_asked_for_it_expires(
    client: Client, alice: Account, clock: MovableClock
) -> None:
    from lib.chats.access import socket_principal
    from lib.errors import Unauthorized

    chat_id = _chat(client, alice)
    clock.advance(client.services.tokens.ttl_seconds - 10)  # the token has 10 s left, the ticket gets 60
    ticket = client.post(f"/chats/{alice.user_id}/{chat_id}/ticket", token=alice.token).json["ticket"]
    clock.advance(20)

    with pytest.raises(Unauthorized) as refused:
        socket_principal(client.services, ticket, alice.user_id, chat_id)
    assert refused.value.code == "token_expired"


def test_the_session_over_plain_http_is_426(client: Client, alice: Account) -> None:
    chat_id = _chat(client, alice)
    answer = client.get(f"/chats/{alice.user_id}/{chat_id}/session", token=alice.token)

    assert answer.status == 426
    assert answer.json["code"] == "websocket_required"
