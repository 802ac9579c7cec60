"""``rcinbox demo``: the scripted conversation against the bundled emulator, over both transports;
the CLI's ``--once`` exit status; serving on after the table; the demo directory's safety."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import io
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

import httpx
import pytest
from rich.console import Console

from rcinbox.cli.demo import MARKER, DemoError, DemoOptions, demo, fresh_dir
from rcinbox.cli.demo_script import SCRIPT, Outcome, table, tiny_png
from rcinbox.datalock import LOCK_NAME
from rcinbox.rules import budget_warnings, load_rules
from rcinbox.store import Store

EXPECTED = [
    ("+14155550100", "reply", "replied"),
    ("+14155550100", "suppress", "already-replied"),
    ("+12125550199", "suppress", "not-a-contact"),
    ("+14155550101", "opt-out", "opt-out"),
    ("+14155550102", "reply", "replied"),
    ("+14155550103", "suppress", "group-message"),
    ("72345", "suppress", "short-code"),
    ("+14155550100", "reply", "replied"),  # urgent: its own reply, and one escalation
    ("+14155550102", "suppress", "no-reply-needed"),  # thanks
]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def console() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, width=220, highlight=False, color_system=None), out


def reply_for(first_name: str) -> str:
    """The demo reply, computed independently of rcinbox's template code."""
    back = datetime.now(ZoneInfo("America/New_York")).date() + timedelta(days=6)
    return (
        f"Auto-reply: Hi {first_name}, I'm out of the office until {back:%A}, {back:%B} {back.day}. "
        "For anything urgent please call Blair at +16505550102."
    )


def urgent_for(first_name: str) -> str:
    back = datetime.now(ZoneInfo("America/New_York")).date() + timedelta(days=6)
    return (
        f"Auto-reply: Hi {first_name}, I'm away until {back:%A}, {back:%B} {back.day}. "
        "Urgent? Call Blair now at +16505550102."
    )


@pytest.mark.parametrize("transport", ["websocket", "webhook"])
async def test_demo_plays_the_script_and_every_decision_is_the_expected_one(
    tmp_path: Path, transport: Literal["websocket", "webhook"]
) -> None:
    shown, out = console()
    data_dir = tmp_path / "demo"
    options = DemoOptions(once=True, transport=transport, data_dir=data_dir)

    outcomes = await asyncio.wait_for(demo(options, shown), 60)

    assert [(o.step.sender, o.action, o.reason) for o in outcomes] == EXPECTED
    assert all(o.ok for o in outcomes)
    replies = [o.reply for o in outcomes]
    assert replies == [
        reply_for("Charlie"),
        None,
        None,
        None,
        reply_for("Eli"),
        None,
        None,
        urgent_for("Charlie"),
        None,
    ]
    assert [o.intent for o in outcomes][-2:] == ["urgent", "thanks"]
    assert [o.escalated_to for o in outcomes] == [None] * 7 + ["+16505550102", None]
    photo = hashlib.sha256(tiny_png()).hexdigest()
    assert [o.sha256 for o in outcomes] == [None, None, None, None, photo, None, None, None, None]
    [stored] = list((data_dir / "attachments").rglob("*.png"))
    assert stored.read_bytes() == tiny_png()
    text = out.getvalue()
    assert "9 of 9 decisions as expected" in text
    assert f"MMS photo of #5 stored with SHA-256 {photo}" in text
    for reason in ("already-replied", "not-a-contact", "opt-out", "group-message", "short-code"):
        assert reason in text
    assert "curl" not in text  # with once, nothing is left serving to try it on
    async with await Store.open(f"sqlite+aiosqlite:///{data_dir / 'rcinbox.db'}") as store:
        archived = await store.recent()
    assert [(e.action, e.reason) for e in reversed(archived)] == [(a, r) for _, a, r in EXPECTED]


def test_demo_rules_reply_fits_one_segment_and_the_photo_is_a_png(tmp_path: Path) -> None:
    from rcinbox.cli.demo_script import demo_rules

    rules_file = tmp_path / "rcinbox.toml"
    rules_file.write_text(demo_rules(datetime.now(UTC)))
    rules = load_rules(rules_file)
    assert rules.vacation.active(datetime.now(UTC))
    assert rules.vacation.timezone.key == "America/New_York"
    assert rules.vacation.repeat_after == timedelta(days=7)
    assert budget_warnings(rules) == []
    png = tiny_png()
    assert png.startswith(PNG_SIGNATURE) and png.endswith(b"IEND\xaeB`\x82")


def test_an_outcome_with_another_decision_is_not_ok() -> None:
    step = SCRIPT[0]
    good = Outcome(1, step, "1", "reply", "replied", reply="Auto-reply: hi")
    assert good.ok
    assert not Outcome(1, step, "1", "suppress", "not-a-contact").ok
    assert not Outcome(1, step, "1", "reply", "replied", reply=None).ok  # decided but never sent
    assert not Outcome(1, step, "1").ok  # no decision in time
    photo = SCRIPT[4]
    assert not Outcome(
        5, photo, "5", "reply", "replied", reply="x", sha256="0" * 64, expected_sha256="1" * 64
    ).ok


def test_the_cli_demo_once_exits_zero_with_the_table(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "rcinbox", "demo", "--once", "--data-dir", str(tmp_path / "demo")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=90,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "200", "HOME": str(tmp_path)},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "9 of 9 decisions as expected" in done.stdout
    assert "already-replied" in done.stdout
    assert "curl" not in done.stdout  # nothing is left serving to try it on


def test_the_cli_refuses_an_unknown_transport(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "rcinbox", "demo", "--once", "--transport", "carrier-pigeon"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2
    assert "--transport must be websocket or webhook, got 'carrier-pigeon'" in done.stderr


async def test_without_once_the_demo_keeps_serving_and_the_printed_curl_works(tmp_path: Path) -> None:
    shown, out = console()
    stop, serving = asyncio.Event(), asyncio.get_running_loop().create_future()
    task = asyncio.create_task(demo(DemoOptions(data_dir=tmp_path / "demo"), shown, stop, serving))
    await asyncio.wait({task, serving}, timeout=60, return_when=asyncio.FIRST_COMPLETED)
    assert serving.done() and not task.done(), out.getvalue()
    box = serving.result().world.mailbox
    match = re.search(
        r"curl -s -X POST (http://127\.0\.0\.1:\d+)/_emulator/inbound .* -d '(.*)'", out.getvalue()
    )
    assert match is not None, out.getvalue()
    emulator, body = match.group(1), match.group(2)
    async with httpx.AsyncClient(base_url=emulator, timeout=5) as http:
        injected = await http.post(
            "/_emulator/inbound", content=body, headers={"Content-Type": "application/json"}
        )
        assert injected.status_code == 200
        await box.outbound_changed.until(
            lambda: any(m.to_numbers == ["+14155550111"] for m in box.outbound), 15
        )
        records = (await http.get("/_emulator/outbound")).json()["records"]
        mine = [r for r in records if r["to"] == ["+14155550111"]]
    assert mine[0]["text"].startswith("Auto-reply: Hi, I'm out of the office until ")
    assert not task.done()
    dashboard = re.search(
        r"Dashboard: (http://127\.0\.0\.1:\d+)(/conversations)  \(password (\S+)\)", out.getvalue()
    )
    assert dashboard is not None, out.getvalue()
    async with httpx.AsyncClient(base_url=dashboard.group(1), timeout=5) as http:
        asked = await http.get(dashboard.group(2))  # the printed address: sign in first, then back there
        assert asked.status_code == 303 and asked.headers["location"].startswith("/signin?next=")
        form = await http.get(asked.headers["location"])
        csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
        nxt = re.search(r'name="next" value="([^"]+)"', form.text)
        assert csrf is not None and nxt is not None
        signed_in = await http.post(
            "/signin", data={"csrf": csrf.group(1), "password": dashboard.group(3), "next": nxt.group(1)}
        )
        assert signed_in.status_code == 303 and signed_in.headers["location"] == "/conversations"
        opened = (await http.get("/conversations")).text
        for name in ("Charlie", "Eli"):  # the scripted conversation's counterparts
            assert name in opened
        assert "Vacation reply is ON" in (await http.get("/")).text
    stop.set()
    outcomes = await asyncio.wait_for(task, 20)
    assert len(outcomes) == len(EXPECTED)


def test_the_demo_directory_is_wiped_only_when_the_demo_made_it(tmp_path: Path) -> None:
    with fresh_dir(tmp_path / "demo") as mine:
        (mine / "old.db").write_bytes(b"previous run")
    with fresh_dir(tmp_path / "demo") as again:
        assert sorted(p.name for p in again.iterdir()) == [MARKER, LOCK_NAME]

    foreign = tmp_path / "important"
    foreign.mkdir()
    (foreign / "thesis.tex").write_text("do not delete")
    with pytest.raises(DemoError, match="is not a demo directory"), fresh_dir(foreign):
        pass
    assert (foreign / "thesis.tex").read_text() == "do not delete"


@pytest.mark.parametrize("width", [80, 160])
def test_the_table_fits_the_terminal_and_flags_a_wrong_decision(width: int) -> None:
    outcomes = [
        Outcome(
            n,
            step,
            str(n),
            step.action,
            step.reason,
            reply="Auto-reply: hi",
            intent=step.intent,
            escalated_to="+16505550102" if step.escalates else None,
        )
        for n, step in enumerate(SCRIPT, start=1)
    ]
    outcomes[2] = Outcome(3, SCRIPT[2], "3", "reply", "replied", reply="Auto-reply: hi")
    out = io.StringIO()
    Console(file=out, width=width, color_system=None).print(table(outcomes, width))
    lines = out.getvalue().splitlines()
    assert max(len(line) for line in lines) <= width
    text = out.getvalue()
    assert "✘ expected suppress/not-a-contact" in text
    for reason in ("already-replied", "opt-out", "group-message", "short-code"):
        assert reason in text
    assert text.count("✔") == len(SCRIPT) - 1


@pytest.mark.parametrize("width", [80, 160])
def test_the_table_shows_the_intent_and_the_escalation(width: int) -> None:
    from rcinbox.cli.demo_script import BACKUP_NUMBER

    steps = SCRIPT
    outcomes = [
        Outcome(
            n,
            step,
            str(n),
            step.action,
            step.reason,
            reply="Auto-reply: hi" if step.action == "reply" else None,
            intent=step.intent or "other",
            escalated_to=BACKUP_NUMBER if step.escalates else None,
        )
        for n, step in enumerate(steps, start=1)
    ]
    out = io.StringIO()
    Console(file=out, width=width, color_system=None).print(table(outcomes, width))
    text = out.getvalue()
    assert max(len(line) for line in text.splitlines()) <= width
    assert text.count("✔") == len(steps)
    assert "urgent" in text and "thanks" in text and f"+ escalated to {BACKUP_NUMBER}" in text
    wrong = dataclasses.replace(outcomes[-2], escalated_to=None)  # the escalation is part of the check
    assert not wrong.ok


def test_the_demo_rules_answer_urgent_and_appointment_and_escalate_to_blair() -> None:
    from rcinbox.cli.demo_script import BACKUP_NUMBER, demo_rules
    from rcinbox.rules import parse_rules

    smart = parse_rules(demo_rules(datetime.now(UTC))).smart
    assert smart.enabled and smart.escalate_to == BACKUP_NUMBER
    assert set(smart.replies) == {"urgent", "appointment", "thanks"} and smart.replies["thanks"] == ""
