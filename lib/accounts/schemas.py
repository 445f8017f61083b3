"""Schemas of the users and authentication endpoints."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate

from lib.accounts.repository import User
from lib.auth import passwords
from lib.emails import normalize_email
from lib.http.schemas import Email, Message, StrictSchema, Text, change_out, page_out, record_out

__all__ = [
    "ChangeEmailIn",
    "ChangeEmailOut",
    "ChangeNameIn",
    "ChangeNameOut",
    "ChangeNicknameIn",
    "ChangeNicknameOut",
    "ChangePasswordIn",
    "ChangeSurnameIn",
    "ChangeSurnameOut",
    "LoginIn",
    "LoginOut",
    "Message",
    "ProfileOut",
    "RegisterIn",
    "RegisterOut",
    "UserOut",
    "UsersPageOut",
]


def _check_password(value: str) -> None:
    if len(value) < passwords.MIN_LENGTH:
        raise ValidationError(f"must be at least {passwords.MIN_LENGTH} characters")
    if len(value) > passwords.MAX_LENGTH:
        raise ValidationError(f"must be at most {passwords.MAX_LENGTH} characters")
    if passwords.is_common(value):
        raise ValidationError("is too common; choose another password")


class AccountEmail(Email):
    """An account's e-mail address, in the one form that is stored and compared
    (lib.emails.normalize_email): one mailbox cannot register twice by spelling."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = fields.String._deserialize(self, value, attr, data, **kwargs)
        try:
            return normalize_email(text)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


class NewPassword(fields.String):
    """A password that meets the policy: 8-128 characters, not on the common-passwords list."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        password = super()._deserialize(value, attr, data, **kwargs)
        _check_password(password)
        return password


class CurrentPassword(fields.String):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(validate=validate.Length(1, 1024), load_only=True, **kwargs)


class RegisterIn(StrictSchema):
    email = AccountEmail(required=True)
    nickname = Text(required=True)
    name = Text(required=True)
    surname = Text(required=True)
    password = NewPassword(required=True, load_only=True)


class LoginIn(StrictSchema):
    email = AccountEmail(required=True)
    password = CurrentPassword(required=True)


class ChangeNicknameIn(StrictSchema):
    new_nickname = Text(required=True)


class ChangeNameIn(StrictSchema):
    new_name = Text(required=True)


class ChangeSurnameIn(StrictSchema):
    new_surname = Text(required=True)


class ChangeEmailIn(StrictSchema):
    new_email = AccountEmail(required=True)
    current_password = CurrentPassword(metadata={"description": "required unless an admin acts on another user"})


class ChangePasswordIn(StrictSchema):
    new_password = NewPassword(required=True, load_only=True)
    current_password = CurrentPassword(metadata={"description": "required unless an admin acts on another user"})


UserOut = record_out("UserOut", User, "user_id nickname name surname email")


class SubscriptionOut(StrictSchema):
    """The contract running now, as a profile shows it (declared, not read off the billing
    record's class: only the two profile functions load billing)."""

    plan_id = fields.String(required=True)
    contract_id = fields.String(required=True)
    ends_at = fields.DateTime(required=True)


MetadataOut = record_out(
    "MetadataOut",
    User,
    "role created_at updated_at last_login_at subscription",
    role=fields.String(required=True, metadata={"enum": ["user", "admin"]}),
    last_login_at=fields.DateTime(allow_none=True),
    subscription=fields.Nested(SubscriptionOut, allow_none=True),
)


ProfileOut = record_out(
    "ProfileOut",
    User,
    "user_id nickname name surname email metadata",
    metadata=fields.Nested(MetadataOut, required=True),
)


class RegisterOut(StrictSchema):
    created_user = fields.Nested(UserOut, required=True)
    message = fields.String(required=True)


class LoginOut(StrictSchema):
    message = fields.String(required=True)
    user_id = fields.String(required=True)
    token = fields.String(required=True)
    token_type = fields.String(required=True, metadata={"enum": ["Bearer"]})
    expires_in = fields.Integer(required=True, metadata={"description": "seconds until the token expires"})


UsersPageOut = page_out("UsersPageOut", "users", UserOut)


ChangeNicknameOut = change_out("nickname")
ChangeNameOut = change_out("name")
ChangeSurnameOut = change_out("surname")
ChangeEmailOut = change_out("email")
