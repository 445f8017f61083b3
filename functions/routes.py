"""THE route table: every endpoint once. The local runner, main.py, serverless.yml, the OpenAPI
document and the auth-matrix tests all derive from it."""

from __future__ import annotations

from lib.auth.policies import Auth
from lib.http.pagination import PageQuery
from lib.http.routing import Route, Router
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
    # health and documentation
    Route("health.healthy", "GET", "/healthy", A.PUBLIC),
    Route("health.ready", "GET", "/ready", A.PUBLIC, errors=(503,)),
    Route("meta.openapi", "GET", "/openapi.json", A.PUBLIC),
    Route("meta.docs", "GET", "/docs", A.PUBLIC),
    Route("meta.docs_asset", "GET", "/docs/{asset}", A.PUBLIC, errors=(404,)),
)

router = Router(ROUTES)
