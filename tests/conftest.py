from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from lib.cache import MemoryCache
from lib.config import Secret, Settings
from lib.services import Services, create_services
from tests.support.client import Account, Client
from tests.support.clock import MovableClock
from tests.support.fake_stripe import FakeStripe

ADMIN_EMAIL = "root@example.com"


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> Iterator[None]:
    """One line after `-ra`'s list (as the outermost wrapper, it writes last): the test files whose
    tests skipped, and why. The suites that need real services (Redis, NATS, Chromium) skip when
    their URLs are unset; a newcomer should see that they did not run. README.md's Tests section
    says how to run them."""
    yield
    by_file: dict[str, tuple[int, list[str]]] = {}
    for report in terminalreporter.stats.get("skipped", []):
        longrepr = getattr(report, "longrepr", None)
        reason = str(longrepr[2]) if isinstance(longrepr, tuple) and len(longrepr) == 3 else "skipped"
        reason = reason.removeprefix("Skipped: ")
        path = report.nodeid.split("::", 1)[0]
        count, reasons = by_file.get(path, (0, []))
        by_file[path] = (count + 1, reasons if reason in reasons else [*reasons, reason])
    if not by_file:
        return
    suites = "; ".join(
        f"{path}: {count} test{'s' if count > 1 else ''} ({' / '.join(reasons)})"
        for path, (count, reasons) in by_file.items()
    )
    terminalreporter.write_line(
        f"Skipped suites, not run: {suites}. How to run them: README.md, section Tests.", yellow=True, bold=True
    )


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


# The fake Stripe (tests/support/fake_stripe.py): one server per session, reset for each test.
@pytest.fixture(scope="session")
def stripe_server() -> Iterator[FakeStripe]:
    with FakeStripe() as started:
        yield started


@pytest.fixture
def stripe(stripe_server: FakeStripe) -> Iterator[FakeStripe]:
    stripe_server.reset()
    yield stripe_server
    stripe_server.reset()
