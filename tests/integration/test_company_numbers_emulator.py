"""Company numbers against the emulator (review of issue 3, finding 2): an admin reads the account's
numbers, a normal user is refused them and reads the company directory instead (the rules'
``company_numbers`` and the pacing of the directory: tests/unit/test_company_numbers.py)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from pipeline_fakes import VACATION_TOML, FakeBook, emulator_client, envelope

from rcinbox.clock import SYSTEM
from rcinbox.emulator.runner import Running
from rcinbox.events import InboundMessage
from rcinbox.platform.client import ACCOUNT_NUMBERS
from rcinbox.rules.config import parse_rules
from rcinbox.service.own_numbers import NumberBook
from rcinbox.service.pipeline import Pipeline
from rcinbox.store import Store


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
