"""Private files and directories: everything rcinbox writes under ``DATA_DIR`` is the user's only.

The archive holds customers' texts and MMS files and the store holds the webhook
``Verification-Token``, so directories are created ``0700`` and files ``0600`` whatever the
umask (``tokens.json`` has its own writer, :mod:`rcinbox.platform.tokenfile`).
:func:`private_dir` creates every missing level of a directory ``0700`` (and tightens the last one
if it already existed); :func:`private_file` creates (or tightens) an empty file ``0600``;
:func:`tighten` makes existing files ``0600``.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """Create ``path`` and its missing parents with mode 0700; an existing ``path`` is tightened."""
    path = Path(path).expanduser()
    missing: list[Path] = []
    for level in (path, *path.parents):
        if level.exists():
            break
        missing.append(level)
    for level in reversed(missing):
        with contextlib.suppress(FileExistsError):
            level.mkdir(mode=DIR_MODE)
        os.chmod(level, DIR_MODE)  # mkdir's mode is filtered by the umask
    if path.is_dir() and not missing:
        os.chmod(path, DIR_MODE)
    return path


def private_file(path: Path) -> Path:
    """Create ``path`` empty with mode 0600 unless it exists; either way it ends up 0600."""
    fd = os.open(path, os.O_CREAT | os.O_WRONLY, FILE_MODE)
    os.close(fd)
    os.chmod(path, FILE_MODE)
    return path


def open_private(path: Path) -> int:
    """A new file (``O_EXCL``) opened for writing with mode 0600: the descriptor."""
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, FILE_MODE)
    os.fchmod(fd, FILE_MODE)
    return fd


def tighten(*paths: Path) -> None:
    """Make the existing ones among ``paths`` mode 0600."""
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            os.chmod(path, FILE_MODE)
