"""The helpers that tell whether a test server listens."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from tests.support.servers import free_port, port_open, port_refused


@pytest.fixture
def busy_listener() -> Iterator[int]:
    """A port that listens but takes no more connections: its queue is full, nobody accepts."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(0)
        port = server.getsockname()[1]
        queued = []
        for _ in range(2):
            client = socket.socket()
            client.settimeout(0.5)
            client.connect_ex(("127.0.0.1", port))
            queued.append(client)
        yield port
        for client in queued:
            client.close()


def test_a_listening_port_that_takes_too_long_is_not_called_refused(busy_listener: int) -> None:
    # This is what once made a test think smsbox had closed its port while it still listened.
    assert not port_open(busy_listener)
    assert not port_refused(busy_listener, timeout=0.5)


def test_a_port_nobody_listens_on_is_refused() -> None:
    port = free_port()

    assert port_refused(port)
    assert not port_open(port)


def test_a_listening_port_is_open_and_not_refused() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        port = server.getsockname()[1]

        assert port_open(port)
        assert not port_refused(port)
