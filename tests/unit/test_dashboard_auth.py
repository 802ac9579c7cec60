"""The dashboard's sign-in pieces: the admin password kept as a scrypt hash (settings read it and
hash it at once), signed session cookies, CSRF tokens, the sign-in rate limit on the clock, and
the password and session key kept in the kv table (a generated password announced once)."""

from __future__ import annotations

import pytest
from dashboard_site_kit import MemoryKv

from rcinbox.clock import FakeClock
from rcinbox.dashboard.auth import SIGNED_IN_TTL, Sessions, SignInLimiter
from rcinbox.dashboard.credentials import (
    PASSWORD_KEY,
    SESSION_KEY,
    load_credentials,
    sign_out,
    signed_out_now,
)
from rcinbox.errors import ConfigError
from rcinbox.passwords import PasswordHash
from rcinbox.settings import Settings

REQUIRED = {"RC_APP_CLIENT_ID": "id", "RC_APP_CLIENT_SECRET": "secret", "RC_USER_JWT": "a.b.c"}


def test_a_password_hash_verifies_only_the_password_and_never_shows_it() -> None:
    hashed = PasswordHash.of("correct horse battery")
    assert hashed.verify("correct horse battery")
    assert not hashed.verify("correct horse battery ")
    assert not hashed.verify("")
    again = PasswordHash.decode(hashed.encode())
    assert again.verify("correct horse battery") and again.digest == hashed.digest
    assert "correct" not in repr(hashed) + hashed.encode()
    assert PasswordHash.of("same").salt != PasswordHash.of("same").salt  # salted


def test_settings_hash_the_admin_password_at_once() -> None:
    settings = Settings.from_env({**REQUIRED, "RCINBOX_ADMIN_PASSWORD": "hunter2-but-longer"})
    assert settings.admin_password is not None and settings.admin_password.verify("hunter2-but-longer")
    assert "hunter2" not in repr(settings)
    assert "admin_password='***'" in repr(settings)
    assert Settings.from_env(REQUIRED).admin_password is None


def test_a_short_admin_password_is_refused_without_being_echoed() -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({**REQUIRED, "RCINBOX_ADMIN_PASSWORD": "abc12"})
    assert "RCINBOX_ADMIN_PASSWORD" in str(caught.value) and "abc12" not in str(caught.value)


PASSWORD = PasswordHash.of("the password")


def sessions(clock: FakeClock, password: PasswordHash = PASSWORD) -> Sessions:
    return Sessions(b"k" * 32, password, clock)


def test_a_session_cookie_reads_back_until_it_expires() -> None:
    clock = FakeClock()
    jar = sessions(clock)
    session = jar.new(signed_in=True)
    assert jar.read(jar.encode(session)) == session
    clock.advance(SIGNED_IN_TTL - 1)
    assert jar.read(jar.encode(session)) == session
    clock.advance(1)
    assert jar.read(jar.encode(session)) is None


def test_a_forged_or_foreign_cookie_is_no_session() -> None:
    clock = FakeClock()
    jar = sessions(clock)
    cookie = jar.encode(jar.new(signed_in=False))
    body, mac = cookie.split(".")
    signed_in_body = jar.encode(jar.new(signed_in=True)).split(".")[0]
    assert jar.read(f"{signed_in_body}.{mac}") is None  # another payload under this MAC
    assert jar.read(f"{body}.{mac[:-2]}xx") is None
    assert jar.read("") is None and jar.read("no-dot") is None and jar.read("a.b.c") is None
    other_key = Sessions(b"o" * 32, PASSWORD, clock)
    assert other_key.read(cookie) is None


def test_a_new_password_signs_every_session_out() -> None:
    clock = FakeClock()
    cookie = sessions(clock).encode(sessions(clock).new(signed_in=True))
    assert sessions(clock).read(cookie) is not None
    assert sessions(clock, PasswordHash.of("a new password")).read(cookie) is None


async def test_a_signed_out_session_stays_out_and_expired_ones_are_forgotten() -> None:
    clock, kv = FakeClock(), MemoryKv()
    jar = sessions(clock)
    old, session = jar.new(signed_in=True), jar.new(signed_in=True)
    await sign_out(kv, old.sid, clock.time() + 5, clock.time())
    clock.advance(10)  # the first one has expired meanwhile: no need to remember it
    jar.revoked = await sign_out(kv, session.sid, session.expires, clock.time())
    assert jar.read(jar.encode(session)) is None
    assert list(jar.revoked) == [session.sid]
    remembered = await signed_out_now(kv)
    assert (
        Sessions(b"k" * 32, PASSWORD, clock, remembered).read(jar.encode(session)) is None
    )  # after a restart


def test_the_csrf_token_belongs_to_its_session() -> None:
    jar = sessions(FakeClock())
    one, two = jar.new(signed_in=True), jar.new(signed_in=True)
    assert jar.csrf_ok(one, jar.csrf(one))
    assert not jar.csrf_ok(one, jar.csrf(two))
    assert not jar.csrf_ok(one, "") and not jar.csrf_ok(one, None) and not jar.csrf_ok(None, jar.csrf(one))


def test_five_failures_in_fifteen_minutes_pause_one_address_until_the_oldest_ages_out() -> None:
    clock = FakeClock()
    limiter = SignInLimiter(clock)
    for _ in range(4):
        limiter.failed("10.0.0.1")
        clock.advance(60)
    assert limiter.retry_after("10.0.0.1") is None
    limiter.failed("10.0.0.1")
    assert limiter.retry_after("10.0.0.1") == pytest.approx(15 * 60 - 4 * 60)
    assert limiter.retry_after("10.0.0.2") is None  # per address
    clock.advance(15 * 60 - 4 * 60)
    assert limiter.retry_after("10.0.0.1") is None  # the first failure left the window


def test_a_success_clears_the_failures_and_the_table_stays_bounded() -> None:
    clock = FakeClock()
    limiter = SignInLimiter(clock)
    for _ in range(4):
        limiter.failed("a")
    limiter.succeeded("a")
    limiter.failed("a")
    assert limiter.retry_after("a") is None
    limiter.max_addresses = 3
    for address in "bcdef":
        limiter.failed(address)
    assert repr(limiter) == "SignInLimiter(3 addresses)"


async def test_a_password_is_generated_once_announced_once_and_only_its_hash_kept() -> None:
    kv, shown = MemoryKv(), []
    first = await load_credentials(kv, None, shown.append)
    assert len(shown) == 1 and len(shown[0]) >= 16
    assert first.source == "generated" and first.password.verify(shown[0])
    assert shown[0] not in "".join(kv.values.values())
    assert kv.values[PASSWORD_KEY].startswith("scrypt$")
    second = await load_credentials(kv, None, shown.append)
    assert len(shown) == 1 and second.source == "stored" and second.password.verify(shown[0])
    assert second.session_key == first.session_key and len(first.session_key) == 32
    assert kv.values[SESSION_KEY] == first.session_key.hex()


async def test_the_configured_password_wins_and_nothing_is_announced() -> None:
    kv, shown = MemoryKv(), []
    credentials = await load_credentials(kv, PASSWORD, shown.append)
    assert shown == [] and credentials.source == "environment" and credentials.password is PASSWORD
    assert PASSWORD_KEY not in kv.values
