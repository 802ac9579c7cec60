"""An archive in the test's temporary directory: its URL (``db_url``, for a test that opens and
closes the store itself, e.g. across a simulated restart) and the ``store`` fixture, open for the
test (registered for every folder by ``pytest_plugins`` in tests/conftest.py; a module that
needs another store, e.g. on a fake clock, defines its own ``store`` fixture, which wins)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from rcinbox.store import Store


def db_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path}/db/rcinbox.db"


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    async with await Store.open(db_url(tmp_path)) as opened:
        yield opened
