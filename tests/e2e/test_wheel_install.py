"""The wheel on a machine with nothing else: built from a copy of the sources, installed into an
empty virtual environment (its dependencies from requirements/runtime.lock, hash-checked, then the
wheel itself with no index: everything it asks for must already be there), and run from a
directory far from the repository: ``rcinbox --version``, ``rcinbox classify`` and ``rcinbox demo``
(the scripted conversation, the dashboard with its templates, static files and sign-in form, Ctrl-C).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tomllib
from pathlib import Path

import httpx
import pytest
from dashboard_kit import Process

ROOT = Path(__file__).resolve().parents[2]
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
INSTALL_WITHIN = 300.0  # seconds for the venv and the locked dependencies (from pip's cache or PyPI)
DEMO_WITHIN = 90.0

pytestmark = pytest.mark.slow


def run(args: list[str | Path], *, cwd: Path, env: dict[str, str] | None = None) -> str:
    """``args`` run to the end (status 0); by default in this environment less PYTHONPATH (the
    tests' src/ holds an egg-info that pip would take for rcinbox installed)."""
    env = env if env is not None else {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=INSTALL_WITHIN
    )
    assert done.returncode == 0, f"{args}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def build_wheel(tmp: Path) -> Path:
    """``pip wheel`` of a clean copy (no build/ or egg-info of the working tree can leak in)."""
    source = tmp / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    shutil.copytree(ROOT / "src", source / "src", ignore=ignore)
    run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", tmp / "dist", source], cwd=tmp)
    [wheel] = (tmp / "dist").glob("rcinbox-*.whl")
    return wheel


def user_env(venv: Path, home: Path) -> dict[str, str]:
    """What a user's shell has: the venv's bin on PATH, a HOME of its own, no PYTHONPATH."""
    return {"PATH": f"{venv / 'bin'}{os.pathsep}/usr/bin:/bin", "HOME": str(home), "COLUMNS": "200"}


def test_the_wheel_installs_into_an_empty_venv_and_runs_the_demo_without_the_repository(
    tmp_path: Path,
) -> None:
    wheel = build_wheel(tmp_path)
    assert wheel.name == f"rcinbox-{VERSION}-py3-none-any.whl"
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", venv], cwd=tmp_path)
    pip = venv / "bin" / "pip"
    run(
        [
            pip,
            "install",
            "-q",
            "--no-compile",
            "--require-hashes",
            "-r",
            ROOT / "requirements" / "runtime.lock",
        ],
        cwd=tmp_path,
    )
    run([pip, "install", "-q", "--no-index", wheel], cwd=tmp_path)  # every dependency is in the lock
    assert "No broken requirements found." in run([pip, "check"], cwd=tmp_path)

    elsewhere, home = tmp_path / "elsewhere", tmp_path / "home"
    elsewhere.mkdir()
    home.mkdir()
    env = user_env(venv, home)
    rcinbox = str(venv / "bin" / "rcinbox")
    assert run([rcinbox, "--version"], cwd=elsewhere, env=env) == f"rcinbox {VERSION}\n"
    classified = run(
        [rcinbox, "classify", "STOP", "can we move my appointment to Friday?"], cwd=elsewhere, env=env
    )
    assert [line.split("\t")[0] for line in classified.splitlines()] == ["opt_out", "appointment"]

    demo = Process([rcinbox, "demo"], env, elsewhere)
    try:
        demo.wait_for(r"^9 of 9 decisions as expected$", DEMO_WITHIN)
        dashboard = demo.wait_for(r"Dashboard: (http://127\.0\.0\.1:\d+)(/\S*)  \(password (\S+)\)")
        demo.wait_for(r"Serving until Ctrl-C")
        with httpx.Client(base_url=dashboard.group(1), timeout=10, trust_env=False) as http:
            form = http.get("/signin")
            csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
            assert csrf is not None, form.text
            password = dashboard.group(3)
            signed_in = http.post("/signin", data={"csrf": csrf.group(1), "password": password})
            assert signed_in.status_code == 303  # the form parsed (python-multipart), the password taken
            opened = http.get(dashboard.group(2)).text  # the printed address, from the templates
            assert all(name in opened for name in ("Charlie", "Eli"))  # the script's counterparts
            assert http.get("/out-of-office").status_code == 200
            css = http.get("/static/dashboard.css")
            assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
        demo.popen.send_signal(signal.SIGINT)
        assert demo.popen.wait(20) == 0
    finally:
        demo.stop()
    output = "\n".join(demo.lines)
    assert "Traceback" not in output
    data = elsewhere / "rcinbox-data" / "demo"
    assert (data / "rcinbox.db").is_file()  # in the user's directory, not in the installed package
    assert [p.name for p in data.rglob("*.png")] != []
