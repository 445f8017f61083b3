"""THE route table: every endpoint once. The local runner, main.py, serverless.yml, the OpenAPI
document and the auth-matrix tests all derive from it."""

from __future__ import annotations

from lib.auth.policies import Auth
from lib.http.pagination import PageQuery
from lib.http.routing import Route, Router
from lib.schemas import chats as c
from lib.schemas import compat as x
from lib.schemas import subscriptions as s
from lib.schemas import users as u
from lib.schemas.base import Message

__all__ = ["ROUTES", "router"]

A = Auth

ROUTES: tuple[Route, ...] = (
    # users and authentication
    Route(
        "users.register",
        "POST",
        "/users/register",
        A.PUBLIC,
        u.RegisterIn,
        u.RegisterOut,
        status=201,
        offload=True,
        errors=(409, 422, 429),
    ),
    Route("users.login", "POST", "/users/login", A.PUBLIC, u.LoginIn, u.LoginOut, offload=True, errors=(401, 429)),
    Route("users.logout", "POST", "/users/{user_id}/logout", A.SELF, out=Message),
    Route("users.me", "GET", "/auth", A.USER, out=u.ProfileOut),
    Route("users.list", "GET", "/users", A.ADMIN, out=u.UsersPageOut, query=PageQuery),
    Route("users.get", "GET", "/users/{user_id}", A.SELF_OR_ADMIN, out=u.ProfileOut, errors=(404,)),
    Route(
        "users.change_nickname",
        "POST",
        "/users/{user_id}/change-nickname",
        A.SELF_OR_ADMIN,
        u.ChangeNicknameIn,
        u.ChangeNicknameOut,
        errors=(404,),
    ),
    Route(
        "users.change_name",
        "POST",
        "/users/{user_id}/change-name",
        A.SELF_OR_ADMIN,
        u.ChangeNameIn,
        u.ChangeNameOut,
        errors=(404,),
    ),
    Route(
        "users.change_surname",
        "POST",
        "/users/{user_id}/change-surname",
        A.SELF_OR_ADMIN,
        u.ChangeSurnameIn,
        u.ChangeSurnameOut,
        errors=(404,),
    ),
    Route(
        "users.change_email",
        "POST",
        "/users/{user_id}/change-email",
        A.SELF_OR_ADMIN,
        u.ChangeEmailIn,
        u.ChangeEmailOut,
        offload=True,
        errors=(404, 409),
    ),
    Route(
        "users.change_password",
        "POST",
        "/users/{user_id}/change-password",
        A.SELF_OR_ADMIN,
        u.ChangePasswordIn,
        Message,
        offload=True,
        errors=(404,),
    ),
    Route("users.delete", "DELETE", "/users/{user_id}", A.SELF_OR_ADMIN, out=Message, errors=(404,)),
    # plans
    Route("plans.list", "GET", "/subscriptions/plans", A.USER, out=s.PlansPageOut, query=PageQuery),
    Route("plans.get", "GET", "/subscriptions/plans/{plan_id}", A.USER, out=s.PlanOut, errors=(404,)),
    Route("plans.create", "POST", "/subscriptions/plans", A.ADMIN, s.PlanIn, s.PlanReplyOut, status=201),
    Route(
        "plans.update", "PATCH", "/subscriptions/plans/{plan_id}", A.ADMIN, s.PlanPatchIn, s.PlanReplyOut, errors=(404,)
    ),
    Route("plans.delete", "DELETE", "/subscriptions/plans/{plan_id}", A.ADMIN, out=s.PlanReplyOut, errors=(404,)),
    # subscribers (ownership depends on data: checked in the handlers)
    Route("subscribers.list", "GET", "/subscriptions/subscribers", A.USER, out=s.SubscribersPageOut, query=PageQuery),
    Route(
        "subscribers.get",
        "GET",
        "/subscriptions/subscribers/{subscriber_id}",
        A.USER,
        out=s.SubscriberOut,
        errors=(403, 404),
    ),
    Route(
        "subscribers.create",
        "POST",
        "/subscriptions/subscribers",
        A.USER,
        s.SubscriberIn,
        s.SubscriberReplyOut,
        status=201,
        errors=(403, 404, 409),
    ),
    Route(
        "subscribers.update",
        "PATCH",
        "/subscriptions/subscribers/{subscriber_id}",
        A.USER,
        s.SubscriberPatchIn,
        s.SubscriberReplyOut,
        errors=(403, 404),
    ),
    Route(
        "subscribers.delete",
        "DELETE",
        "/subscriptions/subscribers/{subscriber_id}",
        A.USER,
        out=s.SubscriberReplyOut,
        errors=(403, 404, 409),
    ),
    # purchases, refunds and contracts
    Route(
        "subscriptions.buy", "POST", "/subscriptions/buy", A.USER, s.BuyIn, s.BuyOut, status=201, errors=(402, 404, 409)
    ),
    Route(
        "subscriptions.refund", "POST", "/subscriptions/refund", A.USER, s.RefundIn, s.RefundOut, errors=(403, 404, 409)
    ),
    Route(
        "subscriptions.contracts", "GET", "/subscriptions/contracts", A.USER, out=s.ContractsPageOut, query=PageQuery
    ),
    Route(
        "subscriptions.contract",
        "GET",
        "/subscriptions/contracts/{contract_id}",
        A.USER,
        out=s.ContractOut,
        errors=(403, 404),
    ),
    # chats
    Route("chats.create", "POST", "/chats/{user_id}", A.SELF, c.ChatIn, c.ChatCreatedOut, status=201, errors=(422,)),
    Route("chats.list", "GET", "/chats/{user_id}", A.SELF_OR_ADMIN, out=c.ChatsPageOut, query=PageQuery),
    Route("chats.get", "GET", "/chats/{user_id}/{chat_id}", A.SELF_OR_ADMIN, out=c.ChatOut, errors=(404,)),
    Route("chats.rename", "PATCH", "/chats/{user_id}/{chat_id}", A.SELF, c.RenameIn, c.ChatReplyOut, errors=(404,)),
    Route("chats.delete", "DELETE", "/chats/{user_id}/{chat_id}", A.SELF_OR_ADMIN, out=Message, errors=(404,)),
    Route("chats.ticket", "POST", "/chats/{user_id}/{chat_id}/ticket", A.SELF, out=c.TicketOut, errors=(404,)),
    Route("chats.session", "GET", "/chats/{user_id}/{chat_id}/session", A.SELF, errors=(404, 426, 429), websocket=True),
    # OpenAI-compatible
    Route(
        "compat.chat_completions",
        "POST",
        "/v1/chat/completions",
        A.USER,
        x.CompletionIn,
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
