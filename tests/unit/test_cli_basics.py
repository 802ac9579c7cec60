"""What a first-time user of the ``rcinbox`` command runs into (issue 6): ``--version``, shell
completion, and an ``--env-file`` that does not exist (one line, exit 2, for every command that
takes it) while a missing default ``./.env`` is fine."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from rcinbox.cli.main import app

ROOT = Path(__file__).resolve().parents[2]


def rcinbox(*args: str, **env: str | None) -> Result:
    # Ambient RCINBOX_* variables (the Makefile's RCINBOX_SDK_PYTHON) would be refused as typos.
    ambient: dict[str, str | None] = {key: None for key in os.environ if key.startswith(("RC_", "RCINBOX_"))}
    return CliRunner().invoke(app, list(args), prog_name="rcinbox", env=ambient | env)


def test_version_prints_the_package_version() -> None:
    result = rcinbox("--version")
    assert (result.exit_code, result.output) == (0, "rcinbox 0.1.0\n")
    done = subprocess.run(
        [sys.executable, "-m", "rcinbox", "--version"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "rcinbox 0.1.0\n", "")


def test_help_offers_version_and_completion() -> None:
    result = rcinbox("--help", COLUMNS="120")
    assert result.exit_code == 0
    for option in ("--version", "--install-completion", "--show-completion"):
        assert option in result.output, option


def test_completion_script_and_installation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The options detect the user's shell from the process tree (bash here, sh under CI); Typer's
    # own switch makes them take the shell's name instead, as on a machine without shellingham.
    monkeypatch.setenv("_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION", "1")
    shown = rcinbox("--show-completion", "bash")
    assert shown.exit_code == 0, shown.output
    assert "complete -o default -F _rcinbox_completion rcinbox" in shown.output

    installed = rcinbox("--install-completion", "bash", HOME=str(tmp_path))
    assert installed.exit_code == 0, installed.output
    script = tmp_path / ".bash_completions" / "rcinbox.sh"
    assert "complete -o default -F _rcinbox_completion rcinbox" in script.read_text()
    assert f"source '{script}'" in (tmp_path / ".bashrc").read_text()


@pytest.mark.parametrize(
    ("words", "expected"), [("rcinbox mes", ["messages"]), ("rcinbox messages --js", ["--json"])]
)
def test_completion_completes_commands_and_options(words: str, expected: list[str]) -> None:
    """What the installed bash script asks the command for on <Tab>."""
    cword = str(len(words.split()) - 1)
    result = rcinbox(_RCINBOX_COMPLETE="complete_bash", COMP_WORDS=words, COMP_CWORD=cword)
    assert result.exit_code == 0
    assert result.output.split() == expected


@pytest.mark.parametrize("command", [["run"], ["messages"], ["doctor"]], ids=lambda command: command[0])
def test_a_missing_env_file_is_one_line_and_exit_2(command: list[str], tmp_path: Path) -> None:
    missing = tmp_path / "prod.env"
    result = rcinbox(*command, "--env-file", str(missing))
    assert result.exit_code == 2
    assert result.output == (
        f"error: --env-file {missing} does not exist: give the path of an existing .env file\n"
    )


def test_a_directory_given_as_env_file_is_refused(tmp_path: Path) -> None:
    result = rcinbox("messages", "--env-file", str(tmp_path))
    assert (result.exit_code, result.output) == (
        2,
        f"error: --env-file {tmp_path} is a directory: give the path of an existing .env file\n",
    )


def test_without_env_file_the_default_dotenv_is_read_when_present(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    absent = rcinbox("messages")  # no ./.env: fine, the archive is what is missing
    assert absent.exit_code == 1
    assert absent.output.startswith(f"error: no archive at {Path('rcinbox-data') / 'rcinbox.db'} yet")
    (tmp_path / ".env").write_text("RCINBOX_DATA_DIR=elsewhere\n")
    present = rcinbox("messages")
    assert present.exit_code == 1
    assert f"no archive at {Path('elsewhere') / 'rcinbox.db'} yet" in present.output
