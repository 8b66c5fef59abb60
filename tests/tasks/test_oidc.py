"""OIDC check of task deliveries, with a key pair and certificate made here and injected certs."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from werkzeug.datastructures import Headers

from shared.config import ConfigError
from shared.tasks.oidc import TaskAuthError, verify_task_request
from shared.tasks.settings import TasksSettings

AUDIENCE = "https://functions.example.com"
ACCOUNT = "tasks-invoker@proj.iam.gserviceaccount.com"
SETTINGS = TasksSettings(tasks_audience=AUDIENCE, tasks_service_account=ACCOUNT)


def _key_and_cert() -> tuple[rsa.RSAPrivateKey, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test-signer")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return key, cert.public_bytes(serialization.Encoding.PEM).decode()


KEY, CERT = _key_and_cert()
OTHER_KEY, _ = _key_and_cert()
CERTS = {"kid-1": CERT}
fetched: list[str] = []


def certs_fetcher(url: str) -> dict[str, str]:
    fetched.append(url)
    return CERTS


def token(*, key=KEY, **overrides) -> str:
    now = int(time.time())
    claims = {"iss": "https://accounts.google.com", "aud": AUDIENCE, "email": ACCOUNT, "email_verified": True,
              "sub": "1234567890", "iat": now, "exp": now + 3600, **overrides}
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "kid-1"})


def verify(headers) -> None:
    verify_task_request(headers, settings=SETTINGS, environment="production", certs_fetcher=certs_fetcher)


def test_a_token_signed_for_our_account_and_audience_passes():
    fetched.clear()
    verify({"Authorization": f"Bearer {token()}"})
    verify({"authorization": f"bearer {token()}"})
    verify(Headers({"Authorization": f"Bearer {token()}"}))  # what Flask's request.headers is
    assert fetched and all(url.startswith("https://www.googleapis.com/") for url in fetched)


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "missing"),
        ({"Authorization": "Basic abc"}, "missing"),
        ({"Authorization": f"Bearer {token(aud='https://elsewhere.example.com')}"}, "audience"),
        ({"Authorization": f"Bearer {token(email='someone@proj.iam.gserviceaccount.com')}"}, "service account"),
        ({"Authorization": f"Bearer {token(email_verified=False)}"}, "service account"),
        ({"Authorization": f"Bearer {token(iss='https://evil.example.com')}"}, "issuer"),
        ({"Authorization": f"Bearer {token(iat=int(time.time()) - 7200, exp=int(time.time()) - 3600)}"}, "expired"),
        ({"Authorization": f"Bearer {token(key=OTHER_KEY)}"}, "signature"),
        ({"Authorization": "Bearer not-a-jwt"}, "invalid"),
    ],
)
def test_anything_else_is_refused(headers, reason):
    with pytest.raises(TaskAuthError) as refused:
        verify(headers)
    assert reason in refused.value.reason.lower()


def test_unreachable_certificates_refuse_instead_of_crashing():
    def broken(url: str) -> dict[str, str]:
        raise OSError("network down")

    with pytest.raises(TaskAuthError):
        verify_task_request({"Authorization": f"Bearer {token()}"}, settings=SETTINGS,
                            environment="production", certs_fetcher=broken)


def test_production_without_audience_or_account_is_a_configuration_error():
    with pytest.raises(ConfigError):
        verify_task_request({"Authorization": f"Bearer {token()}"}, settings=TasksSettings(),
                            environment="production", certs_fetcher=certs_fetcher)


@pytest.mark.parametrize("environment", ["local", "test"])
def test_locally_emulator_deliveries_and_bare_requests_are_accepted(environment):
    verify_task_request({"X-CloudTasks-QueueName": "projects/p/locations/l/queues/q"}, environment=environment)
    verify_task_request({}, environment=environment)
