"""POST/GET/PATCH/DELETE /webhooks, the secret shown once, SSRF refusals, test events, RLS."""

from __future__ import annotations

import psycopg
import pytest

from shared.app import application
from shared.webhooks.urls import EndpointUrlRefused, check_endpoint_url
from tests.webhooks.conftest import call, verified


@pytest.fixture(autouse=True)
def env(harness):
    """Token vault and JWT secret as the functions see them (the harness sets both)."""
    return harness


def test_the_secret_is_shown_once_and_stored_encrypted(db, receiver, user_a) -> None:
    status, created = call("webhooks", "POST", "/", user_a,
                           {"url": receiver.url + "/in", "events": ["target.published", "post.completed"],
                            "description": "CRM"})
    assert status == 201, created
    secret = created["secret"]
    assert secret.startswith("whsec_") and len(secret) > 40
    assert created["events"] == ["target.published", "post.completed"] and created["status"] == "active"

    status, listing = call("webhooks", "GET", "/", user_a)
    assert status == 200 and [w["id"] for w in listing["webhooks"]] == [created["id"]]
    assert "secret" not in listing["webhooks"][0]
    status, one = call("webhooks", "GET", f"/{created['id']}", user_a)
    assert status == 200 and "secret" not in one

    with db.service() as conn:
        row = conn.execute("select user_id, secret_ciphertext from webhook_endpoints where id = %s",
                           (created["id"],)).fetchone()
    stored = bytes(row["secret_ciphertext"])
    assert secret.encode() not in stored and secret[6:].encode() not in stored
    assert application().vault.decrypt(stored, user_id=str(row["user_id"]), platform=f"webhook-{created['id']}",
                           purpose="signing_secret") == secret

    # Users cannot read the ciphertext column, even of their own endpoint.
    with pytest.raises(psycopg.errors.InsufficientPrivilege), db.user(user_a) as conn:
        conn.execute("select secret_ciphertext from webhook_endpoints").fetchall()


def test_test_event_is_signed_and_reported(receiver, user_a) -> None:
    _, created = call("webhooks", "POST", "/", user_a, {"url": receiver.url + "/ping", "events": ["target.failed"]})
    status, result = call("webhooks", "POST", f"/{created['id']}/test", user_a)
    assert status == 200, result
    assert (result["outcome"], result["succeeded"], result["response_status"]) == ("succeeded", True, 200)
    (body,) = verified(receiver.to("/ping"), created["secret"])
    assert body["type"] == "webhook.test" and body["data"]["endpoint_id"] == created["id"]
    _, listing = call("webhooks", "GET", f"/{created['id']}/deliveries", user_a)
    assert [(d["event_type"], d["event_id"], d["response_status"]) for d in listing["deliveries"]] == [
        ("webhook.test", None, 200)]


def test_someone_elses_endpoint_is_not_found(receiver, user_a, user_b) -> None:
    _, created = call("webhooks", "POST", "/", user_a, {"url": receiver.url + "/a", "events": ["post.completed"]})
    for method, path in (("GET", ""), ("DELETE", ""), ("PATCH", ""), ("GET", "/deliveries"), ("POST", "/test")):
        status, body = call("webhooks", method, f"/{created['id']}{path}", user_b, {"enabled": True})
        assert status == 404 and body["code"] == "webhook_not_found", (method, path)
    assert call("webhooks", "GET", "/", user_b)[1] == {"webhooks": []}
    assert call("webhooks", "GET", f"/{created['id']}", user_a)[0] == 200

    status, deleted = call("webhooks", "DELETE", f"/{created['id']}", user_a)
    assert status == 200 and deleted["deleted"] is True
    assert call("webhooks", "GET", f"/{created['id']}", user_a)[0] == 404


@pytest.mark.parametrize("body, field", [
    ({"url": "https://hooks.example.com/x", "events": ["post.exploded"]}, "events"),
    ({"url": "https://hooks.example.com/x", "events": []}, "events"),
    ({"events": ["post.completed"]}, "url"),
])
def test_bad_requests_are_explained(user_a, body, field) -> None:
    status, answer = call("webhooks", "POST", "/", user_a, body)
    assert status == 422, answer
    assert field in str(answer["detail"]) and answer["message"]


@pytest.mark.parametrize("url", [
    "https://127.0.0.1/hook",
    "https://10.1.2.3/hook",
    "https://192.168.0.10:8443/hook",
    "https://169.254.169.254/latest/meta-data/",
    "https://metadata.google.internal/computeMetadata/v1/",
    "https://localhost/hook",
    "https://[::1]/hook",
    "https://[::ffff:10.0.0.1]/hook",
    "https://[fd00::1]/hook",
    "https://100.64.0.1/hook",
    "https://0.0.0.0/hook",
])
def test_private_loopback_and_metadata_addresses_are_refused(user_a, monkeypatch, url) -> None:
    monkeypatch.setenv("WEBHOOK_ALLOW_PRIVATE_URLS", "false")
    status, answer = call("webhooks", "POST", "/", user_a, {"url": url, "events": ["post.completed"]})
    assert status == 422, answer
    assert answer["code"] == "webhook_url_refused"
    assert answer["message"] == ("Webhooks can only be sent to public internet addresses, not to private, local "
                                 "or cloud metadata addresses.")
    assert call("webhooks", "GET", "/", user_a)[1] == {"webhooks": []}


def test_plain_http_is_refused_outside_local_mode(user_a, monkeypatch) -> None:
    monkeypatch.setenv("WEBHOOK_ALLOW_PRIVATE_URLS", "false")
    status, answer = call("webhooks", "POST", "/", user_a, {"url": "http://93.184.215.14/hook",
                                                            "events": ["post.completed"]})
    assert status == 422 and answer["message"] == "Webhook addresses must start with https://."


def test_a_public_name_resolving_to_a_private_address_is_refused(monkeypatch) -> None:
    monkeypatch.setenv("WEBHOOK_ALLOW_PRIVATE_URLS", "false")
    for address in ("10.0.0.7", "169.254.169.254", "::1"):
        with pytest.raises(EndpointUrlRefused) as refused:
            check_endpoint_url("https://hooks.example.com/in", resolver=lambda host, port, a=address: [a])
        assert address in refused.value.reason
    # Every resolved address must pass, not just the first.
    with pytest.raises(EndpointUrlRefused):
        check_endpoint_url("https://hooks.example.com/in", resolver=lambda host, port: ["93.184.215.14", "10.0.0.7"])
    hop = check_endpoint_url("https://hooks.example.com/in", resolver=lambda host, port: ["93.184.215.14"])
    assert (hop.host, hop.address, hop.port) == ("hooks.example.com", "93.184.215.14", 443)
