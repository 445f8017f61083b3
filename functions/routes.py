"""THE route table: every endpoint once. The local runner, main.py, serverless.yml, the OpenAPI
document and the auth-matrix tests all derive from it. Schemas are named, not imported, so that a
function deployed alone loads only its own (cold starts)."""

from __future__ import annotations

from lib.auth.policies import Auth
from lib.http.routing import Route, Router

__all__ = ["ROUTES", "router"]

A = Auth
PAGE = "http.pagination:PageQuery"

# Schemas are named "module:Class": a module of lib/schemas/, or a dotted module under lib/.
ROUTES: tuple[Route, ...] = (
    # users and authentication
    Route(
        "users.register",
        "POST",
        "/users/register",
        A.PUBLIC,
        "users:RegisterIn",
        "users:RegisterOut",
        status=201,
        offload=True,
        errors=(409, 422, 429),
    ),
    Route(
        "users.login",
        "POST",
        "/users/login",
        A.PUBLIC,
        "users:LoginIn",
        "users:LoginOut",
        offload=True,
        errors=(401, 429),
    ),
    Route("users.logout", "POST", "/users/{user_id}/logout", A.SELF, out="base:Message"),
    Route("users.me", "GET", "/auth", A.USER, out="users:ProfileOut"),
    Route("users.list", "GET", "/users", A.ADMIN, out="users:UsersPageOut", query=PAGE),
    Route("users.get", "GET", "/users/{user_id}", A.SELF_OR_ADMIN, out="users:ProfileOut", errors=(404,)),
    Route(
        "users.change_nickname",
        "POST",
        "/users/{user_id}/change-nickname",
        A.SELF_OR_ADMIN,
        "users:ChangeNicknameIn",
        "users:ChangeNicknameOut",
        errors=(404,),
    ),
    Route(
        "users.change_name",
        "POST",
        "/users/{user_id}/change-name",
        A.SELF_OR_ADMIN,
        "users:ChangeNameIn",
        "users:ChangeNameOut",
        errors=(404,),
    ),
    Route(
        "users.change_surname",
        "POST",
        "/users/{user_id}/change-surname",
        A.SELF_OR_ADMIN,
        "users:ChangeSurnameIn",
        "users:ChangeSurnameOut",
        errors=(404,),
    ),
    Route(
        "users.change_email",
        "POST",
        "/users/{user_id}/change-email",
        A.SELF_OR_ADMIN,
        "users:ChangeEmailIn",
        "users:ChangeEmailOut",
        offload=True,
        errors=(404, 409),
    ),
    Route(
        "users.change_password",
        "POST",
        "/users/{user_id}/change-password",
        A.SELF_OR_ADMIN,
        "users:ChangePasswordIn",
        "base:Message",
        offload=True,
        errors=(404,),
    ),
    Route("users.delete", "DELETE", "/users/{user_id}", A.SELF_OR_ADMIN, out="base:Message", errors=(404,)),
    # plans
    Route("plans.list", "GET", "/subscriptions/plans", A.USER, out="subscriptions:PlansPageOut", query=PAGE),
    Route("plans.get", "GET", "/subscriptions/plans/{plan_id}", A.USER, out="subscriptions:PlanOut", errors=(404,)),
    Route(
        "plans.create",
        "POST",
        "/subscriptions/plans",
        A.ADMIN,
        "subscriptions:PlanIn",
        "subscriptions:PlanReplyOut",
        status=201,
    ),
    Route(
        "plans.update",
        "PATCH",
        "/subscriptions/plans/{plan_id}",
        A.ADMIN,
        "subscriptions:PlanPatchIn",
        "subscriptions:PlanReplyOut",
        errors=(404,),
    ),
    Route(
        "plans.delete",
        "DELETE",
        "/subscriptions/plans/{plan_id}",
        A.ADMIN,
        out="subscriptions:PlanReplyOut",
        errors=(404,),
    ),
    # subscribers (ownership depends on data: checked in the handlers)
    Route(
        "subscribers.list",
        "GET",
        "/subscriptions/subscribers",
        A.USER,
        out="subscriptions:SubscribersPageOut",
        query=PAGE,
    ),
    Route(
        "subscribers.get",
        "GET",
        "/subscriptions/subscribers/{subscriber_id}",
        A.USER,
        out="subscriptions:SubscriberOut",
        errors=(403, 404),
    ),
    Route(
        "subscribers.create",
        "POST",
        "/subscriptions/subscribers",
        A.USER,
        "subscriptions:SubscriberIn",
        "subscriptions:SubscriberReplyOut",
        status=201,
        errors=(403, 404, 409),
    ),
    Route(
        "subscribers.update",
        "PATCH",
        "/subscriptions/subscribers/{subscriber_id}",
        A.USER,
        "subscriptions:SubscriberPatchIn",
        "subscriptions:SubscriberReplyOut",
        errors=(403, 404),
    ),
    Route(
        "subscribers.delete",
        "DELETE",
        "/subscriptions/subscribers/{subscriber_id}",
        A.USER,
        out="subscriptions:SubscriberReplyOut",
        errors=(403, 404, 409),
    ),
    # purchases, refunds and contracts
    Route(
        "subscriptions.buy",
        "POST",
        "/subscriptions/buy",
        A.USER,
        "subscriptions:BuyIn",
        "subscriptions:BuyOut",
        status=201,
        also=(200,),
        errors=(402, 404, 409),
    ),
    Route(
        "subscriptions.refund",
        "POST",
        "/subscriptions/refund",
        A.USER,
        "subscriptions:RefundIn",
        "subscriptions:RefundOut",
        errors=(403, 404, 409),
    ),
    Route(
        "subscriptions.contracts",
        "GET",
        "/subscriptions/contracts",
        A.USER,
        out="subscriptions:ContractsPageOut",
        query=PAGE,
    ),
    Route(
        "subscriptions.contract",
        "GET",
        "/subscriptions/contracts/{contract_id}",
        A.USER,
        out="subscriptions:ContractOut",
        errors=(403, 404),
    ),
    # chats
    Route(
        "chats.create",
        "POST",
        "/chats/{user_id}",
        A.SELF,
        "chats:ChatIn",
        "chats:ChatCreatedOut",
        status=201,
        errors=(422,),
    ),
    Route("chats.list", "GET", "/chats/{user_id}", A.SELF_OR_ADMIN, out="chats:ChatsPageOut", query=PAGE),
    Route("chats.get", "GET", "/chats/{user_id}/{chat_id}", A.SELF_OR_ADMIN, out="chats:ChatOut", errors=(404,)),
    Route(
        "chats.rename",
        "PATCH",
        "/chats/{user_id}/{chat_id}",
        A.SELF,
        "chats:RenameIn",
        "chats:ChatReplyOut",
        errors=(404,),
    ),
    Route("chats.delete", "DELETE", "/chats/{user_id}/{chat_id}", A.SELF_OR_ADMIN, out="base:Message", errors=(404,)),
    Route("chats.ticket", "POST", "/chats/{user_id}/{chat_id}/ticket", A.SELF, out="chats:TicketOut", errors=(404,)),
    Route("chats.session", "GET", "/chats/{user_id}/{chat_id}/session", A.SELF, errors=(404, 426, 429), websocket=True),
    # OpenAI-compatible
    Route(
        "compat.chat_completions",
        "POST",
        "/v1/chat/completions",
        A.USER,
        "compat:CompletionIn",
        errors=(422, 429, 502),
        asynchronous=True,
    ),
    Route("compat.models", "GET", "/v1/models", A.USER),
    # health and documentation
    Route("health.healthy", "GET", "/healthy", A.PUBLIC),
    Route("health.ready", "GET", "/ready", A.PUBLIC, errors=(503,)),
    Route("health.metrics", "GET", "/metrics", A.PUBLIC),
    Route("meta.openapi", "GET", "/openapi.json", A.PUBLIC),
    Route("meta.docs", "GET", "/docs", A.PUBLIC),
    Route("meta.docs_asset", "GET", "/docs/{asset}", A.PUBLIC, errors=(404,)),
)


router = Router(ROUTES)
