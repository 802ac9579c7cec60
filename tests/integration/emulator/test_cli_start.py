"""Starting `rcinbox emulator` as a first-time user does: ``--print-env`` gives the ``.env`` lines that
log in to the emulator it then serves, and a taken port is one line naming the flag to change."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
from emulator_process import served

from rcinbox.emulator.data import DEFAULT
from rcinbox.emulator.runner import free_port
from rcinbox.settings import Settings

ALEX_ID, BLAIR_ID = DEFAULT["extensions"][0]["id"], DEFAULT["extensions"][1]["id"]
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"


def rcinbox_emulator(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "rcinbox", "emulator", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)


def settings_from(lines: str, tmp_path: Path) -> Settings:
    env = tmp_path / ".env"
    env.write_text(lines, encoding="utf-8")
    return Settings.from_env({}, env)


async def owner_of(settings: Settings) -> str:
    """Log in with the settings' app and JWT, as rcinbox would; the extension id it logged in as."""
    form = {"grant_type": JWT_GRANT, "assertion": settings.jwt}
    auth = (settings.client_id, settings.client_secret)
    async with httpx.AsyncClient(base_url=settings.server_url, timeout=10) as http:
        answer = await http.post("/restapi/oauth/token", data=form, auth=auth)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["owner_id"])


async def test_print_env_lines_log_in_to_the_emulator_served_on_that_port(tmp_path: Path) -> None:
    port = free_port()
    printed = rcinbox_emulator("--port", str(port), "--print-env")
    blairs = rcinbox_emulator("--port", str(port), "--print-env", "--extension", str(BLAIR_ID))
    assert (printed.returncode, printed.stderr, blairs.returncode, blairs.stderr) == (0, "", 0, "")
    assert [line.split("=")[0] for line in printed.stdout.splitlines()] == [
        "RC_SERVER_URL",
        "RC_APP_CLIENT_ID",
        "RC_APP_CLIENT_SECRET",
        "RC_USER_JWT",
    ]
    alex = settings_from(printed.stdout, tmp_path)
    blair = settings_from(blairs.stdout, tmp_path)
    assert alex.server_url == blair.server_url == f"http://127.0.0.1:{port}"
    async with served(port=port) as url:
        assert url == alex.server_url
        assert await owner_of(alex) == str(ALEX_ID)
        assert await owner_of(blair) == str(BLAIR_ID)


def test_print_env_quotes_what_dotenv_would_misread(tmp_path: Path) -> None:
    jwt = "a jwt # with 'quotes', \"double\" and a \\ backslash"
    data = tmp_path / "account.toml"
    data.write_text(
        '[app]\nclientId = "my id"\n[[extensions]]\nid = 1\nextensionNumber = "1"\nname = "A"\n'
        f"jwt = '''{jwt}'''\n",
        encoding="utf-8",
    )
    printed = rcinbox_emulator("--host", "localhost", "--port", "9999", "--data", str(data), "--print-env")
    assert printed.returncode == 0, printed.stderr
    settings = settings_from(printed.stdout, tmp_path)
    assert (settings.server_url, settings.client_id, settings.jwt) == ("http://localhost:9999", "my id", jwt)


def test_an_unknown_extension_is_one_line_listing_the_known_ids() -> None:
    refused = rcinbox_emulator("--print-env", "--extension", "4242")
    assert (refused.returncode, refused.stdout) == (2, "")
    assert refused.stderr == (
        "error: --extension 4242: no such extension id; the known ids are 62264425016 (101 Alex Morgan), "
        "62264426016 (102 Blair Kim), 62264427016 (103 Casey Fax)\n"
    )
    alone = rcinbox_emulator("--extension", str(BLAIR_ID))
    assert (alone.returncode, alone.stderr) == (2, "error: --extension only goes with --print-env\n")
    unpinned = rcinbox_emulator("--port", "0", "--print-env")
    assert unpinned.returncode == 2
    assert (
        unpinned.stderr.startswith("error: --print-env needs the --port") and unpinned.stderr.count("\n") == 1
    )


@contextlib.contextmanager
def port_in_use() -> Iterator[int]:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


def test_a_taken_port_is_one_line_naming_the_flag() -> None:
    with port_in_use() as port:
        refused = rcinbox_emulator("--port", str(port))
    assert (refused.returncode, refused.stdout) == (1, "")
    assert refused.stderr == f"error: 127.0.0.1:{port} is already in use; pick another port with --port\n"
