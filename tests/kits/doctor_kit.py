"""``rcinbox doctor`` in tests against the test's emulator: the example rules with a window around
today (``example_rules``), settings built on them, ``invoke`` (the command as a user runs it), and
the findings by check and as printed."""

from __future__ import annotations

import io
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from service_kit import emulator_settings
from typer.testing import CliRunner, Result

from rcinbox.cli.doctor_findings import Finding, render
from rcinbox.cli.main import app
from rcinbox.emulator.runner import Running
from rcinbox.settings import Settings

EXAMPLE_RULES = Path(__file__).resolve().parents[2] / "examples" / "rcinbox.toml"


def example_rules(start: timedelta = -timedelta(days=1), end: timedelta = timedelta(days=14)) -> str:
    """The example rules file with its vacation window moved to ``now + start`` → ``now + end``
    (the doctor judges the window against the real clock)."""
    now, fmt = datetime.now(UTC), "%Y-%m-%dT%H:%M:%S"
    text = EXAMPLE_RULES.read_text()
    text = text.replace("start = 2026-12-20T00:00:00", f"start = {(now + start).strftime(fmt)}")
    return text.replace("end = 2027-01-04T08:00:00", f"end = {(now + end).strftime(fmt)}")


def settings_for(emu: Running, tmp_path: Path, ext: int = 0, **changes: Any) -> Settings:
    return emulator_settings(emu, tmp_path, example_rules(), ext=ext, **changes)


def by_check(findings: list[Finding]) -> dict[str, Finding]:
    return {finding.check: finding for finding in findings}


def shown(findings: list[Finding]) -> str:
    out = io.StringIO()
    render(findings, Console(file=out, width=200, color_system=None))
    return out.getvalue()


def invoke(emu: Running, tmp_path: Path, env_file: str = os.devnull, **env: str | None) -> Result:
    """``rcinbox doctor`` in a worker thread (it runs its own event loop) with a clean environment."""
    world = emu.world
    rules = tmp_path / "rcinbox.toml"
    rules.write_text(example_rules(), encoding="utf-8")
    # Ambient RCINBOX_* variables (the Makefile's RCINBOX_SDK_PYTHON) would be refused as typos.
    ambient: dict[str, str | None] = {key: None for key in os.environ if key.startswith("RCINBOX_")}
    base: dict[str, str | None] = ambient | {
        "RC_SERVER_URL": emu.url,
        "RC_APP_CLIENT_ID": world.app.client_id,
        "RC_APP_CLIENT_SECRET": world.app.client_secret,
        "RC_USER_JWT": world.extensions[0].jwt,
        "RCINBOX_RULES": str(rules),
        "RCINBOX_DATA_DIR": str(tmp_path / "data"),
        "RCINBOX_TRANSPORT": None,
        "RCINBOX_WEBHOOK_URL": None,
        "COLUMNS": "250",
    }
    args = ["doctor", "--env-file", env_file]
    return CliRunner().invoke(app, args, env=base | env)
