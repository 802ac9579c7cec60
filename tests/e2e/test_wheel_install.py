"""The wheel on a machine with nothing else, installed the two ways docs/operations.md gives, each
from the same wheel (built from a copy of the sources) and checked the same way from a directory far
from the repository, in a user's environment: ``rcinbox --version``, ``rcinbox classify`` and
``rcinbox demo`` (the scripted conversation, the dashboard with its templates, static files and
sign-in form, Ctrl-C).

- **pip into an empty venv**: the dependencies from requirements/runtime.lock (``--require-hashes``),
  then the wheel with ``--no-index``: everything it asks for must already be there.
- **pipx** (the one in the dev extra, pinned exactly in dev.lock), with PIPX_HOME, PIPX_BIN_DIR,
  PIPX_MAN_DIR, PIPX_COMPLETION_DIR and HOME in the test's tmp dir, so nothing lands in ~/.local.
  The lock goes to pip as a constraints file: ``pipx install --backend pip --pip-args "-c
  requirements/runtime.lock" "rcinbox @ file:///…/rcinbox-VERSION-py3-none-any.whl#sha256=…"``.
  A constraints file that holds hashes turns on pip's hash-checking mode for the whole install, so
  every dependency must be pinned with ``==`` and match a locked hash (a dependency missing from the
  lock fails as under ``--no-index``), and the wheel itself needs one: a plain path fails with
  "Hashes are required in --require-hashes mode", hence the ``#sha256=`` fragment on its file URL.
  The same pip arguments also reach the install of pip into pipx's shared libraries
  (``pip >= 26.1``, not pinned), which hash-checking mode refuses, and pip 23.2 (the one Python
  3.11's ensurepip bundles) does not take constraints as pins in that mode: so a first ``pipx
  upgrade-shared --pip-args pip==PIP_VERSION`` (the Makefile's) puts pip there before the install.
  ``--backend pip`` because pipx picks uv when it finds it, and the dev venv has uv.
"""

from __future__ import annotations

import hashlib
import os
import re
import shlex
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
LOCK = ROOT / "requirements" / "runtime.lock"
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


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    built = build_wheel(tmp_path_factory.mktemp("wheel"))
    assert built.name == f"rcinbox-{VERSION}-py3-none-any.whl"
    return built


def install_with_pip(tmp: Path, wheel: Path) -> Path:
    """The wheel in a new venv, its dependencies from the lock; the venv's bin directory."""
    venv = tmp / "venv"
    run([sys.executable, "-m", "venv", venv], cwd=tmp)
    pip = venv / "bin" / "pip"
    run([pip, "install", "-q", "--no-compile", "--require-hashes", "-r", LOCK], cwd=tmp)
    run([pip, "install", "-q", "--no-index", wheel], cwd=tmp)  # every dependency is in the lock
    assert "No broken requirements found." in run([pip, "check"], cwd=tmp)
    return venv / "bin"


def pip_version() -> str:
    """The pip the Makefile installs (``PIP_VERSION := …``)."""
    found = re.search(r"^PIP_VERSION := (\S+)$", (ROOT / "Makefile").read_text(encoding="utf-8"), re.M)
    assert found is not None
    return found.group(1)


def install_with_pipx(tmp: Path, wheel: Path) -> Path:
    """``pipx install`` of the wheel (hash-checked), the lock as constraints; pipx's bin directory."""
    pipx_dir = tmp / "pipx"
    cache = run([sys.executable, "-m", "pip", "cache", "dir"], cwd=tmp).strip()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH" and not k.startswith("PIPX_")}
    env |= {
        "HOME": str(tmp / "install-home"),
        "PIP_CACHE_DIR": cache,  # the test run's pip cache (HOME moved), not a download of everything
        "PIPX_HOME": str(pipx_dir / "home"),
        "PIPX_BIN_DIR": str(pipx_dir / "bin"),
        "PIPX_MAN_DIR": str(pipx_dir / "man"),
        "PIPX_COMPLETION_DIR": str(pipx_dir / "completions"),
    }
    pipx = [sys.executable, "-m", "pipx"]
    run([*pipx, "upgrade-shared", "--pip-args", f"pip=={pip_version()}"], cwd=tmp, env=env)
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    pip_args = shlex.join(["-c", str(LOCK)])
    spec = f"rcinbox @ {wheel.as_uri()}#sha256={digest}"
    run([*pipx, "install", "--backend", "pip", "--pip-args", pip_args, spec], cwd=tmp, env=env)
    assert f"rcinbox {VERSION}" in run([*pipx, "list", "--short"], cwd=tmp, env=env)
    assert "No broken requirements found." in run([*pipx, "runpip", "rcinbox", "check"], cwd=tmp, env=env)
    assert not (tmp / "install-home" / ".local").exists()  # every pipx directory was the test's
    return pipx_dir / "bin"


def user_env(bin_dir: Path, home: Path) -> dict[str, str]:
    """What a user's shell has: the install's bin on PATH, a HOME of its own, no PYTHONPATH."""
    return {"PATH": f"{bin_dir}{os.pathsep}/usr/bin:/bin", "HOME": str(home), "COLUMNS": "200"}


def runs_without_the_repository(bin_dir: Path, tmp: Path) -> None:
    """``rcinbox`` from ``bin_dir`` (found on PATH), far from the repository: version, classify, demo."""
    elsewhere, home = tmp / "elsewhere", tmp / "home"
    elsewhere.mkdir()
    home.mkdir()
    env = user_env(bin_dir, home)
    rcinbox = "rcinbox"  # found on the user's PATH
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


def test_the_wheel_installs_into_an_empty_venv_and_runs_the_demo_without_the_repository(
    tmp_path: Path, wheel: Path
) -> None:
    runs_without_the_repository(install_with_pip(tmp_path, wheel), tmp_path)


def test_pipx_installs_the_wheel_with_the_locked_versions_and_it_runs_the_demo_without_the_repository(
    tmp_path: Path, wheel: Path
) -> None:
    runs_without_the_repository(install_with_pipx(tmp_path, wheel), tmp_path)
