import socket
import urllib.request

import pytest


def test_outside_connections_are_refused():
    with pytest.raises(RuntimeError, match="tests may not (reach|resolve)"):  # conftest.NetworkBlocked
        socket.create_connection(("93.184.216.34", 80), timeout=1)


def test_name_lookups_are_refused():
    with pytest.raises((RuntimeError, OSError)):
        urllib.request.urlopen("https://huggingface.co", timeout=1)


def test_loopback_still_works():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    client = socket.create_connection(server.getsockname(), timeout=1)
    client.close()
    server.close()
