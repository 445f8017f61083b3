from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from lib.cache import MemoryCache
from lib.config import Secret, Settings
from lib.services import Services, create_services
from tests.support.client import Account, Client
from tests.support.clock import MovableClock

ADMIN_EMAIL = "root@example.com"


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path,
        database_url="mem://",
        jwt_secret=Secret("test-secret-" + "x" * 60),
        bootstrap_admin_email=ADMIN_EMAIL,
        register_max_per_address=10_000,
        login_max_failures_per_address=10_000,
    )


@pytest.fixture
def make_services(settings: Settings, clock: MovableClock) -> Iterator[Callable[..., Services]]:
    """Services on a fresh in-memory database, with some settings changed."""
    made: list[Services] = []

    def make(**changes: object) -> Services:
        created = create_services(settings.with_(**changes), clock=clock, cache=MemoryCache(monotonic=clock.monotonic))
        made.append(created)
        return created

    yield make
    for created in made:
        created.close()


@pytest.fixture
def services(make_services: Callable[..., Services]) -> Services:
    return make_services()


@pytest.fixture
def client(services: Services) -> Client:
    return Client(services)


@pytest.fixture
def alice(client: Client) -> Account:
    return client.account("alice@example.com")


@pytest.fixture
def bob(client: Client) -> Account:
    return client.account("bob@example.com")


@pytest.fixture
def admin(client: Client) -> Account:
    return client.account(ADMIN_EMAIL)
