"""tests/unit holds the tests that need nothing but fakes: no emulator, no server, no network. Any
attempt to open a network connection or listen here fails the test, so a test that needs a socket
is moved to tests/integration (or tests/e2e) instead of blurring the line. One exception: the
store's tests run on PostgreSQL too, and may connect to the throwaway cluster's Unix socket
(:mod:`pg_kit`: a file in its temporary directory, no TCP)."""

from __future__ import annotations

import _socket
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from pg_kit import PG_PREFIX


class SocketInUnitTest(AssertionError):
    pass


def _refuse(*args: Any, **kwargs: Any) -> Any:
    raise SocketInUnitTest("a unit test used the network: move it to tests/integration or tests/e2e")


def _connect(sock: socket.socket, address: Any) -> None:
    """Only to the test cluster's Unix socket (pg_kit's temporary directory)."""
    if sock.family == socket.AF_UNIX and isinstance(address, str) and f"/{PG_PREFIX}" in address:
        _socket.socket.connect(sock, address)
        return
    _refuse()


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(socket.socket, "connect", _connect)
    for name in ("connect_ex", "bind"):
        monkeypatch.setattr(socket.socket, name, _refuse)
    monkeypatch.setattr(socket, "create_connection", _refuse)
    monkeypatch.setattr(socket, "getaddrinfo", _refuse)
    yield
