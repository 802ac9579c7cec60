"""requirements/*.lock hold what pyproject.toml asks for: each dependency (and each extra's, in
dev.lock) locked once, hash-checked, at a version its range accepts. A dependency added to
pyproject.toml without `make lock` fails here (and `make install`'s `pip check`)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
LOCKED_EXTRAS = ("dev", "embeddings", "postgres")
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)(?: ;[^\\]*)? \\$", re.M)


def locked(name: str) -> dict[str, list[Version]]:
    text = (ROOT / "requirements" / name).read_text(encoding="utf-8")
    pins: dict[str, list[Version]] = {}
    for package, version in PIN.findall(text):
        pins.setdefault(canonicalize_name(package), []).append(Version(version))
    return pins


def requirements(*extras: str) -> list[Requirement]:
    found = [Requirement(r) for r in PROJECT["dependencies"]]
    for extra in extras:
        found += [Requirement(r) for r in PROJECT["optional-dependencies"][extra]]
    return found


@pytest.mark.parametrize(
    ("lock", "extras"), [("runtime.lock", ()), ("dev.lock", LOCKED_EXTRAS)], ids=["runtime", "dev"]
)
def test_every_dependency_is_locked_at_a_version_its_range_accepts(
    lock: str, extras: tuple[str, ...]
) -> None:
    pins = locked(lock)
    for requirement in requirements(*extras):
        versions = pins.get(canonicalize_name(requirement.name))
        assert versions, f"{requirement.name} is not in requirements/{lock}: run `make lock`"
        assert all(requirement.specifier.contains(v, prereleases=True) for v in versions), (
            f"requirements/{lock} has {requirement.name} {versions}, outside {requirement.specifier}: "
            "run `make lock`"
        )


def test_the_locks_are_hash_checked_and_every_extra_is_locked() -> None:
    for lock in ("runtime.lock", "dev.lock"):
        text = (ROOT / "requirements" / lock).read_text(encoding="utf-8")
        assert len(PIN.findall(text)) == len(re.findall(r"^[A-Za-z0-9]", text, re.M)) > 20  # all exact
        blocks = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 2)[2])
        assert all("--hash=sha256:" in block for block in blocks), lock
    assert set(PROJECT["optional-dependencies"]) == set(LOCKED_EXTRAS)


def test_the_runtime_lock_is_the_dev_lock_s_subset_at_the_same_versions() -> None:
    runtime, dev = locked("runtime.lock"), locked("dev.lock")
    assert {name: dev.get(name) for name in runtime} == runtime
