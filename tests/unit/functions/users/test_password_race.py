"""Logins racing a password change: once the change answers, no token obtained with the old
password works, whichever way the login's Argon2 verification and the change interleaved."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from functions.users import login
from lib.accounts import repository as users
from tests.support.client import Account, Answer, Client
from tests.support.clock import MovableClock

NEW_PASSWORD = "an entirely new passphrase 7"
LOGINS = 8


def _change_password(client: Client, account: Account) -> Answer:
    return client.post(
        f"/users/{account.user_id}/change-password",
        {"new_password": NEW_PASSWORD, "current_password": account.password},
        token=account.token,
    )


def test_a_login_that_verified_the_old_password_before_the_change_gets_no_token_that_works(
    client: Client, alice: Account, clock: MovableClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    verified, changed = threading.Event(), threading.Event()
    real_verify = login.verify_password

    def verify_then_stall(password: str, password_hash: str) -> bool:
        ok = real_verify(password, password_hash)
        verified.set()  # the old hash is verified; the change now runs to its answer
        assert changed.wait(10)
        return ok

    monkeypatch.setattr(login, "verify_password", verify_then_stall)
    with ThreadPoolExecutor(max_workers=1) as pool:
        racing = pool.submit(client.login, alice.email, alice.password)
        assert verified.wait(10)
        assert _change_password(client, alice).status == 200
        clock.advance(0.005)  # the login issues its token after the change: a later millisecond
        changed.set()
        answer = racing.result()

    if answer.status == 200:
        assert client.get("/auth", token=answer.json["token"]).status == 401
    else:
        assert (answer.status, answer.json["code"]) == (401, "invalid_credentials")
    monkeypatch.undo()
    assert client.login(alice.email, NEW_PASSWORD).status == 200


def test_a_login_that_commits_between_the_changes_clock_reading_and_its_write_gets_no_token_that_works(
    client: Client, alice: Account, clock: MovableClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The change read its `now` first; a login (on a clock ahead, or simply scheduled first) verifies
    the old hash and records its login before the change writes."""
    about_to_write, logged_in = threading.Event(), threading.Event()
    real_set_password = users.set_password

    def stall_then_set_password(*args: object) -> None:
        about_to_write.set()
        assert logged_in.wait(10)
        real_set_password(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(users, "set_password", stall_then_set_password)
    with ThreadPoolExecutor(max_workers=1) as pool:
        changing = pool.submit(_change_password, client, alice)
        assert about_to_write.wait(10)
        clock.advance(0.005)
        answer = client.login(alice.email, alice.password)
        logged_in.set()
        assert changing.result().status == 200

    assert answer.status == 200  # the password was still the old one when it logged in
    assert client.get("/auth", token=answer.json["token"]).status == 401


def test_logins_racing_password_changes_keep_no_token_of_the_old_password(client: Client) -> None:
    """Many rounds of LOGINS logins with the old password, started a few ms apart, racing one change
    (~25 ms to verify the current password, ~25 ms to hash the new one): some verify the old hash
    while the change commits."""
    issued = 0
    for round_ in range(8):
        account = client.account(f"racer{round_}@example.com")
        go = threading.Barrier(LOGINS + 1)

        def log_in(delay: float, account: Account = account, go: threading.Barrier = go) -> Answer:
            go.wait()
            time.sleep(delay)
            return client.login(account.email, account.password)

        def change(account: Account = account, go: threading.Barrier = go) -> Answer:
            go.wait()
            return _change_password(client, account)

        with ThreadPoolExecutor(max_workers=LOGINS + 1) as pool:
            logins = [pool.submit(log_in, i * 0.008) for i in range(LOGINS)]
            changing = pool.submit(change)
            answers = [f.result() for f in logins]
        assert changing.result().status == 200

        tokens = [a.json["token"] for a in answers if a.status == 200]
        assert all(a.status in (200, 401) for a in answers)
        issued += len(tokens)
        still_working = [t for t in tokens if client.get("/auth", token=t).status != 401]
        assert still_working == [], f"round {round_}: {len(still_working)} of {len(tokens)} old-password tokens work"
    assert issued > 0  # the race was run, not avoided


def test_of_two_changes_racing_from_the_same_password_one_wins_and_the_other_is_told(
    client: Client, alice: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A thief with a stolen token and the old password races the owner's change: the loser gets
    409 `password_changed`, never a 200 for a password that is not in force."""
    from functions.users import change_password

    both_checked = threading.Barrier(2, timeout=10)
    real_hash = change_password.hash_password

    def hash_when_both_checked(password: str) -> str:
        both_checked.wait()  # both requests have verified the same current password
        return real_hash(password)

    monkeypatch.setattr(change_password, "hash_password", hash_when_both_checked)
    thief = client.login(alice.email, alice.password).json["token"]
    bodies = [
        {"new_password": "the owner's new passphrase", "current_password": alice.password},
        {"new_password": "the thief's new passphrase", "current_password": alice.password},
    ]
    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(
            pool.map(
                lambda pair: client.post(f"/users/{alice.user_id}/change-password", pair[0], token=pair[1]),
                zip(bodies, [alice.token, thief], strict=True),
            )
        )
    monkeypatch.undo()

    assert sorted(a.status for a in answers) == [200, 409]
    loser = next(a for a in answers if a.status == 409)
    assert loser.json["code"] == "password_changed"
    winner = bodies[[a.status for a in answers].index(200)]["new_password"]
    other = next(b["new_password"] for b in bodies if b["new_password"] != winner)
    assert client.login(alice.email, winner).status == 200
    assert client.login(alice.email, other).status == 401
