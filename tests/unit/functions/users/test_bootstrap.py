"""KIROSHI_BOOTSTRAP_ADMIN_EMAIL makes at most the first admin: at the registration of that address,
or at a start when the account that registered with it exists; only while no admin exists; never
for an account that took the address by a later e-mail change."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from lib.accounts import repository as users
from lib.config import ConfigError, load_settings
from lib.db.migrations import apply_migrations
from lib.services import Services
from tests.conftest import ADMIN_EMAIL
from tests.support.client import Account, Client

Start = Callable[..., Services]


def fullwidth(text: str) -> str:
    return "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in text)


@pytest.fixture
def start(make_services: Start, tmp_path: Path) -> Start:
    """Services on one on-disk database: close them and call again to restart."""
    url = f"surrealkv://{tmp_path}/kiroshi"
    return lambda **changes: make_services(database_url=url, **changes)


def _role(client: Client, email: str) -> str:
    login = client.login(email)
    assert login.status == 200, login
    return str(client.get("/auth", token=login.json["token"]).json["metadata"]["role"])


def _change_email(client: Client, account: Account, new_email: str) -> None:
    path = f"/users/{account.user_id}/change-email"
    answer = client.post(path, {"new_email": new_email, "current_password": account.password}, token=account.token)
    assert answer.status == 200, answer


def _admins(services: Services) -> list[str]:
    return sorted(services.db.one("SELECT VALUE email FROM user WHERE role = 'admin'"))


def test_after_the_admin_moved_away_registering_the_address_makes_no_admin(client: Client, admin: Account) -> None:
    _change_email(client, admin, "boss@example.com")

    answer = client.register("Root@Example.COM")  # the bootstrap address, as an attacker spells it

    assert answer.status == 201
    assert _role(client, "root@example.com") == "user"
    assert _admins(client.services) == ["boss@example.com"]


def test_after_the_admin_deleted_itself_registering_the_address_makes_no_admin(client: Client, admin: Account) -> None:
    assert client.delete(f"/users/{admin.user_id}", token=admin.token).status == 200

    assert client.register(ADMIN_EMAIL).status == 201
    assert _role(client, ADMIN_EMAIL) == "user"


def test_once_an_admin_was_promoted_registering_the_address_makes_no_admin(client: Client, bob: Account) -> None:
    users.set_role_by_email(client.services.db, bob.email, "admin", client.services.now())  # local_runner promote

    assert client.register(ADMIN_EMAIL).status == 201
    assert _role(client, ADMIN_EMAIL) == "user"


def test_the_first_registration_of_the_address_is_the_admin(client: Client, alice: Account) -> None:
    assert client.register(" ROOT@example.com").status == 201
    assert _role(client, ADMIN_EMAIL) == "admin"
    assert _role(client, alice.email) == "user"


@pytest.mark.parametrize("admin_first", [False, True], ids=["no-admin-yet", "after-the-admin-moved-away"])
def test_taking_the_address_by_an_email_change_makes_no_admin_at_restart(start: Start, admin_first: bool) -> None:
    services = start()
    client = Client(services)
    if admin_first:
        _change_email(client, client.account(ADMIN_EMAIL), "boss@example.com")
    mallory = client.account("mallory@example.com")
    _change_email(client, mallory, "ROOT@example.com")
    services.close()

    client = Client(start())  # a restart with the same KIROSHI_BOOTSTRAP_ADMIN_EMAIL

    assert _role(client, ADMIN_EMAIL) == "user"
    assert _admins(client.services) == (["boss@example.com"] if admin_first else [])


def test_the_account_registered_with_the_address_is_made_admin_at_start_once(start: Start) -> None:
    services = start(bootstrap_admin_email="")
    Client(services).register(ADMIN_EMAIL)
    services.close()

    services = start()  # the operator sets the address and restarts
    client = Client(services)
    assert _role(client, ADMIN_EMAIL) == "admin"

    users.set_role_by_email(services.db, ADMIN_EMAIL, "user", services.now())  # local_runner demote
    services.close()
    client = Client(start())

    assert _role(client, ADMIN_EMAIL) == "user"  # the bootstrap made the first admin; it makes no other


def test_a_database_that_already_has_an_admin_has_spent_the_bootstrap(services: Services) -> None:
    client = Client(services)
    untouched, mallory = client.account("alice@example.com"), client.account("mallory@example.com")
    _change_email(client, mallory, "moved@example.com")
    # The state before migration 0005: no bootstrap record, no guard marked, then an admin.
    services.db.query(
        "DELETE admin_bootstrap; DELETE migration:`0005_admin_bootstrap`; UPDATE email_guard SET registered = NONE;"
    )
    assert users.bootstrap_admin(services.db, "moved@example.com", services.now()) is None  # not marked
    assert apply_migrations(services.db) == ["0005_admin_bootstrap"]

    assert users.bootstrap_admin(services.db, "moved@example.com", services.now()) is None  # moved: never
    first = users.bootstrap_admin(services.db, untouched.email, services.now())  # never updated: registered
    assert first is not None and first.role == "admin"

    services.db.query("DELETE admin_bootstrap; DELETE migration:`0005_admin_bootstrap`;")
    assert apply_migrations(services.db) == ["0005_admin_bootstrap"]  # an admin exists now

    assert client.register(ADMIN_EMAIL).status == 201
    assert _role(client, ADMIN_EMAIL) == "user"


def test_starts_racing_registrations_make_one_first_admin(services: Services) -> None:
    client = Client(services)
    spellings = [ADMIN_EMAIL, ADMIN_EMAIL.upper(), " Root@Example.com", "root@EXAMPLE.com"]

    def race(i: int) -> object:
        if i % 2:
            return users.bootstrap_admin(services.db, ADMIN_EMAIL, services.now())  # a replica starting
        return client.register(spellings[i // 2 % len(spellings)]).status

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(race, range(24)))

    statuses = sorted(o for o in outcomes if isinstance(o, int))
    assert statuses == [201] + [409] * 11
    winner = services.db.one("SELECT VALUE user.email FROM admin_bootstrap")  # whichever spelling won
    assert [email.lower() for email in winner] == [ADMIN_EMAIL]
    assert _admins(services) == winner


def test_racing_starts_promote_the_registered_account_once(start: Start) -> None:
    services = start(bootstrap_admin_email="")
    Client(services).register(ADMIN_EMAIL)

    with ThreadPoolExecutor(max_workers=8) as pool:
        promoted = [
            u
            for u in pool.map(lambda _: users.bootstrap_admin(services.db, ADMIN_EMAIL, services.now()), range(16))
            if u
        ]

    assert [u.email for u in promoted] == [ADMIN_EMAIL]
    assert _admins(services) == [ADMIN_EMAIL]


def test_the_configured_address_is_read_in_the_stored_form(tmp_path: Path) -> None:
    env = {"KIROSHI_DATA_DIR": str(tmp_path)}

    settings = load_settings({**env, "KIROSHI_BOOTSTRAP_ADMIN_EMAIL": " Root@" + fullwidth("KIROSHI.COM") + " "})

    assert settings.bootstrap_admin_email == "Root@kiroshi.com"
    with pytest.raises(ConfigError, match="KIROSHI_BOOTSTRAP_ADMIN_EMAIL"):
        load_settings({**env, "KIROSHI_BOOTSTRAP_ADMIN_EMAIL": "root\u200b@kiroshi.com"})


def test_promote_reads_the_address_as_registration_stores_it(
    start: Start, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from local_runner.__main__ import _set_role

    services = start(bootstrap_admin_email="")
    Client(services).register("Ada@example.com")
    services.close()
    monkeypatch.setenv("KIROSHI_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("KIROSHI_DATABASE_URL", services.settings.database_url)
    monkeypatch.delenv("KIROSHI_BOOTSTRAP_ADMIN_EMAIL", raising=False)

    assert _set_role("a\u200bda@example.com", "admin") == 2  # refused, not looked up
    assert _set_role(" ADA@" + fullwidth("example") + ".com", "admin") == 0

    assert "Ada@example.com" in capsys.readouterr().out
    assert _role(Client(start(bootstrap_admin_email="")), "ada@example.com") == "admin"
