import httpx
import pytest

from sandbox import server


@pytest.fixture
def running():
    running = server.start()
    yield running
    running.stop()


def test_control_api_mints_tokens_and_records_faults(running) -> None:
    with httpx.Client(base_url=running.url) as client:
        token = client.post("/_sandbox/tokens", json={"platform": "x", "account_id": "1", "ttl": 60}).json()
        assert running.sandbox.check_token("x", token["access_token"]).account_id == "1"
        client.post("/_sandbox/faults", json={"platform": "x", "operation": "upload", "kind": "reset", "times": 2})
        assert running.sandbox.take_fault("x", "upload") is not None
        assert running.sandbox.take_fault("x", "upload") is not None
        assert running.sandbox.take_fault("x", "upload") is None
        assert client.get("/_sandbox/published").json() == {"items": []}
