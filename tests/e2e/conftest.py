"""Fixtures of the end-to-end suite: every test runs once per transport (WebSocket and WebHook)
against a fresh emulator, with its own data directory, SQLite archive, rules file and clock."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from e2e_kit import TRANSPORTS, Harness, TransportName

from rcinbox.emulator.runner import Running


@pytest.fixture(params=TRANSPORTS)
def transport(request: pytest.FixtureRequest) -> TransportName:
    name: TransportName = request.param
    return name


@pytest.fixture
def e2e(emu: Running, http: httpx.AsyncClient, tmp_path: Path, transport: TransportName) -> Harness:
    """The harness: ``async with e2e.running(rules_toml(...)) as live:`` runs the whole service."""
    return Harness(emu, http, tmp_path, transport)
