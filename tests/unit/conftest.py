"""tests/unit holds the tests that need nothing but fakes: no emulator, no server, no network. Any
attempt to open a network connection or listen here fails the test, so a test that needs a socket
is moved to tests/integration (or tests/e2e) instead of blurring the line."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest


class SocketInUnitTest(AssertionError):
    pass


def _refuse(*args: Any, **kwargs: Any) -> Any:
    raise SocketInUnitTest("a unit test used the network: move it to tests/integration or tests/e2e")


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("connect", "connect_ex", "bind"):
        monkeypatch.setattr(socket.socket, name, _refuse)
    monkeypatch.setattr(socket, "create_connection", _refuse)
    monkeypatch.setattr(socket, "getaddrinfo", _refuse)
    yield
