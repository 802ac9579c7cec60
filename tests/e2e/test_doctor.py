"""``rcinbox doctor`` against a served emulator: all green; a broken JWT, wrong app credentials, a
missing scope, a number without SmsSender, a missing webhook subscription, a wrong sender JWT, a
rate-limited login, bad rules and an unwritable data directory each give ✘ with a fix line and
exit 1; warnings (http webhook URL, no rules file, no sender JWT) do not; no secret is printed."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from doctor_kit import by_check, example_rules, invoke, settings_for, shown

from rcinbox.cli.doctor import diagnose
from rcinbox.cli.doctor_findings import Finding, healthy
from rcinbox.emulator.runner import Running, free_port
from rcinbox.service.app import Service, Tuning
from rcinbox.settings import SenderJwts
from rcinbox.transports.webhook_subscription import WebhookPolicy

CHECKS = [
    "settings",
    "server",
    "JWT login",
    "scopes",
    "phone numbers",
    "subscription",
    "rules",
    "segment budget",
    "data directory",
]


async def test_all_green_against_the_emulator_and_the_session_is_saved_for_run(
    emu: Running, tmp_path: Path
) -> None:
    findings = await diagnose(settings_for(emu, tmp_path))

    assert [(f.check, f.status) for f in findings] == [(check, "ok") for check in CHECKS]
    found = by_check(findings)
    assert found["JWT login"].detail == (
        f"logged in as ext 101 Alex Morgan (id 62264425016), session saved to "
        f"{tmp_path / 'data' / 'tokens.json'} for `rcinbox run`"
    )
    assert found["scopes"].detail == "ReadAccounts, ReadContacts, ReadMessages, SMS, WebSocketsSubscriptions"
    assert found["phone numbers"].detail == "can send SMS: +16505550100, +16505550101"
    assert "America/New_York" in found["rules"].detail
    assert "at most every 1 week per sender" in found["rules"].detail
    assert found["segment budget"].detail.endswith(
        "GSM-7, 1 segment with a long name (Christopher Richardson-Whitfield)"
    )
    assert healthy(findings)
    assert "✔ JWT login: logged in as ext 101 Alex Morgan" in shown(findings)
    [session] = emu.world.sessions.values()  # one session, kept for `rcinbox run` to continue
    assert not session.revoked and (tmp_path / "data" / "tokens.json").is_file()


async def test_cli_all_good_exits_zero(emu: Running, tmp_path: Path) -> None:
    result = await asyncio.to_thread(invoke, emu, tmp_path)
    assert result.exit_code == 0, result.output
    assert result.output.count("✔") == len(CHECKS)
    assert "✘" not in result.output
    assert result.output.rstrip().endswith("all good")


async def test_cli_broken_jwt_fails_with_a_fix_and_prints_no_secret(emu: Running, tmp_path: Path) -> None:
    bogus = "eyJhbGciOiJFUzI1NiJ9.not-the-right-user-0042"
    result = await asyncio.to_thread(invoke, emu, tmp_path, RC_USER_JWT=bogus)

    assert result.exit_code == 1
    lines = result.output.splitlines()
    failed = lines.index(
        "✘ JWT login: refused: HTTP 400 OAU-140: Invalid resource owner credentials "
        "(POST /restapi/oauth/token)"
    )
    assert lines[failed + 1].startswith("    fix: RC_USER_JWT is invalid, expired or revoked")
    assert "– scopes: not checked: no session" in lines
    assert "not ready: see the fixes above" in lines
    for secret in (bogus, emu.world.app.client_secret, emu.world.extensions[0].jwt):
        assert secret not in result.output
    assert "not-the-right-user" not in result.output


async def test_cli_wrong_client_secret_names_the_app_credentials(emu: Running, tmp_path: Path) -> None:
    result = await asyncio.to_thread(invoke, emu, tmp_path, RC_APP_CLIENT_SECRET="wrong-secret-123456")
    assert result.exit_code == 1
    assert "✘ JWT login: refused: HTTP 401 OAU-153" in result.output
    assert "fix: RC_APP_CLIENT_ID / RC_APP_CLIENT_SECRET are wrong" in result.output
    assert "wrong-secret-123456" not in result.output


async def test_cli_missing_setting_fails_at_once(emu: Running, tmp_path: Path) -> None:
    result = await asyncio.to_thread(invoke, emu, tmp_path, RC_USER_JWT=None)
    assert result.exit_code == 1
    assert result.output.splitlines()[:2] == [
        "✘ settings: missing required setting(s): RC_USER_JWT (environment or .env)",
        "    fix: set it in the environment or in .env (README → Configuration; `rcinbox run --help` lists "
        "every variable)",
    ]


async def test_missing_scope_and_unreachable_server(emu: Running, tmp_path: Path) -> None:
    emu.world.app.scopes = tuple(s for s in emu.world.app.scopes if s not in ("SMS", "ReadContacts"))
    found = by_check(await diagnose(settings_for(emu, tmp_path)))
    assert found["scopes"].status == "fail"
    assert found["scopes"].detail == "the token lacks ReadContacts, SMS"
    assert "add the permission(s) ReadContacts, SMS to the app" in found["scopes"].fix

    gone = settings_for(emu, tmp_path, server_url=f"http://127.0.0.1:{free_port()}")
    findings = await diagnose(gone)
    assert [(f.check, f.status) for f in findings[1:6]] == [
        ("server", "fail"),
        ("JWT login", "skip"),
        ("scopes", "skip"),
        ("phone numbers", "skip"),
        ("subscription", "skip"),
    ]
    assert "check RC_SERVER_URL" in findings[1].fix


async def test_a_user_without_an_sms_number_fails(emu: Running, tmp_path: Path) -> None:
    found = by_check(await diagnose(settings_for(emu, tmp_path, ext=2)))  # ext 103: CallerId only
    numbers = found["phone numbers"]
    assert (numbers.status, numbers.detail) == (
        "fail",
        "can send SMS: none; without SmsSender (received only, never answered from): +16505550103",
    )
    assert "SmsSender" in numbers.fix


async def test_webhook_mode_needs_the_subscription_and_warns_about_http(emu: Running, tmp_path: Path) -> None:
    port = free_port()
    hook = f"http://127.0.0.1:{port}/hooks/rc"
    settings = settings_for(emu, tmp_path, transport="webhook", webhook_url=hook, port=port)

    before = by_check(await diagnose(settings))
    assert before["subscription"].status == "fail"
    assert before["subscription"].detail == f"no WebHook subscription posts to {hook}"
    assert before["webhook URL"].status == "warn"
    assert before["scopes"].detail.endswith("SMS, SubscriptionWebhook")

    async with Service.open(settings, Tuning(webhook=WebhookPolicy(check_interval=0.5))) as service:
        stop = asyncio.Event()
        runner = asyncio.create_task(service.run(stop))
        try:
            await service.board.wait_until(lambda status: status.ready, within=10)
            findings = await diagnose(settings)
        finally:
            stop.set()
            await asyncio.wait_for(runner, 10)
    after = by_check(findings)
    [subscription] = emu.world.subscriptions.values()
    assert after["subscription"].status == "ok"
    assert after["subscription"].detail.startswith(f"{subscription.id} Active until ")
    assert healthy(findings)  # the http:// warning is advice, not a failure


async def test_bad_rules_and_unwritable_data_dir_fail_with_fixes(emu: Running, tmp_path: Path) -> None:
    rules = tmp_path / "rcinbox.toml"
    example = example_rules()
    rules.write_text(example.replace('audience = "contacts"', 'audience = "friends"'))
    line = example.splitlines().index('audience = "contacts"') + 1
    blocked = tmp_path / "a-file"
    blocked.write_text("not a directory")
    found = by_check(await diagnose(settings_for(emu, tmp_path, data_dir=blocked / "data")))

    assert found["rules"].status == "fail"
    assert found["rules"].detail.startswith(f"{rules}:{line}: ")
    assert "audience" in found["rules"].detail
    assert found["rules"].fix.startswith(f"correct line {line} of {rules}")
    assert "segment budget" not in found
    assert found["data directory"].status == "fail"
    assert found["data directory"].fix == (
        f"create {blocked / 'data'} writable by this user, or point RCINBOX_DATA_DIR elsewhere"
    )


async def test_a_missing_rules_file_is_a_warning(emu: Running, tmp_path: Path) -> None:
    findings = await diagnose(settings_for(emu, tmp_path, rules=tmp_path / "nowhere.toml"))
    rules = by_check(findings)["rules"]
    assert (rules.status, rules.detail) == (
        "warn",
        f"no rules file at {tmp_path / 'nowhere.toml'}: "
        "vacation replies are off (messages are still archived)",
    )
    assert healthy(findings)


async def sender_check(emu: Running, tmp_path: Path, pairs: tuple[tuple[str, str], ...]) -> Finding:
    """The sender-credentials finding for Alex (super admin) receiving for himself and Blair."""
    alex, blair = str(emu.world.extensions[0].id), str(emu.world.extensions[1].id)
    settings = settings_for(emu, tmp_path, extensions=(alex, blair), sender_jwts=SenderJwts(pairs))
    found = by_check(await diagnose(settings))
    return found["sender credentials"]


def live_sessions(emu: Running) -> list[int]:
    return sorted(s.extension_id for s in emu.world.sessions.values() if not s.revoked)


async def test_receiving_for_another_extension_without_its_sender_jwt_is_a_warning(
    emu: Running, tmp_path: Path
) -> None:
    missing = await sender_check(emu, tmp_path, ())
    assert (missing.status, missing.detail) == (
        "warn",
        "no sender JWT for extension(s) 62264426016: their messages are archived, replies suppressed "
        "(no-sender-credential)",
    )
    assert "RCINBOX_SENDER_JWTS" in missing.fix


async def test_the_right_sender_jwt_is_accepted(emu: Running, tmp_path: Path) -> None:
    good = await sender_check(emu, tmp_path, (("62264426016", emu.world.extensions[1].jwt),))
    assert (good.status, good.detail) == (
        "ok",
        "replies for extension(s) 62264426016 go out as their own users",
    )
    assert live_sessions(emu) == [62264425016, 62264426016]  # both saved for `rcinbox run`
    assert (tmp_path / "data" / "tokens-62264426016.json").is_file()


async def test_a_sender_jwt_of_another_user_fails(emu: Running, tmp_path: Path) -> None:
    casey_jwt = emu.world.extensions[2].jwt
    wrong = await sender_check(emu, tmp_path, (("62264426016", casey_jwt),))
    assert (wrong.status, wrong.detail) == (
        "fail",
        "the sender JWT given for extension 62264426016 logs in as extension 62264427016",
    )
    assert casey_jwt not in shown([wrong])
    assert live_sessions(emu) == [62264425016]  # Casey's session was revoked, not saved for Blair
    assert not (tmp_path / "data" / "tokens-62264426016.json").exists()


async def test_a_rate_limited_login_is_reported_at_once_not_waited_out(
    emu: Running, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    world = emu.world
    form = {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": world.extensions[0].jwt}
    for _ in range(5):  # RingCentral's Auth group: 5 requests per user per minute
        answer = await http.post(
            "/restapi/oauth/token", data=form, auth=(world.app.client_id, world.app.client_secret)
        )
        assert answer.status_code == 200
    async with asyncio.timeout(10):  # the 60 s penalty is reported, not slept through
        found = by_check(await diagnose(settings_for(emu, tmp_path)))
    assert found["JWT login"].status == "fail"
    assert found["JWT login"].detail.startswith("rate-limited by RingCentral: HTTP 429 CMN-301")
    assert found["JWT login"].fix.endswith("wait 60 s, then run the doctor again")
