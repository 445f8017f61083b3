"""THE route table: every endpoint once. The local runner, main.py, lambda_handlers.py,
serverless.yml, the OpenAPI document and the auth-matrix tests all derive from it; the files are
generated (`make generated`) and tests fail when they drift. Schemas are named, not imported, and
handlers imported on first use, so that a function deployed alone loads only its own (cold starts).
Whether a handler is `async def` is read from the handler, never declared here."""

from __future__ import annotations

from lib.auth.policies import Auth
from lib.http.routing import Route, Router

__all__ = ["ROUTES", "router"]

A = Auth
PAGE = "http.pagination:PageQuery"

# Schemas are named "module:Class", the module under lib/: an area's schemas, or lib/http's shared ones.
ROUTES: tuple[Route, ...] = (
    # users and authentication
    Route(
        "users.register",
        "POST",
        "/users/register",
        A.PUBLIC,
        "accounts.schemas:RegisterIn",
        "accounts.schemas:RegisterOut",
        status=201,
        offload=True,
        errors=(409, 422, 429),
    ),
    Route(
        "users.login",
        "POST",
        "/users/login",
        A.PUBLIC,
        "accounts.schemas:LoginIn",
        "accounts.schemas:LoginOut",
        offload=True,
        errors=(401, 429),
    ),
    Route("users.logout", "POST", "/users/{user_id}/logout", A.SELF, out="http.schemas:Message"),
    Route("users.me", "GET", "/auth", A.USER, out="accounts.schemas:ProfileOut"),
    Route("users.list", "GET", "/users", A.ADMIN, out="accounts.schemas:UsersPageOut", query=PAGE),
    Route("users.get", "GET", "/users/{user_id}", A.SELF_OR_ADMIN, out="accounts.schemas:ProfileOut", errors=(404,)),
    Route(
        "users.change_nickname",
        "POST",
        "/users/{user_id}/change-nickname",
        A.SELF_OR_ADMIN,
        "accounts.schemas:ChangeNicknameIn",
        "accounts.schemas:ChangeNicknameOut",
        errors=(404,),
    ),
    Route(
        "users.change_name",
        "POST",
        "/users/{user_id}/change-name",
        A.SELF_OR_ADMIN,
        "accounts.schemas:ChangeNameIn",
        "accounts.schemas:ChangeNameOut",
        errors=(404,),
    ),
    Route(
        "users.change_surname",
        "POST",
        "/users/{user_id}/change-surname",
        A.SELF_OR_ADMIN,
        "accounts.schemas:ChangeSurnameIn",
        "accounts.schemas:ChangeSurnameOut",
        errors=(404,),
    ),
    Route(
        "users.change_email",
        "POST",
        "/users/{user_id}/change-email",
        A.SELF_OR_ADMIN,
        "accounts.schemas:ChangeEmailIn",
        "accounts.schemas:ChangeEmailOut",
        offload=True,
        errors=(404, 409),
    ),
    Route(
        "users.change_password",
        "POST",
        "/users/{user_id}/change-password",
        A.SELF_OR_ADMIN,
        "accounts.schemas:ChangePasswordIn",
        "http.schemas:Message",
        offload=True,
        errors=(404,),
    ),
    Route("users.delete", "DELETE", "/users/{user_id}", A.SELF_OR_ADMIN, out="http.schemas:Message", errors=(404,)),
    # plans
    Route("plans.list", "GET", "/subscriptions/plans", A.USER, out="billing.schemas:PlansPageOut", query=PAGE),
    Route("plans.get", "GET", "/subscriptions/plans/{plan_id}", A.USER, out="billing.schemas:PlanOut", errors=(404,)),
    Route(
        "plans.create",
        "POST",
        "/subscriptions/plans",
        A.ADMIN,
        "billing.schemas:PlanIn",
        "billing.schemas:PlanReplyOut",
        status=201,
    ),
    Route(
        "plans.update",
        "PATCH",
        "/subscriptions/plans/{plan_id}",
        A.ADMIN,
        "billing.schemas:PlanPatchIn",
        "billing.schemas:PlanReplyOut",
        errors=(404,),
    ),
    Route(
        "plans.delete",
        "DELETE",
        "/subscriptions/plans/{plan_id}",
        A.ADMIN,
        out="billing.schemas:PlanReplyOut",
        errors=(404,),
    ),
    # subscribers (ownership depends on data: checked in the handlers)
    Route(
        "subscribers.list",
        "GET",
        "/subscriptions/subscribers",
        A.USER,
        out="billing.schemas:SubscribersPageOut",
        query=PAGE,
    ),
    Route(
        "subscribers.get",
        "GET",
        "/subscriptions/subscribers/{subscriber_id}",
        A.USER,
        out="billing.schemas:SubscriberOut",
        errors=(403, 404),
    ),
    Route(
        "subscribers.create",
        "POST",
        "/subscriptions/subscribers",
        A.USER,
        "billing.schemas:SubscriberIn",
        "billing.schemas:SubscriberReplyOut",
        status=201,
        errors=(403, 404, 409),
    ),
    Route(
        "subscribers.update",
        "PATCH",
        "/subscriptions/subscribers/{subscriber_id}",
        A.USER,
        "billing.schemas:SubscriberPatchIn",
        "billing.schemas:SubscriberReplyOut",
        errors=(403, 404),
    ),
    Route(
        "subscribers.delete",
        "DELETE",
        "/subscriptions/subscribers/{subscriber_id}",
        A.USER,
        out="billing.schemas:SubscriberReplyOut",
        errors=(403, 404, 409),
    ),
    # purchases, refunds and contracts
    Route(
        "subscriptions.buy",
        "POST",
        "/subscriptions/buy",
        A.USER,
        "billing.schemas:BuyIn",
        "billing.schemas:BuyOut",
        status=201,
        also=(200,),
        errors=(402, 404, 409),
    ),
    Route(
        "subscriptions.refund",
        "POST",
        "/subscriptions/refund",
        A.USER,
        "billing.schemas:RefundIn",
        "billing.schemas:RefundOut",
        errors=(403, 404, 409),
    ),
    Route(
        "subscriptions.contracts",
        "GET",
        "/subscriptions/contracts",
        A.USER,
        out="billing.schemas:ContractsPageOut",
        query=PAGE,
    ),
    Route(
        "subscriptions.contract",
        "GET",
        "/subscriptions/contracts/{contract_id}",
        A.USER,
        out="billing.schemas:ContractOut",
        errors=(403, 404),
    ),
    # chats
    Route(
        "chats.create",
        "POST",
        "/chats/{user_id}",
        A.SELF,
        "chats.schemas:ChatIn",
        "chats.schemas:ChatCreatedOut",
        status=201,
        errors=(422,),
    ),
    Route("chats.list", "GET", "/chats/{user_id}", A.SELF_OR_ADMIN, out="chats.schemas:ChatsPageOut", query=PAGE),
    Route(
        "chats.get", "GET", "/chats/{user_id}/{chat_id}", A.SELF_OR_ADMIN, out="chats.schemas:ChatOut", errors=(404,)
    ),
    Route(
        "chats.rename",
        "PATCH",
        "/chats/{user_id}/{chat_id}",
        A.SELF,
        "chats.schemas:RenameIn",
        "chats.schemas:ChatReplyOut",
        errors=(404,),
    ),
    Route(
        "chats.delete",
        "DELETE",
        "/chats/{user_id}/{chat_id}",
        A.SELF_OR_ADMIN,
        out="http.schemas:Message",
        errors=(404,),
    ),
    Route(
        "chats.ticket",
        "POST",
        "/chats/{user_id}/{chat_id}/ticket",
        A.SELF,
        out="chats.schemas:TicketOut",
        errors=(404,),
    ),
    Route(
        "chats.session",
        "GET",
        "/chats/{user_id}/{chat_id}/session",
        A.SELF,
        status=101,
        errors=(404, 422, 426, 429),
        websocket=True,
    ),
    # OpenAI-compatible
    Route(
        "compat.chat_completions",
        "POST",
        "/v1/chat/completions",
        A.USER,
        "chats.compat_schemas:CompletionIn",
        errors=(404, 422, 429, 502),
        error_shape="openai",
    ),
    Route("compat.models", "GET", "/v1/models", A.USER, error_shape="openai"),
    # health and documentation
    Route("health.healthy", "GET", "/healthy", A.PUBLIC),
    Route("health.ready", "GET", "/ready", A.PUBLIC, errors=(503,)),
    Route("health.metrics", "GET", "/metrics", A.PUBLIC),
    Route("meta.root", "GET", "/", A.PUBLIC),
    Route("meta.openapi", "GET", "/openapi.json", A.PUBLIC),
    Route("meta.asyncapi", "GET", "/asyncapi.json", A.PUBLIC),
    Route("meta.docs", "GET", "/docs", A.PUBLIC),
    Route("meta.docs_asset", "GET", "/docs/{asset}", A.PUBLIC, errors=(404,)),
    Route("meta.console_asset", "GET", "/console/{asset}", A.PUBLIC, errors=(404,)),
)


router = Router(ROUTES)
