"""Token quotas (lib.chats.quota): a reservation is granted only while the tokens used, those in
flight and its own fit the quota; released, it gives its tokens back. Counted per user and per
period; what a crashed process held expires after six hours."""

from __future__ import annotations

import datetime as dt

import pytest

from lib.billing.entitlements import Entitlements
from lib.chats import repository as chats
from lib.chats.quota import RESERVATION_TTL_SECONDS, Quotas, Reservation
from lib.services import Services
from tests.support.client import Account
from tests.support.clock import MovableClock

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
MONTH = dt.timedelta(days=31)


def _rights(quota: int | None, start: dt.datetime = T0) -> Entitlements:
    return Entitlements(("gpt-4o-mini",), quota, start, start + MONTH, "plan-1")


@pytest.fixture
def quotas(services: Services) -> Quotas:
    return Quotas(services)


def test_a_reservation_holds_its_tokens_for_its_period(quotas: Quotas, alice: Account) -> None:
    held = quotas.reserve(alice.user_id, _rights(100), 60)

    assert held == Reservation(f"quota-reserved:{alice.user_id}|{T0.isoformat()}", 60, T0, T0 + MONTH)


def test_reservations_in_flight_fit_the_quota_together(quotas: Quotas, alice: Account) -> None:
    rights = _rights(100)
    first = quotas.reserve(alice.user_id, rights, 60)

    assert quotas.reserve(alice.user_id, rights, 41) is None  # 60 + 41 > 100; and holds nothing
    assert quotas.reserve(alice.user_id, rights, 40) is not None  # exactly 100
    assert quotas.reserve(alice.user_id, rights, 1) is None
    assert first is not None
    quotas.release(first)
    assert quotas.reserve(alice.user_id, rights, 60) is not None
    assert quotas.reserve(alice.user_id, rights, 1) is None


def test_tokens_used_count_against_the_quota(services: Services, quotas: Quotas, alice: Account) -> None:
    chats.add_usage(services.db, alice.user_id, (T0, T0 + MONTH), 70)

    assert quotas.reserve(alice.user_id, _rights(100), 31) is None
    assert quotas.reserve(alice.user_id, _rights(100), 30) is not None
    assert quotas.reserve(alice.user_id, _rights(100, start=T0 + MONTH), 100) is not None  # a new period


def test_each_user_has_their_own_quota(quotas: Quotas, alice: Account, bob: Account) -> None:
    assert quotas.reserve(alice.user_id, _rights(100), 100) is not None

    assert quotas.reserve(bob.user_id, _rights(100), 100) is not None
    assert quotas.reserve(alice.user_id, _rights(100), 1) is None


def test_without_a_quota_every_reservation_is_granted(quotas: Quotas, alice: Account) -> None:
    for _ in range(3):
        assert quotas.reserve(alice.user_id, _rights(None), 10**9) is not None


def test_a_released_reservation_gives_back_exactly_its_tokens(quotas: Quotas, alice: Account) -> None:
    rights = _rights(100)
    small = quotas.reserve(alice.user_id, rights, 30)
    assert quotas.reserve(alice.user_id, rights, 50) is not None
    assert small is not None

    quotas.release(small)

    assert quotas.reserve(alice.user_id, rights, 51) is None
    assert quotas.reserve(alice.user_id, rights, 50) is not None


def test_what_a_crashed_process_held_expires_after_six_hours(
    quotas: Quotas, alice: Account, clock: MovableClock
) -> None:
    rights = _rights(100)
    held = quotas.reserve(alice.user_id, rights, 100)  # never released: its process died
    assert held is not None

    clock.advance(RESERVATION_TTL_SECONDS - 1)
    assert quotas.reserve(alice.user_id, rights, 1) is None
    clock.advance(2)
    assert quotas.reserve(alice.user_id, rights, 100) is not None
    assert RESERVATION_TTL_SECONDS == 6 * 3600


def test_releasing_after_the_reservation_expired_is_harmless(
    quotas: Quotas, alice: Account, clock: MovableClock
) -> None:
    rights = _rights(100)
    held = quotas.reserve(alice.user_id, rights, 100)
    assert held is not None
    clock.advance(RESERVATION_TTL_SECONDS + 1)

    quotas.release(held)

    assert quotas.reserve(alice.user_id, rights, 100) is not None


def test_a_release_after_its_reservation_expired_grants_no_extra_quota(
    services: Services, alice: Account, clock: MovableClock
) -> None:
    quotas, rights = Quotas(services), _rights(100)
    held = quotas.reserve(alice.user_id, rights, 100)
    assert held is not None
    clock.advance(RESERVATION_TTL_SECONDS + 1)  # the reply outlived its reservation's key
    quotas.release(held)

    assert quotas.reserve(alice.user_id, rights, 100) is not None
    assert quotas.reserve(alice.user_id, rights, 1) is None
