"""The one error tree. Each class carries its HTTP status, title and default `code`.

Handlers and lib/ raise these; the dispatch turns them into RFC 9457 problem details.
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "ApiError",
    "BadGateway",
    "BadRequest",
    "Conflict",
    "EmailTaken",
    "Forbidden",
    "MethodNotAllowed",
    "NotFound",
    "PasswordChanged",
    "PayloadTooLarge",
    "PaymentRejected",
    "RateLimited",
    "RequestTimeout",
    "ServiceUnavailable",
    "SubscriberExists",
    "SubscriberHasLiveContracts",
    "Unauthorized",
    "UnprocessableContent",
    "UnsupportedMediaType",
    "UpgradeRequired",
    "UpstreamAuthFailed",
    "UpstreamRateLimited",
    "UpstreamTimeout",
    "UpstreamUnavailable",
    "UpstreamUnreachable",
    "UserNotFound",
]


class ApiError(Exception):
    status: ClassVar[int] = 500
    title: ClassVar[str] = "Internal Server Error"
    default_code: ClassVar[str] = "internal_error"
    default_detail: ClassVar[str] = "the server could not complete the request"

    def __init__(
        self,
        detail: str | None = None,
        *,
        code: str | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        self.detail = detail or self.default_detail
        self.code = code or self.default_code
        self.headers = headers or {}
        self.extra = extra
        super().__init__(self.detail)

    def problem(self) -> dict[str, Any]:
        """The problem+json body."""
        return {
            "type": f"https://kiroshi.dev/problems/{self.code.replace('_', '-')}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "code": self.code,
            **self.extra,
        }


class BadRequest(ApiError):
    status, title, default_code, default_detail = 400, "Bad Request", "malformed_json", "the body is not valid JSON"


class Unauthorized(ApiError):
    status, title, default_code = 401, "Unauthorized", "unauthorized"
    default_detail = "a valid bearer token is required"

    def __init__(self, detail: str | None = None, *, code: str | None = None, **extra: Any) -> None:
        super().__init__(detail, code=code, headers={"WWW-Authenticate": 'Bearer realm="kiroshi"'}, **extra)


class PaymentRejected(ApiError):
    """The payment verifier (lib.billing.payments) did not accept the transaction id."""

    status, title, default_code = 402, "Payment Required", "payment_rejected"
    default_detail = "the payment provider did not confirm this transaction"


class Forbidden(ApiError):
    status, title, default_code = 403, "Forbidden", "forbidden"
    default_detail = "you are not allowed to do this"


class NotFound(ApiError):
    status, title, default_code, default_detail = 404, "Not Found", "not_found", "no such resource"


class MethodNotAllowed(ApiError):
    status, title, default_code = 405, "Method Not Allowed", "method_not_allowed"
    default_detail = "this method is not allowed on this path"


class RequestTimeout(ApiError):
    status, title, default_code = 408, "Request Timeout", "body_timeout"
    default_detail = "the body did not arrive in time"

    def __init__(self, detail: str | None = None, *, code: str | None = None) -> None:
        # The rest of the body may still arrive: the connection cannot carry another request.
        super().__init__(detail, code=code, headers={"Connection": "close"})


class Conflict(ApiError):
    status, title, default_code, default_detail = (
        409,
        "Conflict",
        "conflict",
        "the request conflicts with the current state",
    )


# Domain errors: each names a fact of an area; its base class in this tree gives the status.


class EmailTaken(Conflict):
    default_code, default_detail = "email_taken", "email already registered"


class PasswordChanged(Conflict):
    default_code, default_detail = "password_changed", "the password changed while this request ran; sign in again"


class SubscriberExists(Conflict):
    default_code, default_detail = "subscriber_exists", "this user is a subscriber already"


class SubscriberHasLiveContracts(Conflict):
    default_code = "subscriber_has_live_contracts"
    default_detail = "the subscriber has active or scheduled contracts; refund them first"


class UserNotFound(NotFound):
    default_code, default_detail = "user_not_found", "no such user"


class PayloadTooLarge(ApiError):
    status, title, default_code, default_detail = 413, "Content Too Large", "body_too_large", "the body is too large"


class UnsupportedMediaType(ApiError):
    status, title, default_code = 415, "Unsupported Media Type", "unsupported_media_type"
    default_detail = "send the body as application/json"


class UpgradeRequired(ApiError):
    status, title, default_code = 426, "Upgrade Required", "websocket_required"
    default_detail = "this endpoint is a WebSocket: connect with an Upgrade: websocket request"


class UnprocessableContent(ApiError):
    status, title, default_code = 422, "Unprocessable Content", "validation_failed"
    default_detail = "the request failed validation"


class RateLimited(ApiError):
    status, title, default_code, default_detail = (
        429,
        "Too Many Requests",
        "rate_limited",
        "too many attempts; retry later",
    )

    def __init__(self, retry_after: int, detail: str | None = None, *, code: str | None = None) -> None:
        super().__init__(detail, code=code, headers={"Retry-After": str(max(1, retry_after))})


class ServiceUnavailable(ApiError):
    status, title, default_code = 503, "Service Unavailable", "dependency_unavailable"
    default_detail = "a dependency is unavailable; retry later"


class BadGateway(ApiError):
    """The model server failed; each subclass says how, with its own code. The detail is what the
    client is told; the cause is logged where it was caught (lib.llm.openai), never sent."""

    status, title, default_code = 502, "Bad Gateway", "upstream_error"
    default_detail = "the model server failed"

    @property
    def message(self) -> str:
        """The detail, under the name an `error` frame gives it."""
        return self.detail


class UpstreamUnreachable(BadGateway):
    default_code, default_detail = "upstream_unreachable", "the model server could not be reached"


class UpstreamAuthFailed(BadGateway):
    default_code = "upstream_auth_failed"
    default_detail = "the model server refused this server's credentials: check OPENAI_API_KEY"


class UpstreamRateLimited(BadGateway):
    default_code = "upstream_rate_limited"
    default_detail = "the model server is rate limiting this server; retry later"


class UpstreamTimeout(BadGateway):
    default_code, default_detail = "upstream_timeout", "the model server did not answer in time"


class UpstreamUnavailable(BadGateway):
    default_code = "upstream_unavailable"
    default_detail = "the model server broke off the reply or sent what could not be read"
