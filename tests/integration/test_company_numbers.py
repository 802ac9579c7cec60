"""Company numbers (review of issue 3, finding 2): ``[contacts] company_numbers`` in the rules, and
the company directory when a normal user may not list the account's numbers."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
from pipeline_fakes import VACATION_TOML, FakeBook, FakePlatform, emulator_client, envelope

from rcinbox.clock import SYSTEM, FakeClock
from rcinbox.emulator.runner import Running
from rcinbox.errors import RulesError
from rcinbox.events import InboundMessage
from rcinbox.platform.client import ACCOUNT_NUMBERS
from rcinbox.platform.pacing import Pacer, group_for
from rcinbox.rules.config import parse_rules
from rcinbox.service.own_numbers import NumberBook
from rcinbox.service.pipeline import Pipeline
from rcinbox.store import Store

COMPANY = VACATION_TOML + '\n[contacts]\ncompany_numbers = ["(800) 555-0199", "+1 650 555 0177"]\n'


def test_company_numbers_are_read_in_e164_and_a_bad_one_is_refused_with_its_line() -> None:
    rules = parse_rules(COMPANY)
    assert rules.contacts.company_numbers == frozenset({"+18005550199", "+16505550177"})
    assert parse_rules(VACATION_TOML).contacts.company_numbers == frozenset()
    bad = (
        VACATION_TOML
        + '\n[contacts]\nallowlist = []\ncompany_numbers = [\n  "+18005550199",\n  "front desk",\n]\n'
    )
    with pytest.raises(RulesError) as info:
        parse_rules(bad, "rcinbox.toml")
    line = bad.splitlines().index('  "front desk",') + 1
    assert (
        str(info.value)
        == f"rcinbox.toml:{line}: contacts.company_numbers: 'front desk' is not a valid phone number"
    )


async def test_configured_company_numbers_get_no_reply(tmp_path: Path) -> None:
    rules = parse_rules(COMPANY)
    async with await Store.open(f"sqlite+aiosqlite:///{tmp_path}/rcinbox.db") as store:
        pipeline = Pipeline(store, FakePlatform(), lambda: rules, {"62264425016": FakeBook()}, tmp_path)
        for message_id, sender in (("700", "+18005550199"), ("701", "+16505550177"), ("702", "+14155550100")):
            msg = InboundMessage.from_notification(envelope(message_id=message_id, sender=sender), "webhook")
            await pipeline.accept(msg)
        await pipeline.drain()
        entries = sorted(await store.recent(), key=lambda e: e.message_id)
    assert [(e.message_id, e.reason) for e in entries] == [
        ("700", "company-number"),
        ("701", "company-number"),
        ("702", "replied"),
    ]


async def test_a_normal_user_learns_colleagues_and_the_main_number_from_the_directory(
    emu: Running, tmp_path: Path
) -> None:
    blair = emu.world.extensions[1]
    assert not blair.super_admin
    async with emulator_client(emu, tmp_path, ext_index=1) as client:
        book = NumberBook(client, [str(blair.id)], SYSTEM)
        numbers = await book.for_extension(str(blair.id))
    assert numbers.owner == frozenset({"+16505550102"})
    assert {"+16505550000", "+16505550100", "+16505550101", "+16505550103"} <= numbers.company


def test_the_directory_is_paced_as_medium_and_an_answer_naming_another_group_unblocks_it() -> None:
    assert group_for("GET", "https://x/restapi/v1.0/account/~/directory/entries") == "Medium"
    pacer = Pacer(FakeClock())
    ticket = asyncio.run(pacer.acquire("Light"))  # guessed Light, the answer says Medium
    headers = {
        "x-rate-limit-group": "medium",
        "x-rate-limit-limit": "40",
        "x-rate-limit-remaining": "39",
        "x-rate-limit-window": "60",
    }
    pacer.release("Light", ticket, headers)
    assert pacer.wait_time("Medium") == 0.0  # not "probing alone" forever


async def test_an_admin_reads_the_account_numbers_without_a_404_and_texts_from_them_get_no_reply(
    emu: Running, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    alex = emu.world.extensions[0]
    assert alex.super_admin
    async with (
        emulator_client(emu, tmp_path) as client,
        await Store.open(f"sqlite+aiosqlite:///{tmp_path}/rcinbox.db") as store,
    ):
        pipeline = Pipeline(
            store, client, lambda: parse_rules(VACATION_TOML), {str(alex.id): FakeBook()}, tmp_path
        )
        main_number = envelope(message_id="710", sender="+16505550000", ext=str(alex.id))
        await pipeline.accept(InboundMessage.from_notification(main_number, "webhook"))
        await pipeline.drain()
        [entry] = await store.recent()
    assert (entry.message_id, entry.reason) == ("710", "company-number")
    lines = [record.getMessage() for record in caplog.records]
    assert f"HTTP GET {ACCOUNT_NUMBERS} -> 200  (ext {alex.id}, " in "\n".join(lines)
    assert not [line for line in lines if "CMN-120" in line or " -> 404" in line]
    actions = {getattr(record, "action", None) for record in caplog.records}
    assert not actions & {"numbers.directory", "numbers.unavailable"}  # no fallback needed


async def test_a_normal_user_is_refused_the_account_numbers_and_reads_the_directory(
    emu: Running, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    blair = emu.world.extensions[1]
    async with emulator_client(emu, tmp_path, ext_index=1) as client:
        numbers = await NumberBook(client, [str(blair.id)], SYSTEM).for_extension(str(blair.id))
    assert "+16505550000" in numbers.company
    [fallback] = [r for r in caplog.records if getattr(r, "action", None) == "numbers.directory"]
    assert "403 CMN-408" in fallback.getMessage()
    assert not [r for r in caplog.records if "CMN-120" in r.getMessage()]
