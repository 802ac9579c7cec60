"""``rcinbox doctor`` says what it found in words a first-time user reads right (issue 6): a vacation
window that has ended or starts more than 60 days ahead is a warning (⚠), not ✔, and does not fail
the exit status; an unknown variable's fix says to remove or rename it; the server check says what
it checked instead of a bare "answers (HTTP 404)"."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from doctor_kit import EXAMPLE_RULES, by_check, invoke, settings_for, shown

from rcinbox.cli.doctor import diagnose, rules_findings
from rcinbox.cli.doctor_findings import healthy
from rcinbox.cli.doctor_platform import reachable
from rcinbox.emulator.runner import Running
from rcinbox.settings import Settings

NOW = datetime(2026, 12, 4, 14, 15, tzinfo=UTC)
FIX = "set vacation.start and vacation.end in {path} to your next absence, or enabled = false"


def window(tmp_path: Path, start: str, end: str) -> Path:
    """The example rules with this vacation window."""
    text = EXAMPLE_RULES.read_text().replace("start = 2026-12-20T00:00:00", f"start = {start}")
    path = tmp_path / "rules.toml"
    path.write_text(text.replace("end = 2027-01-04T08:00:00", f"end = {end}"), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("start", "end", "problem"),
    [
        (
            "2026-11-20T00:00:00",
            "2026-11-30T08:00:00",
            "(ended), audience contacts, at most every 1 week per sender; "
            "the window has ended: no auto-replies go out",
        ),
        (
            "2027-12-20T00:00:00",
            "2028-01-04T08:00:00",
            "(not started), audience contacts, at most every 1 week per sender; "
            "the window starts in 380 days (more than 60 ahead): is the year right?",
        ),
    ],
    ids=["ended", "a year ahead"],
)
def test_a_stale_or_far_vacation_window_is_a_warning(
    tmp_path: Path, start: str, end: str, problem: str
) -> None:
    path = window(tmp_path, start, end)
    findings = rules_findings(path, NOW)
    rules = by_check(findings)["rules"]
    assert rules.status == "warn"
    assert rules.detail.endswith(problem)
    assert rules.fix == FIX.format(path=path)
    assert healthy(findings)  # advice: the exit status stays 0
    lines = shown(findings).splitlines()
    assert lines[0].startswith(f"⚠ rules: {path}: vacation ")
    assert lines[1] == f"    fix: {FIX.format(path=path)}"


@pytest.mark.parametrize(
    ("start", "end"),
    [("2026-12-01T00:00:00", "2026-12-10T00:00:00"), ("2027-01-20T00:00:00", "2027-02-01T00:00:00")],
    ids=["active now", "starts in 47 days"],
)
def test_a_current_or_near_window_is_fine(tmp_path: Path, start: str, end: str) -> None:
    rules = by_check(rules_findings(window(tmp_path, start, end), NOW))["rules"]
    assert rules.status == "ok"
    assert shown([rules]).startswith("✔ rules: ")


async def test_cli_an_ended_window_warns_and_exits_zero(emu: Running, tmp_path: Path) -> None:
    path = window(tmp_path, "2025-12-20T00:00:00", "2026-01-04T08:00:00")
    result = await asyncio.to_thread(invoke, emu, tmp_path, RCINBOX_RULES=str(path))
    assert result.exit_code == 0, result.output
    [line] = [line for line in result.output.splitlines() if " rules: " in line]
    assert line.startswith("⚠ rules: ") and line.endswith("the window has ended: no auto-replies go out")
    assert f"    fix: {FIX.format(path=path)}" in result.output.splitlines()


async def test_cli_unknown_variable_in_the_environment_says_remove_or_rename(
    emu: Running, tmp_path: Path
) -> None:
    result = await asyncio.to_thread(invoke, emu, tmp_path, RCINBOX_PROT="8081")
    assert result.exit_code == 1
    assert result.output.splitlines()[:2] == [
        "✘ settings: unknown setting RCINBOX_PROT (did you mean RCINBOX_PORT?)",
        "    fix: remove RCINBOX_PROT from the environment (unset RCINBOX_PROT), or rename it to "
        "RCINBOX_PORT: rcinbox has no such setting",
    ]


async def test_cli_unknown_variable_in_the_env_file_says_remove_or_rename(
    emu: Running, tmp_path: Path
) -> None:
    env_file = tmp_path / "prod.env"
    env_file.write_text("RCINBOX_LOG_LEVEL=DEBUG\nRCINBOX_API_KEY=abc\n")
    result = await asyncio.to_thread(invoke, emu, tmp_path, env_file=str(env_file))
    assert result.exit_code == 1
    assert result.output.splitlines()[:2] == [
        f"✘ settings: unknown setting RCINBOX_API_KEY in {env_file}",
        f"    fix: remove RCINBOX_API_KEY from {env_file}: rcinbox has no such setting",
    ]


async def test_the_server_check_says_what_it_checked(emu: Running, tmp_path: Path) -> None:
    """The emulator has no API-info endpoint (HTTP 404): reachable is what was checked."""
    server = by_check(await diagnose(settings_for(emu, tmp_path)))["server"]
    assert (server.status, server.detail) == (
        "ok",
        f"{emu.url} is reachable over the network (the JWT login below checks the credentials)",
    )
    assert "404" not in shown([server])


@pytest.mark.parametrize(
    ("answer", "status", "detail"),
    [
        (
            httpx.Response(200, json={"uri": "https://rc.test/restapi/v1.0", "versionString": "1.0.61"}),
            "ok",
            "https://rc.test is reachable: RingCentral REST API 1.0.61 (GET /restapi/v1.0)",
        ),
        (
            httpx.Response(503, json={"errorCode": "CMN-211"}),
            "warn",
            "https://rc.test is reachable, but GET /restapi/v1.0 failed there with HTTP 503",
        ),
    ],
    ids=["RingCentral's API info", "a server error"],
)
async def test_the_server_check_reads_the_api_version_answer(
    tmp_path: Path, answer: httpx.Response, status: str, detail: str
) -> None:
    seen: list[str] = []

    def platform(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.method} {request.url}")
        return answer

    async with httpx.AsyncClient(transport=httpx.MockTransport(platform)) as http:
        settings = Settings("client-id", "client-secret", "jwt", server_url="https://rc.test")
        found = await reachable(http, settings)
    assert (found.status, found.detail) == (status, detail)
    assert seen == ["GET https://rc.test/restapi/v1.0"]
