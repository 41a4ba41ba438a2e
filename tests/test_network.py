import socket
import urllib.request

import pytest


def test_outside_connections_are_refused():
    with pytest.raises(RuntimeError, match="tests may not (reach|resolve)") as err:  # conftest.NetworkBlocked
        socket.create_connection(("93.184.216.34", 80), timeout=1)
    assert type(err.value).__name__ == "NetworkBlocked"
    raw = socket.socket()
    try:
        with pytest.raises(RuntimeError, match="tests may not reach the network"):
            raw.connect(("93.184.216.34", 80))
    finally:
        raw.close()


def test_name_lookups_are_refused():
    # The guard's own error, not any OSError: offline, urlopen fails with URLError (an OSError) even
    # without a guard, so accepting OSError here would pass with the guard removed.
    with pytest.raises(RuntimeError, match="tests may not resolve 'huggingface.co'") as err:
        urllib.request.urlopen("https://huggingface.co", timeout=1)
    assert type(err.value).__name__ == "NetworkBlocked"
    assert not isinstance(err.value, OSError)


def test_loopback_still_works():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    client = socket.create_connection(server.getsockname(), timeout=1)
    client.close()
    server.close()
