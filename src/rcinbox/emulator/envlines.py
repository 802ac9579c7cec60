"""``rcinbox emulator --print-env``: the four ``RC_*`` lines a client of the emulator needs in ``.env``.

The values are the emulated account's (the same ``GET /_emulator/state`` shows): the URL it serves
on for ``--host``/``--port``, the app's client id and secret, and one extension's JWT (the first
extension's unless ``--extension ID`` names another). The names are RingCentral's usual ones, which
rcinbox reads (README, "Configuration").
"""

from __future__ import annotations

import re
from pathlib import Path

from rcinbox.emulator.data import load
from rcinbox.emulator.runner import server_url

_BARE = re.compile(r"[A-Za-z0-9._~:/@+=-]*")


class EnvError(ValueError):
    """``--print-env`` cannot answer; the message says what to change."""


def env_lines(host: str, port: int, data: Path | None, extension: str | None) -> list[str]:
    if port == 0:
        raise EnvError("--print-env needs the --port the emulator will serve on (0 picks one only at start)")
    app, _, _, extensions = load(data)
    chosen = extensions[0]
    if extension is not None:
        found = [ext for ext in extensions if str(ext.id) == extension.strip()]
        if not found:
            known = ", ".join(f"{ext.id} ({ext.extension_number} {ext.name})" for ext in extensions)
            raise EnvError(f"--extension {extension}: no such extension id; the known ids are {known}")
        chosen = found[0]
    values = {
        "RC_SERVER_URL": server_url(host, port),
        "RC_APP_CLIENT_ID": app.client_id,
        "RC_APP_CLIENT_SECRET": app.client_secret,
        "RC_USER_JWT": chosen.jwt,
    }
    return [f"{name}={_quoted(value)}" for name, value in values.items()]


def _quoted(value: str) -> str:
    """As a .env file is read back: bare when plain, else in single quotes (``\\'``, ``\\\\``)."""
    if _BARE.fullmatch(value):
        return value
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
