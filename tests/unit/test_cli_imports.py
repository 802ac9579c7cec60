"""Each ``rcinbox`` command loads only what it needs (issue 9: ``rcinbox --help`` and ``rcinbox
messages`` start quickly, ``rcinbox run`` stays small). Each case runs the command in a fresh
interpreter and lists the modules it loaded: a stray top-level import (an HTTP client, the
service, the emulator) fails here, whatever the machine's speed. The timings themselves are the
footprint benchmark's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from messages_cli_kit import archive

# What each command may not load (a package, or a module and everything under it).
SERVICE_STACK = (
    "rcinbox.emulator",
    "rcinbox.service",
    "rcinbox.platform",
    "rcinbox.transports",
    "rcinbox.intents",
    "httpx",
    "httpcore",
    "uvicorn",
    "starlette",
    "websockets",
)
# pydantic is the service's (its platform records); typer 0.29 read every option through a pydantic
# TypeAdapter (about 60 ms a command), so typer is pinned to 0.28, which reads them itself.
# An SQLite archive is read with sqlite3 (rcinbox.store.archive_file); a rules file, when there is
# one, with rcinbox.rules (and phonenumbers for its numbers): the kit's archive has none.
NOT_FOR_MESSAGES = (
    *SERVICE_STACK,
    "pydantic",
    "sqlalchemy",
    "aiosqlite",
    "alembic",
    "asyncio",
    "rcinbox.rules",
    "phonenumbers",
)
# Help is click's plain text: typer's rich panels would load rich, its markdown and traceback
# renderers (about 40 ms, half of the command's start-up).
NOT_FOR_HELP = (
    *SERVICE_STACK,
    "rich",
    "pydantic",
    "rcinbox.store",
    "rcinbox.rules",
    "rcinbox.wire",
    "sqlalchemy",
    "alembic",
    "asyncio",
)

PROBE = """
import json, sys
from rcinbox.cli.main import app
try:
    app(sys.argv[1:], prog_name="rcinbox")
except SystemExit:
    pass
print(json.dumps(sorted(k for k, v in sys.modules.items() if v is not None)), file=sys.__stderr__)
"""


def loaded_by(*args: str, env: dict[str, str] | None = None) -> set[str]:
    """The modules ``rcinbox ARGS`` has loaded when it is done (its output is discarded)."""
    ambient = {k: v for k, v in os.environ.items() if not k.startswith(("RC_", "RCINBOX_"))}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        env=ambient | {"COLUMNS": "120"} | (env or {}),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    modules: list[str] = json.loads(done.stderr.strip().splitlines()[-1])
    return set(modules)


def stray(modules: set[str], forbidden: tuple[str, ...]) -> list[str]:
    return sorted(
        name for name in modules if any(name == top or name.startswith(f"{top}.") for top in forbidden)
    )


@pytest.mark.parametrize("args", [("--help",), ("run", "--help"), ("messages", "--help"), ("db", "--help")])
def test_help_loads_no_service_store_or_http_client(args: tuple[str, ...]) -> None:
    modules = loaded_by(*args)
    assert "rcinbox.cli.main" in modules
    assert stray(modules, NOT_FOR_HELP) == []


def test_messages_loads_only_the_archive_reading_path(tmp_path: Path) -> None:
    archive(tmp_path / "data")
    modules = loaded_by("messages", "--limit", "2", env={"RCINBOX_DATA_DIR": str(tmp_path / "data")})
    assert "rcinbox.cli.messages" in modules  # it did run
    assert stray(modules, NOT_FOR_MESSAGES) == []


def test_run_loads_the_service_without_the_emulator_or_anyones_command_line() -> None:
    """``rcinbox run`` (here refused for want of credentials, once the service is loaded): no
    emulator, no Alembic (only to migrate an older archive), no PostgreSQL dialect for SQLite, and
    not httpx's command line with the rich and pygments it brings."""
    modules = loaded_by("run", env={"RC_APP_CLIENT_ID": "", "RC_APP_CLIENT_SECRET": "", "RC_USER_JWT": ""})
    assert "rcinbox.service.app" in modules
    unused = (
        "rcinbox.emulator",
        "alembic",
        "httpx._main",
        "rich",
        "pygments",
        "sqlalchemy.dialects.postgresql",
    )
    assert stray(modules, unused) == []


def test_a_stray_import_is_caught() -> None:
    assert stray({"httpx", "httpx._client", "rcinbox.cli", "rcinbox.service.app"}, NOT_FOR_HELP) == [
        "httpx",
        "httpx._client",
        "rcinbox.service.app",
    ]
