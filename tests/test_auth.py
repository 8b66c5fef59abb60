"""Supabase access-token verification: HS256 secret and ES256/RS256 keys from a JWKS over real HTTP."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from shared import auth
from shared.auth import (
    AuthConfig,
    AuthenticationError,
    JwksCache,
    SigningKeysUnavailable,
    config_from_settings,
    mint_local_token,
    verify_access_token,
    verify_with,
)
from shared.config import ConfigError, CoreSettings
from tests.support.http_server import QuietHandler, serve_handler

SECRET = "local-test-jwt-secret-with-at-least-32-characters!"
ISSUER = "https://project-ref.supabase.co/auth/v1"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sign_hmac(header: dict, payload: dict, key: bytes) -> str:
    """Sign by hand: PyJWT (rightly) refuses to HMAC with a public key, but attackers do not ask."""
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(payload).encode())}"
    signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(signature)}"


def supabase_claims(**overrides) -> dict:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "sub": str(uuid.uuid4()),
        "aud": "authenticated",
        "role": "authenticated",
        "email": "creator@example.test",
        "exp": now + 600,
        "iat": now,
        "session_id": str(uuid.uuid4()),
        "aal": "aal1",
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


# ----------------------------------------------------------------------------- a JWKS endpoint


class JwksServer:
    """A real HTTP server publishing a JWKS that a test can change while it runs."""

    def __init__(self) -> None:
        self.keys: list[dict] = []
        self.requests = 0
        self.failing = False
        outer = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                outer.requests += 1
                if outer.failing or self.path != "/auth/v1/.well-known/jwks.json":
                    self.send_response(503 if outer.failing else 404)
                    self.end_headers()
                    return
                body = json.dumps({"keys": outer.keys}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.running = serve_handler(Handler, name="jwks")
        self.url = f"{self.running.url}/auth/v1/.well-known/jwks.json"

    def publish(self, public_key, kid: str, alg: str) -> None:
        algorithm = ECAlgorithm if alg == "ES256" else RSAAlgorithm
        jwk = algorithm.to_jwk(public_key, as_dict=True)
        self.keys.append({**jwk, "kid": kid, "alg": alg, "use": "sig"})

    def stop(self) -> None:
        self.running.stop()


@pytest.fixture(scope="module")
def ec_key():
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture(scope="module")
def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def jwks(ec_key, rsa_key):
    server = JwksServer()
    server.publish(ec_key.public_key(), "ec-1", "ES256")
    server.publish(rsa_key.public_key(), "rsa-1", "RS256")
    yield server
    server.stop()


def make_config(*, secret: str | None = SECRET, jwks_url: str | None = None, issuer: str | None = ISSUER,
                **cache_options) -> AuthConfig:
    return AuthConfig(
        hs256_secret=secret,
        jwks=JwksCache(jwks_url, **cache_options) if jwks_url else None,
        audience="authenticated",
        issuer=issuer,
    )


def refused(config: AuthConfig, token: str) -> str:
    with pytest.raises(AuthenticationError) as caught:
        verify_with(config, token)
    reason = caught.value.reason
    assert reason and reason.endswith(".") and "jwt" not in reason.lower()
    return reason


# ----------------------------------------------------------------------------- valid tokens


def test_valid_hs256_token_from_mint_local_token():
    user_id = str(uuid.uuid4())
    token = mint_local_token(user_id, "a@example.test", secret=SECRET, issuer=ISSUER)
    claims = verify_with(make_config(), token)
    assert claims.user_id == user_id
    assert claims.email == "a@example.test"
    assert claims.role == "authenticated"
    for name in ("iss", "sub", "aud", "role", "email", "exp", "iat", "session_id", "aal"):
        assert name in claims.raw
    assert claims.raw["exp"] - claims.raw["iat"] == 3600
    with pytest.raises(AttributeError):
        claims.user_id = "someone else"  # type: ignore[misc]


def test_valid_es256_and_rs256_tokens_from_jwks(jwks, ec_key, rsa_key):
    config = make_config(secret=None, jwks_url=jwks.url)
    es_claims = supabase_claims()
    es_token = jwt.encode(es_claims, ec_key, algorithm="ES256", headers={"kid": "ec-1"})
    assert verify_with(config, es_token).user_id == es_claims["sub"]
    rs_claims = supabase_claims()
    rs_token = jwt.encode(rs_claims, rsa_key, algorithm="RS256", headers={"kid": "rsa-1"})
    assert verify_with(config, rs_token).user_id == rs_claims["sub"]
    # Keys are cached: both tokens, verified again, cost one fetch in total.
    verify_with(config, es_token)
    verify_with(config, rs_token)
    assert jwks.requests == 1


def test_both_secret_and_jwks_configured_accept_both(jwks, ec_key):
    config = make_config(jwks_url=jwks.url)
    assert verify_with(config, mint_local_token(str(uuid.uuid4()), None, secret=SECRET, issuer=ISSUER))
    assert verify_with(config, jwt.encode(supabase_claims(), ec_key, algorithm="ES256", headers={"kid": "ec-1"}))


def test_expiry_has_a_small_leeway_only():
    config = make_config()
    now = int(time.time())
    just_expired = jwt.encode(supabase_claims(exp=now - 3), SECRET, algorithm="HS256")
    assert verify_with(config, just_expired)
    expired = jwt.encode(supabase_claims(exp=now - 120, iat=now - 3720), SECRET, algorithm="HS256")
    assert refused(config, expired) == auth.EXPIRED


def test_verified_claims_open_the_users_rows_in_the_database(db, user_a):
    token = mint_local_token(user_a["sub"], user_a["email"], secret=SECRET, issuer=ISSUER)
    claims = verify_with(make_config(), token)
    with db.user(claims.raw) as conn:
        row = conn.execute("select auth.uid()::text as uid, auth.role() as role").fetchone()
    assert row == {"uid": user_a["sub"], "role": "authenticated"}


def test_verify_access_token_reads_the_environment(monkeypatch, jwks, ec_key, make_app):
    supabase_url = jwks.url.removesuffix("/auth/v1/.well-known/jwks.json")
    monkeypatch.setenv("SUPABASE_URL", supabase_url)
    monkeypatch.setenv("SUPABASE_JWT_SECRET", SECRET)
    for name in ("SUPABASE_JWKS_URL", "SUPABASE_JWT_ISSUER", "SUPABASE_JWT_AUDIENCE"):
        monkeypatch.delenv(name, raising=False)
    make_app()
    user_id = str(uuid.uuid4())
    # The issuer defaults to <SUPABASE_URL>/auth/v1 for both minting and checking.
    assert verify_access_token(mint_local_token(user_id, None, secret=SECRET)).user_id == user_id
    es_token = jwt.encode(supabase_claims(iss=f"{supabase_url}/auth/v1"), ec_key, algorithm="ES256",
                          headers={"kid": "ec-1"})
    assert verify_access_token(es_token).email == "creator@example.test"
    with pytest.raises(AuthenticationError) as caught:
        verify_access_token(mint_local_token(user_id, None, secret=SECRET, issuer=ISSUER))
    assert caught.value.reason == auth.WRONG_ISSUER


# ----------------------------------------------------------------------------- refusals


def test_wrong_audience():
    token = jwt.encode(supabase_claims(aud="some-other-app"), SECRET, algorithm="HS256")
    assert refused(make_config(), token) == auth.WRONG_AUDIENCE
    assert refused(make_config(), jwt.encode(supabase_claims(aud=None), SECRET, algorithm="HS256")) \
        == auth.MISSING_CLAIM


def test_wrong_issuer():
    token = jwt.encode(supabase_claims(iss="https://evil.example/auth/v1"), SECRET, algorithm="HS256")
    assert refused(make_config(), token) == auth.WRONG_ISSUER
    assert refused(make_config(), jwt.encode(supabase_claims(iss=None), SECRET, algorithm="HS256")) \
        == auth.MISSING_CLAIM


def test_alg_none_is_refused(jwks):
    claims = supabase_claims()
    unsigned = f"{b64url(json.dumps({'alg': 'none', 'typ': 'JWT'}).encode())}.{b64url(json.dumps(claims).encode())}."
    for config in (make_config(), make_config(secret=None, jwks_url=jwks.url), make_config(jwks_url=jwks.url)):
        assert refused(config, unsigned) == auth.ALGORITHM_REFUSED
    for alg in ("None", "NONE", "HS512", "PS256"):
        header = b64url(json.dumps({"alg": alg, "typ": "JWT"}).encode())
        assert refused(make_config(), f"{header}.{b64url(json.dumps(claims).encode())}.") == auth.ALGORITHM_REFUSED


def test_tampered_payload_is_refused(jwks, ec_key):
    victim = str(uuid.uuid4())
    for config, token in (
        (make_config(), jwt.encode(supabase_claims(), SECRET, algorithm="HS256")),
        (make_config(secret=None, jwks_url=jwks.url),
         jwt.encode(supabase_claims(), ec_key, algorithm="ES256", headers={"kid": "ec-1"})),
    ):
        header, payload, signature = token.split(".")
        claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
        claims["sub"] = victim
        forged = f"{header}.{b64url(json.dumps(claims).encode())}.{signature}"
        assert refused(config, forged) == auth.BAD_SIGNATURE


def test_tampered_signature_is_refused(jwks, ec_key):
    for config, token in (
        (make_config(), jwt.encode(supabase_claims(), SECRET, algorithm="HS256")),
        (make_config(secret=None, jwks_url=jwks.url),
         jwt.encode(supabase_claims(), ec_key, algorithm="ES256", headers={"kid": "ec-1"})),
    ):
        header, payload, signature = token.split(".")
        raw = bytearray(base64.urlsafe_b64decode(signature + "=="))
        raw[5] ^= 0x01
        assert refused(config, f"{header}.{payload}.{b64url(bytes(raw))}") == auth.BAD_SIGNATURE
        assert refused(config, f"{header}.{payload}.") in (auth.BAD_SIGNATURE, auth.MALFORMED)


def test_wrong_key_is_refused(jwks):
    other_secret = "another-projects-secret-with-at-least-32-chars!"
    assert refused(make_config(), jwt.encode(supabase_claims(), other_secret, algorithm="HS256")) \
        == auth.BAD_SIGNATURE
    impostor = ec.generate_private_key(ec.SECP256R1())
    token = jwt.encode(supabase_claims(), impostor, algorithm="ES256", headers={"kid": "ec-1"})
    assert refused(make_config(secret=None, jwks_url=jwks.url), token) == auth.BAD_SIGNATURE


def test_unknown_kid_is_refetched_once_then_refused(jwks, ec_key):
    config = make_config(secret=None, jwks_url=jwks.url)
    token = jwt.encode(supabase_claims(), ec_key, algorithm="ES256", headers={"kid": "not-published"})
    assert refused(config, token) == auth.UNKNOWN_KEY
    assert jwks.requests == 2  # the first fetch, then one refetch for the unknown kid
    # More made-up kids within the cooldown do not make us hammer the endpoint.
    for _ in range(5):
        assert refused(config, token) == auth.UNKNOWN_KEY
    assert jwks.requests == 2
    no_kid = jwt.encode(supabase_claims(), ec_key, algorithm="ES256")
    assert refused(config, no_kid) == auth.UNKNOWN_KEY


def test_rotated_signing_key_is_picked_up_by_refetch(jwks):
    config = make_config(secret=None, jwks_url=jwks.url)
    assert refused(config, "x.y.z") == auth.MALFORMED  # no fetch for garbage
    assert jwks.requests == 0
    rotated = ec.generate_private_key(ec.SECP256R1())
    old = ec.generate_private_key(ec.SECP256R1())
    jwks.publish(old.public_key(), "ec-old", "ES256")
    assert verify_with(config, jwt.encode(supabase_claims(), old, algorithm="ES256", headers={"kid": "ec-old"}))
    jwks.publish(rotated.public_key(), "ec-2", "ES256")
    token = jwt.encode(supabase_claims(), rotated, algorithm="ES256", headers={"kid": "ec-2"})
    assert verify_with(config, token)
    assert jwks.requests == 2


def test_jwks_ttl_expiry_refetches_and_survives_an_outage(jwks, ec_key):
    now = [1000.0]
    config = make_config(secret=None, jwks_url=jwks.url, ttl=60, clock=lambda: now[0])
    token = jwt.encode(supabase_claims(), ec_key, algorithm="ES256", headers={"kid": "ec-1"})
    verify_with(config, token)
    now[0] += 61
    verify_with(config, token)
    assert jwks.requests == 2
    # Supabase down after the TTL: keep using the keys we have rather than signing everyone out.
    jwks.failing = True
    now[0] += 61
    assert verify_with(config, token)
    assert jwks.requests == 3


def test_jwks_unreachable_at_first_use_is_a_server_problem(jwks, ec_key):
    jwks.failing = True
    token = jwt.encode(supabase_claims(), ec_key, algorithm="ES256", headers={"kid": "ec-1"})
    with pytest.raises(SigningKeysUnavailable):
        verify_with(make_config(secret=None, jwks_url=jwks.url), token)
    assert not issubclass(SigningKeysUnavailable, AuthenticationError)


def test_hs256_token_refused_when_only_jwks_is_configured(jwks):
    # Even signed with the real secret: the project switched to asymmetric keys.
    token = jwt.encode(supabase_claims(), SECRET, algorithm="HS256")
    assert refused(make_config(secret=None, jwks_url=jwks.url), token) == auth.ALGORITHM_REFUSED


def test_algorithm_confusion_is_refused(jwks, rsa_key, ec_key):
    claims = supabase_claims()
    public_pem = rsa_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    jwks_only = make_config(secret=None, jwks_url=jwks.url)
    both = make_config(jwks_url=jwks.url)
    secret_only = make_config()

    # Classic confusion: HS256 "signed" with the published RSA public key as the HMAC secret.
    hs_with_public_key = sign_hmac({"alg": "HS256", "typ": "JWT", "kid": "rsa-1"}, claims, public_pem)
    assert refused(jwks_only, hs_with_public_key) == auth.ALGORITHM_REFUSED
    assert refused(both, hs_with_public_key) == auth.BAD_SIGNATURE

    # RS256 header, but the signature is an HMAC with the project secret.
    rs_with_secret = sign_hmac({"alg": "RS256", "typ": "JWT", "kid": "rsa-1"}, claims, SECRET.encode())
    assert refused(secret_only, rs_with_secret) == auth.ALGORITHM_REFUSED
    assert refused(both, rs_with_secret) == auth.BAD_SIGNATURE

    # ES256 header pointing at the RSA key: the key type must match the algorithm.
    es_on_rsa_kid = jwt.encode(claims, ec_key, algorithm="ES256", headers={"kid": "rsa-1"})
    assert refused(jwks_only, es_on_rsa_kid) == auth.ALGORITHM_REFUSED


def test_missing_or_malformed_sub_is_refused():
    assert refused(make_config(), jwt.encode(supabase_claims(sub=None), SECRET, algorithm="HS256")) == auth.NO_USER
    assert refused(make_config(), jwt.encode(supabase_claims(sub="not-a-uuid"), SECRET, algorithm="HS256")) \
        == auth.NO_USER
    assert refused(make_config(), jwt.encode(supabase_claims(sub=""), SECRET, algorithm="HS256")) == auth.NO_USER


def test_anon_and_service_role_tokens_are_refused():
    # The anon key is a valid JWT of the project, but it is not a signed-in user.
    assert refused(make_config(), jwt.encode(supabase_claims(role="anon"), SECRET, algorithm="HS256")) \
        == auth.NOT_SIGNED_IN
    assert refused(make_config(), jwt.encode(supabase_claims(role="service_role"), SECRET, algorithm="HS256")) \
        == auth.NOT_SIGNED_IN
    assert refused(make_config(), jwt.encode(supabase_claims(role=None), SECRET, algorithm="HS256")) \
        == auth.MISSING_CLAIM


def test_missing_exp_and_garbage_are_refused():
    assert refused(make_config(), jwt.encode(supabase_claims(exp=None), SECRET, algorithm="HS256")) \
        == auth.MISSING_CLAIM
    for garbage in ("", "abc", "a.b", "a.b.c", "Bearer xyz"):
        assert refused(make_config(), garbage) == auth.MALFORMED
    future = int(time.time()) + 600
    not_yet = jwt.encode(supabase_claims(nbf=future), SECRET, algorithm="HS256")
    assert refused(make_config(), not_yet) == auth.NOT_YET_VALID


def test_configuration_errors_are_clear(monkeypatch):
    for name in ("SUPABASE_URL", "SUPABASE_JWT_SECRET", "SUPABASE_JWKS_URL", "SUPABASE_JWT_ISSUER"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigError, match="SUPABASE_JWT_SECRET"):
        config_from_settings(CoreSettings(environment="test"))
    with pytest.raises(ConfigError, match="SUPABASE_URL or SUPABASE_JWT_ISSUER"):
        config_from_settings(CoreSettings(environment="production", supabase_jwt_secret=SECRET))
    derived = config_from_settings(CoreSettings(environment="production", supabase_url="https://ref.supabase.co/"))
    assert derived.issuer == "https://ref.supabase.co/auth/v1"
    assert derived.jwks is not None and derived.jwks.url == "https://ref.supabase.co/auth/v1/.well-known/jwks.json"
    assert derived.hs256_secret is None
