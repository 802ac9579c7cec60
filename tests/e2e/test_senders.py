"""Replies for another user's extension go out under that user's own credential
(``RCINBOX_SENDER_JWTS``), never under the super admin's: the emulator refuses it like the
platform; without a credential the reply is recorded as suppressed ``no-sender-credential``; a
credential of the wrong user stops the start with a clear error."""

from __future__ import annotations

import asyncio
import logging
import stat
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from pipeline_fakes import FakePlatform
from service_kit import always_away
from transport_kit import inject, login_api

from rcinbox.emulator.runner import Running, free_port
from rcinbox.errors import ConfigError
from rcinbox.events import InboundMessage
from rcinbox.platform.retry import RetryPolicy
from rcinbox.rules.config import Rules, load_rules
from rcinbox.rules.decide import Facts, decide
from rcinbox.service.app import Service, Tuning
from rcinbox.service.outbox import Outbox, OutboxOptions
from rcinbox.service.senders import Senders
from rcinbox.settings import SenderJwts, Settings
from rcinbox.store import ArchiveEntry, DecisionRecord, Store
from rcinbox.transports.websocket import ReconnectPolicy

ALEX_EXT, BLAIR_EXT = "62264425016", "62264426016"
ALEX, BLAIR = "+16505550100", "+16505550102"
CHARLIE, FRANKIE = "+14155550100", "+14155550110"
RULES = always_away("Auto-reply: Hi {first_name}, I'm away for a while.")
TUNING = Tuning(
    websocket=ReconnectPolicy(base_delay=0.05, max_delay=0.2, jitter=0.0), rules_check_interval=0.1
)
WITHIN = 10.0


def jwt_of(emu: Running, ext_id: str) -> str:
    return next(ext.jwt for ext in emu.world.extensions if str(ext.id) == ext_id)


def settings_for(emu: Running, tmp_path: Path, sender_jwts: str = "") -> Settings:
    rules = tmp_path / "rcinbox.toml"
    rules.write_text(RULES)
    world = emu.world
    return Settings.from_env(
        {
            "RC_SERVER_URL": emu.url,
            "RC_APP_CLIENT_ID": world.app.client_id,
            "RC_APP_CLIENT_SECRET": world.app.client_secret,
            "RC_USER_JWT": jwt_of(emu, ALEX_EXT),
            "RCINBOX_EXTENSIONS": f"{ALEX_EXT},{BLAIR_EXT}",
            "RCINBOX_SENDER_JWTS": sender_jwts,
            "RCINBOX_PORT": str(free_port()),
            "RCINBOX_DATA_DIR": str(tmp_path / "data"),
            "RCINBOX_RULES": str(rules),
        },
        env_file=None,
    )


@pytest.fixture
async def running(emu: Running) -> AsyncIterator[Any]:
    """Runs a service for the block: ``async with running(settings) as service``."""
    stack: list[tuple[asyncio.Event, asyncio.Task[None]]] = []

    class Run:
        def __init__(self, settings: Settings) -> None:
            self.settings = settings
            self.opened = Service.open(settings, TUNING)

        async def __aenter__(self) -> Service:
            service = await self.opened.__aenter__()
            stop = asyncio.Event()
            stack.append((stop, asyncio.create_task(service.run(stop), name="test.service")))
            await service.board.wait_until(lambda s: s.ready, within=WITHIN)
            return service

        async def __aexit__(self, *exc: object) -> None:
            stop, task = stack.pop()
            stop.set()
            await asyncio.wait_for(task, WITHIN)
            await self.opened.__aexit__(None, None, None)

    yield Run


async def settled(service: Service, message_id: str) -> ArchiveEntry:
    """The message's archive entry once it is decided and, for a reply, the outbox is done."""
    found: list[ArchiveEntry] = []

    async def done() -> bool:
        found[:] = [e for e in await service.store.recent() if e.message_id == message_id]
        if not found or found[0].action is None:
            return False
        return found[0].action != "reply" or found[0].reply_state in ("sent", "failed")

    async with asyncio.timeout(WITHIN):
        while not await done():  # either loop may make the last step: wait on both signals
            pipeline = asyncio.create_task(service.pipeline.changes.until(done, WITHIN))
            outbox = asyncio.create_task(service.outbox.changes.until(done, WITHIN))
            await asyncio.wait((pipeline, outbox), return_when=asyncio.FIRST_COMPLETED)
            for waiter in (pipeline, outbox):
                waiter.cancel()
            await asyncio.gather(pipeline, outbox, return_exceptions=True)
    return found[0]


async def outbound(http: httpx.AsyncClient) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = (await http.get("/_emulator/outbound")).json()["records"]
    return records


# ---- the service against the emulator ----


async def test_each_extension_is_answered_with_its_own_credential(
    emu: Running, http: httpx.AsyncClient, running: Any, tmp_path: Path
) -> None:
    settings = settings_for(emu, tmp_path, f"{BLAIR_EXT}={jwt_of(emu, BLAIR_EXT)}")
    async with running(settings) as service:
        to_blair = await inject(http, BLAIR, "Are you around on Friday?", sender=FRANKIE)
        to_alex = await inject(http, ALEX, "Are you in the office tomorrow?", sender=CHARLIE)
        blair = await settled(service, str(to_blair["messageId"]))
        alex = await settled(service, str(to_alex["messageId"]))
    sent = {r["to"][0]: (r["extensionId"], r["from"], r["text"]) for r in await outbound(http)}
    assert sent == {
        FRANKIE: (int(BLAIR_EXT), BLAIR, "Auto-reply: Hi Frankie, I'm away for a while."),
        CHARLIE: (int(ALEX_EXT), ALEX, "Auto-reply: Hi Charlie, I'm away for a while."),
    }
    assert [(e.extension_id, e.reason, e.reply_state) for e in (blair, alex)] == [
        (BLAIR_EXT, "replied", "sent"),
        (ALEX_EXT, "replied", "sent"),
    ]
    token_file = settings.sender_token_file(BLAIR_EXT)
    assert token_file.name == f"tokens-{BLAIR_EXT}.json"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert BLAIR_EXT in token_file.read_text() and jwt_of(emu, BLAIR_EXT) not in token_file.read_text()
    owners = sorted(str(s.extension_id) for s in emu.world.sessions.values())
    assert owners == [ALEX_EXT, BLAIR_EXT]  # one session each


async def test_restart_reuses_the_sender_session(emu: Running, running: Any, tmp_path: Path) -> None:
    settings = settings_for(emu, tmp_path, f"{BLAIR_EXT}={jwt_of(emu, BLAIR_EXT)}")
    for _ in range(2):
        async with running(settings) as service:
            assert service.outbox.senders is not None
            assert sorted(service.outbox.senders.others) == [BLAIR_EXT]
    assert len(emu.world.sessions) == 2  # the second start logged in neither user again


async def test_without_a_sender_credential_the_reply_is_recorded_as_not_possible(
    emu: Running, http: httpx.AsyncClient, running: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with running(settings_for(emu, tmp_path)) as service:
        to_blair = await inject(http, BLAIR, "Are you around on Friday?", sender=FRANKIE)
        to_alex = await inject(http, ALEX, "Are you in the office tomorrow?", sender=CHARLIE)
        blair = await settled(service, str(to_blair["messageId"]))
        alex = await settled(service, str(to_alex["messageId"]))
        decision = await service.store.decision(blair.pk)
    assert (blair.extension_id, blair.text, blair.action, blair.reason, blair.reply_state) == (
        BLAIR_EXT,
        "Are you around on Friday?",
        "suppress",
        "no-sender-credential",
        None,
    )
    assert decision is not None and decision.facts["can_send"] is False
    assert (decision.reply_text, decision.reply_from) == (None, None)
    assert (alex.reason, alex.reply_state) == ("replied", "sent")
    assert [(r["to"], r["from"]) for r in await outbound(http)] == [([CHARLIE], ALEX)]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    about_blair = [w for w in warnings if "RCINBOX_SENDER_JWTS" in w]
    assert len(about_blair) == 1
    assert about_blair[0].startswith(f"replies for extension {BLAIR_EXT} need RCINBOX_SENDER_JWTS")
    assert ALEX_EXT not in about_blair[0]


async def test_a_sender_jwt_of_another_user_stops_the_start(emu: Running, tmp_path: Path) -> None:
    wrong = settings_for(emu, tmp_path, f"{BLAIR_EXT}={jwt_of(emu, ALEX_EXT)}")
    with pytest.raises(ConfigError) as refused:
        async with Service.open(wrong, TUNING):
            pass
    assert str(refused.value) == (
        f"RCINBOX_SENDER_JWTS: the JWT given for extension {BLAIR_EXT} logs in as extension "
        f"{ALEX_EXT}; give the JWT of extension {BLAIR_EXT}'s own user"
    )


async def test_a_refused_sender_jwt_stops_the_start_without_echoing_it(emu: Running, tmp_path: Path) -> None:
    bogus = "eyJhbGciOiJFUzI1NiJ9.not-a-real-user-jwt"
    with pytest.raises(ConfigError) as refused:
        async with Service.open(settings_for(emu, tmp_path, f"{BLAIR_EXT}={bogus}"), TUNING):
            pass
    message = str(refused.value)
    assert message.startswith(f"RCINBOX_SENDER_JWTS: the JWT for extension {BLAIR_EXT} was refused")
    assert message.endswith("give that user's own, valid JWT")
    assert bogus not in message


# ---- the emulator refuses what the platform refuses ----


async def test_emulator_refuses_a_super_admin_sending_for_another_extension(
    emu: Running, http: httpx.AsyncClient
) -> None:
    admin = await login_api(http, emu, ext_index=0)
    blair = await login_api(http, emu, ext_index=1)
    body = {"from": {"phoneNumber": BLAIR}, "to": [{"phoneNumber": FRANKIE}], "text": "hello"}
    base = "/restapi/v1.0/account/~/extension"
    by_path = await http.post(f"{base}/{BLAIR_EXT}/sms", json=body, headers=admin.headers)
    by_number = await http.post(f"{base}/~/sms", json=body, headers=admin.headers)
    own = await http.post(f"{base}/~/sms", json=body, headers=blair.headers)
    assert by_path.status_code == 403
    assert by_path.json()["errorCode"] == "CMN-419"
    assert "[OutboundSMS]" in by_path.json()["message"]
    assert (by_number.status_code, by_number.json()["errorCode"]) == (403, "MSG-304")
    assert own.status_code == 200
    assert [(r["extensionId"], r["from"]) for r in await outbound(http)] == [(int(BLAIR_EXT), BLAIR)]


# ---- settings ----

CREDS = {"RC_APP_CLIENT_ID": "id", "RC_APP_CLIENT_SECRET": "secret-value", "RC_USER_JWT": "main.jwt.x"}
SECRET = "eyJhbGciOi.SENDERbody.sig"


def test_sender_jwts_are_parsed_and_masked() -> None:
    env = {**CREDS, "RCINBOX_EXTENSIONS": "101,102,103", "RCINBOX_SENDER_JWTS": f" 102={SECRET} ,103=a.b=c,"}
    s = Settings.from_env(env, env_file=None)
    assert s.sender_jwts == SenderJwts((("102", SECRET), ("103", "a.b=c")))
    assert (s.sender_jwts.get("102"), s.sender_jwts.get("101")) == (SECRET, None)
    assert "sender_jwts=SenderJwts(102=***, 103=***)" in repr(s)
    assert SECRET not in repr(s) and SECRET not in str(s)
    assert s.sender_token_file("102") == Path("rcinbox-data/tokens-102.json")
    assert not Settings.from_env(CREDS, env_file=None).sender_jwts


def test_sender_jwts_flag_overrides_the_environment() -> None:
    env = {**CREDS, "RCINBOX_EXTENSIONS": "101,102", "RCINBOX_SENDER_JWTS": "102=old.jwt"}
    s = Settings.from_env(env, env_file=None, sender_jwts=f"102={SECRET}")
    assert s.sender_jwts.get("102") == SECRET


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (SECRET, "RCINBOX_SENDER_JWTS entry 1 must be extensionId=JWT"),
        (f"102={SECRET},103=", "RCINBOX_SENDER_JWTS entry 2 must be extensionId=JWT"),
        (f"ext102={SECRET}", "RCINBOX_SENDER_JWTS entry 1 must start with a numeric extension id"),
        (f"102={SECRET},102={SECRET}", "RCINBOX_SENDER_JWTS gives extension 102 twice"),
        (
            f"104={SECRET}",
            "RCINBOX_SENDER_JWTS names extension(s) 104 not in RCINBOX_EXTENSIONS: "
            "a sender credential is only used for an extension rcinbox receives for",
        ),
    ],
)
def test_bad_sender_jwts_name_the_variable_not_the_secret(value: str, expected: str) -> None:
    with pytest.raises(ConfigError) as refused:
        Settings.from_env(
            {**CREDS, "RCINBOX_EXTENSIONS": "101,102", "RCINBOX_SENDER_JWTS": value}, env_file=None
        )
    assert str(refused.value) == expected
    assert "SENDERbody" not in str(refused.value)


def test_bad_sender_jwts_flag_names_the_flag() -> None:
    with pytest.raises(ConfigError) as refused:
        Settings.from_env({**CREDS, "RCINBOX_EXTENSIONS": "101,102"}, env_file=None, sender_jwts=SECRET)
    assert str(refused.value) == "--sender-jwts entry 1 must be extensionId=JWT"


# ---- the decision and the outbox ----


def rules(tmp_path: Path) -> Rules:
    path = tmp_path / "rules.toml"
    path.write_text(RULES)
    return load_rules(path)


def facts(text: str, *, can_send: bool, is_contact: bool = True) -> Facts:
    message = InboundMessage.from_notification(
        {
            "uuid": "u",
            "event": f"/restapi/v1.0/account/1/extension/{BLAIR_EXT}/message-store/instant?type=SMS",
            "body": {
                "id": "42",
                "to": [{"phoneNumber": BLAIR, "target": True}],
                "from": {"phoneNumber": FRANKIE},
                "creationTime": "2026-11-27T16:00:00.000Z",
                "subject": text,
            },
        },
        "websocket",
    )
    return Facts(
        message=message,
        now=datetime(2026, 11, 27, 16, tzinfo=UTC),
        owner_numbers=frozenset({BLAIR}),
        company_numbers=frozenset({ALEX}),
        contact_name="Frankie" if is_contact else None,
        is_contact=is_contact,
        opted_out=False,
        replied_to_message=False,
        automated_count_24h=0,
        can_send=can_send,
    )


def test_decide_says_no_sender_credential_only_where_it_would_reply(tmp_path: Path) -> None:
    current = rules(tmp_path)
    would_reply = decide(facts("Lunch on Friday?", can_send=True), current)
    assert (would_reply.action, would_reply.reply_from) == ("reply", BLAIR)
    cannot = decide(facts("Lunch on Friday?", can_send=False), current)
    assert (cannot.action, cannot.reason, cannot.reply_text) == ("suppress", "no-sender-credential", None)
    stranger = decide(facts("Lunch on Friday?", can_send=False, is_contact=False), current)
    assert stranger.reason == "not-a-contact"  # every other reason still wins
    stop = decide(facts("STOP", can_send=False), current)
    assert (stop.action, stop.reason) == ("opt-out", "opt-out")  # opt-outs are recorded regardless


FAST = OutboxOptions(retry=RetryPolicy(attempts=2, base_delay=0.01, max_delay=0.05, jitter=0))


async def queue_reply_for_blair(store: Store) -> int:
    """Frankie's text to Blair, archived and decided "reply" (the row is queued); its pk."""
    assert await store.accept(facts("Lunch on Friday?", can_send=True).message)
    stored = await store.find_message(BLAIR_EXT, "42")
    assert stored is not None
    reply = DecisionRecord(
        "reply", "replied", "vacation", {}, reply_text="Away", reply_from=BLAIR, reply_to=FRANKIE
    )
    assert await store.conclude(stored.pk, reply)
    return stored.pk


async def test_outbox_fails_a_queued_reply_no_credential_may_send(tmp_path: Path) -> None:
    """A reply queued before the credential was removed fails clearly instead of earning a 403."""
    async with await Store.open(f"sqlite+aiosqlite:///{tmp_path}/rcinbox.db") as store:
        pk = await queue_reply_for_blair(store)
        fake = FakePlatform()
        outbox = Outbox(store, fake, options=FAST, senders=Senders(own=ALEX_EXT))
        assert await outbox.drain() == 1
        row = await store.outbox.for_message(pk)
    assert row is not None
    assert (row.state, row.last_error) == (
        "failed",
        f"no-sender-credential: no credential may send for extension {BLAIR_EXT}",
    )
    assert fake.send_calls == 0


async def test_outbox_sends_each_row_with_its_extensions_client(tmp_path: Path) -> None:
    async with await Store.open(f"sqlite+aiosqlite:///{tmp_path}/rcinbox.db") as store:
        pk = await queue_reply_for_blair(store)
        admin, blair = FakePlatform(), FakePlatform()
        outbox = Outbox(store, admin, options=FAST, senders=Senders(ALEX_EXT, {BLAIR_EXT: blair}))
        assert await outbox.drain() == 1
        row = await store.outbox.for_message(pk)
    assert row is not None and row.state == "sent"
    assert (admin.send_calls, blair.send_calls) == (0, 1)
    assert [(r["from"]["phoneNumber"], r["subject"]) for r in blair.sent] == [(BLAIR, "Away")]
