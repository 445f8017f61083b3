"""Who may call what, as tables: the route levels (lib.auth.policies.authorize) and data ownership
(require_owner). The dispatch calls them; tests/unit/test_routes.py checks every route's level."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from lib.auth.policies import Auth, authorize, require_owner
from lib.errors import Forbidden


@dataclass(frozen=True)
class Caller:
    """What the rules read of a Principal."""

    user_id: str
    is_admin: bool = False


ALICE = Caller("alice")
BOB = Caller("bob")
ROOT = Caller("root", is_admin=True)
ALICES = {"user_id": "alice"}
OTHER = "you may not act on another user's resources"
DEFAULT = "you are not allowed to do this"


@pytest.mark.parametrize(
    ("level", "caller", "path", "refusal"),
    [
        (Auth.PUBLIC, None, ALICES, None),
        (Auth.PUBLIC, BOB, ALICES, None),
        (Auth.USER, BOB, ALICES, None),
        (Auth.USER, BOB, {}, None),
        (Auth.SELF, ALICE, ALICES, None),
        (Auth.SELF, BOB, ALICES, OTHER),
        (Auth.SELF, ROOT, ALICES, OTHER),  # an admin is not the user
        (Auth.SELF, ALICE, {}, DEFAULT),  # no user in the path: nobody is its self
        (Auth.SELF_OR_ADMIN, ALICE, ALICES, None),
        (Auth.SELF_OR_ADMIN, ROOT, ALICES, None),
        (Auth.SELF_OR_ADMIN, BOB, ALICES, OTHER),
        (Auth.SELF_OR_ADMIN, BOB, {}, DEFAULT),
        (Auth.SELF_OR_ADMIN, ROOT, {}, None),
        (Auth.ADMIN, ROOT, {}, None),
        (Auth.ADMIN, ROOT, ALICES, None),
        (Auth.ADMIN, ALICE, ALICES, OTHER),  # being the user is not enough
        (Auth.ADMIN, BOB, {}, DEFAULT),
        (Auth.ADMIN, None, {}, None),  # anonymous callers were refused already, with a 401
    ],
)
def test_who_may_call_a_route(level: Auth, caller: Caller | None, path: dict[str, str], refusal: str | None) -> None:
    if refusal is None:
        authorize(level, caller, path)  # type: ignore[arg-type]
        return
    with pytest.raises(Forbidden) as refused:
        authorize(level, caller, path)  # type: ignore[arg-type]
    assert (refused.value.status, refused.value.code, refused.value.detail) == (403, "forbidden", refusal)


@pytest.mark.parametrize(
    ("caller", "owner", "allowed"),
    [(ALICE, "alice", True), (BOB, "alice", False), (ROOT, "alice", True), (ROOT, "root", True)],
)
def test_what_a_caller_owns(caller: Caller, owner: str, allowed: bool) -> None:
    if allowed:
        require_owner(caller, owner)  # type: ignore[arg-type]
        return
    with pytest.raises(Forbidden) as refused:
        require_owner(caller, owner)  # type: ignore[arg-type]
    assert (refused.value.code, refused.value.detail) == ("forbidden", "this resource belongs to another user")
