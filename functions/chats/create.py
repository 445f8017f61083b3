"""POST /chats/{user_id} — self. `{"model"}` → `{"chat_id"}`; a model that is not configured or not
in the caller's plan is 422."""

from __future__ import annotations

from lib.billing.entitlements import entitlements_for
from lib.chats import repository as chats
from lib.errors import UnprocessableContent
from lib.http.dispatch import Call


def handler(call: Call) -> chats.Chat:
    model = call.body["model"]
    rights = entitlements_for(call.services, call.caller.user_id)
    if not rights.allows(model):
        allowed = ", ".join(rights.models) or "none"
        raise UnprocessableContent(
            "invalid fields: model", errors={"model": [f"not available to you; choose one of: {allowed}"]}
        )
    return chats.create_chat(call.services.db, call.caller.user_id, model, call.services.now())
