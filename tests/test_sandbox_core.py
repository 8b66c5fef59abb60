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


def test_faults_can_wait_for_the_nth_call_and_apply_in_order() -> None:
    from sandbox.core import Fault, Sandbox

    sb = Sandbox()
    sb.add_fault(Fault(platform="x", operation="read", kind="rate_limited", skip=2))
    sb.add_fault(Fault(platform="x", operation="read", kind="expired_token"))
    kinds = [getattr(sb.take_fault("x", "read"), "kind", None) for _ in range(5)]
    assert kinds == [None, None, "rate_limited", "expired_token", None]


def test_a_rate_fault_hits_about_its_share_of_calls() -> None:
    from sandbox.core import Fault, Sandbox

    sb = Sandbox()
    sb.random.seed(7)
    sb.add_fault(Fault(platform="x", operation="*", kind="server_error", times=-1, rate=0.1))
    hits = sum(sb.take_fault("x", "any") is not None for _ in range(2000))
    assert 150 < hits < 250
