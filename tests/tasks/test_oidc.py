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
    verify_task_request(headers, settings=SETTINGS, environment="production", certs_fetcher=certs_fetcher,
                        now=time.time())


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
                            environment="production", certs_fetcher=broken, now=time.time())


def test_production_without_audience_or_account_is_a_configuration_error():
    with pytest.raises(ConfigError):
        verify_task_request({"Authorization": f"Bearer {token()}"}, settings=TasksSettings(),
                            environment="production", certs_fetcher=certs_fetcher, now=time.time())


@pytest.mark.parametrize("environment", ["local", "test"])
def test_locally_emulator_deliveries_and_bare_requests_are_accepted(environment):
    verify_task_request({"X-CloudTasks-QueueName": "projects/p/locations/l/queues/q"}, settings=TasksSettings(),
                        environment=environment, now=time.time())
    verify_task_request({}, settings=TasksSettings(), environment=environment, now=time.time())


# --- Cloud Run: the token arrives with its signature removed ------------------------------
# Cloud Run verifies the signature (invoker IAM check) and forwards the token as
# header.payload.SIGNATURE_REMOVED_BY_GOOGLE
# (https://cloud.google.com/run/docs/troubleshooting#signature-removed).

ON_CLOUD_RUN = {"K_SERVICE": "publish-youtube"}
TRUSTING = TasksSettings(tasks_audience=AUDIENCE, tasks_service_account=ACCOUNT, tasks_invoker_iam_check=True)


def stripped(**overrides) -> str:
    header, payload, _ = token(**overrides).split(".")
    return f"{header}.{payload}.SIGNATURE_REMOVED_BY_GOOGLE"


def verify_on_cloud_run(tok: str, *, settings=TRUSTING, env=ON_CLOUD_RUN) -> None:
    def no_certs(url: str) -> dict[str, str]:
        raise AssertionError("a signature-removed token must not be checked against certificates")

    verify_task_request({"Authorization": f"Bearer {tok}"}, settings=settings, environment="production",
                        certs_fetcher=no_certs, env=env, now=time.time())


def test_a_signature_removed_token_with_our_claims_passes_on_cloud_run_with_the_invoker_check():
    verify_on_cloud_run(stripped())
    verify_on_cloud_run(stripped(iss="accounts.google.com"))


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"aud": "https://elsewhere.example.com"}, "audience"),
        ({"email": "someone@proj.iam.gserviceaccount.com"}, "service account"),
        ({"email_verified": False}, "service account"),
        ({"iat": int(time.time()) - 7200, "exp": int(time.time()) - 3600}, "expired"),
        ({"iss": "https://evil.example.com"}, "issuer"),
    ],
)
def test_a_signature_removed_token_with_wrong_claims_is_refused(overrides, reason):
    with pytest.raises(TaskAuthError) as refused:
        verify_on_cloud_run(stripped(**overrides))
    assert reason in refused.value.reason.lower()


@pytest.mark.parametrize(
    ("settings", "env"),
    [
        (TRUSTING, {}),  # not on Cloud Run: nobody checked the signature
        (SETTINGS, ON_CLOUD_RUN),  # on Cloud Run, but the function was not deployed with the invoker check
    ],
)
def test_a_signature_removed_token_is_refused_unless_cloud_run_checked_it(settings, env):
    with pytest.raises(TaskAuthError) as refused:
        verify_on_cloud_run(stripped(), settings=settings, env=env)
    assert "signature removed" in refused.value.reason


def test_a_garbled_signature_removed_token_is_refused():
    for bad in ("abc.SIGNATURE_REMOVED_BY_GOOGLE", "a.!!!.SIGNATURE_REMOVED_BY_GOOGLE",
                "a.bnVsbA.SIGNATURE_REMOVED_BY_GOOGLE"):  # "null" as claims
        with pytest.raises(TaskAuthError):
            verify_on_cloud_run(bad)


def test_a_signed_token_still_needs_a_valid_signature_on_cloud_run():
    with pytest.raises(TaskAuthError):
        verify_task_request({"Authorization": f"Bearer {token(key=OTHER_KEY)}"}, settings=TRUSTING,
                            environment="production", certs_fetcher=certs_fetcher, env=ON_CLOUD_RUN, now=time.time())
    verify_task_request({"Authorization": f"Bearer {token()}"}, settings=TRUSTING, environment="production",
                        certs_fetcher=certs_fetcher, env=ON_CLOUD_RUN, now=time.time())


@pytest.fixture
def production_task_target(monkeypatch, make_app):
    """A private function as deployed: production, on Cloud Run, invoker check declared on."""
    import flask

    from shared.api.endpoints import internal_endpoint

    for name, value in {"ENVIRONMENT": "production", "TASKS_AUDIENCE": AUDIENCE, "TASKS_SERVICE_ACCOUNT": ACCOUNT,
                        "TASKS_INVOKER_IAM_CHECK": "true", "K_SERVICE": "publish-youtube"}.items():
        monkeypatch.setenv(name, value)
    make_app()

    @internal_endpoint
    def target(request: flask.Request) -> dict[str, str]:
        return {"ran": "yes"}

    app = flask.Flask("task-target")
    app.add_url_rule("/", "target", lambda: target(flask.request), methods=["POST"])
    yield app.test_client()
    monkeypatch.undo()


def test_a_deployed_task_target_runs_a_cloud_run_forwarded_task_and_refuses_a_wrong_one(production_task_target):
    import io
    import json

    from shared import log

    ran = production_task_target.post("/", headers={"Authorization": f"Bearer {stripped()}"})
    assert ran.status_code == 200 and ran.get_json() == {"ran": "yes"}
    stream = io.StringIO()
    log.configure("INFO", stream=stream)
    try:
        refused = production_task_target.post(
            "/", headers={"Authorization": f"Bearer {stripped(aud='https://elsewhere.example.com')}"})
    finally:
        log.configure()
    assert refused.status_code == 403 and "audience" in refused.get_json()["detail"]
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert any(line["message"] == "task_auth_refused" and "audience" in line["reason"] for line in lines)
