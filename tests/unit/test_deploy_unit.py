"""deploy/rcinbox.service: systemd accepts every line of it (``systemd-analyze verify`` prints
nothing), rates its exposure "OK" (``systemd-analyze security --offline``), and it keeps the
hardening docs/operations.md promises: its own user, the state directory as the only writable path,
no capabilities, the system-service syscalls, SIGTERM with time to finish, no restart loop on
bad settings; the settings it sets are rcinbox's."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

from rcinbox.settings import FIELDS

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "deploy" / "rcinbox.service"
INSTALLED = "/opt/rcinbox/bin/rcinbox"


def directives(section: str) -> dict[str, list[str]]:
    """``key -> values`` of one section (a key may repeat, as SystemCallFilter does)."""
    found: dict[str, list[str]] = {}
    current = None
    for line in UNIT.read_text(encoding="utf-8").splitlines():
        if line.startswith("["):
            current = line.strip("[]")
        elif current == section and line and not line.startswith("#"):
            key, _, value = line.partition("=")
            found.setdefault(key, []).append(value)
    return found


def unit_here(tmp_path: Path) -> Path:
    """The unit with ExecStart on this machine's rcinbox (verify checks that the program exists)."""
    rcinbox = Path(sys.executable).parent / "rcinbox"
    assert rcinbox.is_file()
    copy = tmp_path / "rcinbox.service"
    copy.write_text(UNIT.read_text(encoding="utf-8").replace(INSTALLED, str(rcinbox)), encoding="utf-8")
    return copy


def analyze(*args: str | Path) -> subprocess.CompletedProcess[str]:
    tool = shutil.which("systemd-analyze")
    assert tool is not None, "systemd-analyze is missing (Debian's systemd package; `make test` installs it)"
    return subprocess.run([tool, *map(str, args)], capture_output=True, text=True, timeout=60)


def test_systemd_accepts_every_line_of_the_unit(tmp_path: Path) -> None:
    checked = analyze("verify", unit_here(tmp_path))
    assert (checked.returncode, checked.stdout + checked.stderr) == (0, "")


def test_systemd_rates_the_unit_s_exposure_ok(tmp_path: Path) -> None:
    rated = analyze("security", "--offline=yes", "--no-pager", unit_here(tmp_path))
    level = re.search(r"Overall exposure level for rcinbox\.service: (\d+\.\d+) (\w+)", rated.stdout)
    assert level is not None, rated.stdout + rated.stderr
    assert float(level.group(1)) <= 2.0 and level.group(2) == "OK"


def test_the_unit_is_hardened_as_documented() -> None:
    service = directives("Service")
    one = {key: values[-1] for key, values in service.items()}
    assert one["ExecStart"] == f"{INSTALLED} run --env-file /dev/null"
    assert (one["DynamicUser"], one["User"], one["StateDirectory"]) == ("yes", "rcinbox", "rcinbox")
    assert one["StateDirectoryMode"] == "0700" and one["UMask"] == "0077"
    expected = {
        "ProtectSystem": "strict",  # all of / read-only but the state directory
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "NoNewPrivileges": "yes",
        "CapabilityBoundingSet": "",
        "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
        "EnvironmentFile": "/etc/rcinbox/rcinbox.env",
        "Restart": "on-failure",
        "RestartPreventExitStatus": "2",  # bad settings or rules: restarting does not help
        "KillSignal": "SIGTERM",
        "TimeoutStopSec": "30",
    }
    assert {key: one.get(key) for key in expected} == expected
    assert "ReadWritePaths" not in service  # nothing writable besides the state directory
    assert service["SystemCallFilter"][0] == "@system-service"


def test_the_settings_the_unit_sets_are_rcinbox_s() -> None:
    [environment] = directives("Service")["Environment"]
    names = dict(pair.split("=", 1) for pair in environment.split())
    assert names == {"RCINBOX_DATA_DIR": "/var/lib/rcinbox", "RCINBOX_RULES": "/etc/rcinbox/rcinbox.toml"}
    assert set(names) <= {field.env for field in FIELDS}
    assert f"StateDirectory={Path(names['RCINBOX_DATA_DIR']).name}" in UNIT.read_text(encoding="utf-8")
