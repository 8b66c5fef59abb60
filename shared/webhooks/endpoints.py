"""Register, list, re-enable and delete webhook endpoints.

The signing secret (`whsec_` + base64 of 32 random bytes, the Standard Webhooks form)
is returned once, when the endpoint is created; only its token-vault ciphertext is
stored, bound to the user and the endpoint id. Reads go through the user's RLS
transaction (the secret column is not even readable there); writes are checked here
and run as the server.
"""

from __future__ import annotations

import base64
import secrets
import uuid
from typing import Any

from pydantic import Field, field_validator

from shared.connections.vault import TokenVault
from shared.db.database import Database
from shared.errors import Conflict, InvalidInput, NotFound
from shared.log import get_logger
from shared.responses import (
    WebhookAttempt,
    WebhookAttempts,
    WebhookCreated,
    WebhookDeleted,
    WebhookEndpoint,
    WebhookList,
)
from shared.strict import StrictModel, UserText
from shared.users import User
from shared.webhooks.events import EVENT_TYPES
from shared.webhooks.urls import EndpointUrlRefused, check_endpoint_url

log = get_logger(__name__)

MAX_ENDPOINTS_PER_USER = 20
SECRET_PREFIX = "whsec_"  # noqa: S105 (the Standard Webhooks prefix, not a secret)
_COLUMNS = ("id, url, description, events, status, disabled_reason, failing_since, last_success_at, created_at, "
            "updated_at")


def known_events(events: list[str]) -> list[str]:
    unknown = [name for name in events if name not in EVENT_TYPES]
    if unknown:
        raise ValueError(f"unknown event type {unknown[0]!r}; known types: {', '.join(EVENT_TYPES)}")
    return list(dict.fromkeys(events))


class EndpointCreate(StrictModel):
    url: UserText = Field(min_length=1, max_length=2000, description="https:// address that receives the events")
    events: list[UserText] = Field(min_length=1, max_length=20,
                                   description="Event types to send, e.g. ['target.published']")
    description: UserText | None = Field(default=None, max_length=200)

    @field_validator("events")
    @classmethod
    def _known_events(cls, events: list[str]) -> list[str]:
        return known_events(events)


class EndpointUpdate(StrictModel):
    enabled: bool | None = Field(default=None, description="true turns a disabled endpoint back on")
    events: list[UserText] | None = Field(default=None, min_length=1, max_length=20)
    description: UserText | None = Field(default=None, max_length=200)

    @field_validator("events")
    @classmethod
    def _known_events(cls, events: list[str] | None) -> list[str] | None:
        return None if events is None else known_events(events)


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


# Bound to the user and the endpoint: a ciphertext copied to another row does not decrypt.
# The same binding is listed in shared/connections/vault.VAULT_COLUMNS, so key rotation covers it.
_PURPOSE = "signing_secret"


def encrypt_secret(vault: TokenVault, secret: str, *, user_id: str, endpoint_id: str) -> bytes:
    return vault.encrypt(secret, user_id=user_id, platform=f"webhook-{endpoint_id}", purpose=_PURPOSE)


def decrypt_secret(vault: TokenVault, ciphertext: bytes, *, user_id: str, endpoint_id: str) -> str:
    return vault.decrypt(ciphertext, user_id=user_id, platform=f"webhook-{endpoint_id}", purpose=_PURPOSE)


def view(row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    out["id"] = str(out["id"])
    out.pop("user_id", None)
    out.pop("secret_ciphertext", None)
    return out


def _url_error(exc: EndpointUrlRefused) -> InvalidInput:
    return InvalidInput(exc.message, code="webhook_url_refused", detail={"field": "url", "reason": exc.reason})


def create_endpoint(db: Database, vault: TokenVault, user: User, body: EndpointCreate) -> WebhookCreated:
    try:
        check_endpoint_url(body.url)
    except EndpointUrlRefused as exc:
        raise _url_error(exc) from None
    endpoint_id = str(uuid.uuid4())
    secret = new_secret()
    ciphertext = encrypt_secret(vault, secret, user_id=user.id, endpoint_id=endpoint_id)
    with db.service() as conn:
        # Serialize this user's registrations so the limit holds under concurrent calls.
        conn.execute("select pg_advisory_xact_lock(hashtext('webhook_endpoints:' || %s))", (user.id,))
        count = conn.execute("select count(*) as n from webhook_endpoints where user_id = %s",
                             (user.id,)).fetchone()
        if count is not None and count["n"] >= MAX_ENDPOINTS_PER_USER:
            raise Conflict(f"You can have up to {MAX_ENDPOINTS_PER_USER} webhook endpoints. Delete one first.",
                           code="too_many_webhooks")
        row = conn.execute(
            f"insert into webhook_endpoints (id, user_id, url, description, events, secret_ciphertext) "  # noqa: S608
            f"values (%s, %s, %s, %s, %s, %s) returning {_COLUMNS}",
            (endpoint_id, user.id, body.url, body.description, body.events, ciphertext),
        ).fetchone()
    assert row is not None
    log.info("webhook endpoint created", endpoint_id=endpoint_id, events=body.events)
    return WebhookCreated.model_validate({**view(dict(row)), "secret": secret})


def list_endpoints(db: Database, user: User) -> WebhookList:
    with db.user(user.claims) as conn:
        rows = conn.execute(f"select {_COLUMNS} from webhook_endpoints order by created_at").fetchall()  # noqa: S608
    return WebhookList(webhooks=[WebhookEndpoint.model_validate(view(dict(row))) for row in rows])


def get_endpoint(db: Database, user: User, endpoint_id: str) -> WebhookEndpoint:
    with db.user(user.claims) as conn:
        row = conn.execute(f"select {_COLUMNS} from webhook_endpoints where id = %s",  # noqa: S608
                           (endpoint_id,)).fetchone()
    if row is None:
        raise NotFound("We couldn't find that webhook endpoint.", code="webhook_not_found")
    return WebhookEndpoint.model_validate(view(dict(row)))


def update_endpoint(db: Database, user: User, endpoint_id: str, body: EndpointUpdate) -> WebhookEndpoint:
    get_endpoint(db, user, endpoint_id)  # 404 for someone else's endpoint
    with db.service() as conn:
        if body.events is not None:
            conn.execute("update webhook_endpoints set events = %s where id = %s and user_id = %s",
                         (body.events, endpoint_id, user.id))
        if body.description is not None:
            conn.execute("update webhook_endpoints set description = %s where id = %s and user_id = %s",
                         (body.description, endpoint_id, user.id))
        if body.enabled is True:
            conn.execute("update webhook_endpoints set status = 'active', disabled_reason = null, "
                         "failing_since = null where id = %s and user_id = %s", (endpoint_id, user.id))
        elif body.enabled is False:
            disable(conn, endpoint_id, "Turned off by you.")
    return get_endpoint(db, user, endpoint_id)


def disable(conn: Any, endpoint_id: str, reason: str) -> None:
    """Stop sending to an endpoint: pending deliveries are canceled (their attempts stay listed)."""
    conn.execute("update webhook_endpoints set status = 'disabled', disabled_reason = %s where id = %s",
                 (reason, endpoint_id))
    conn.execute("update webhook_deliveries set status = 'canceled', finished_at = now(), next_attempt_at = null "
                 "where endpoint_id = %s and status = 'pending'", (endpoint_id,))


def delete_endpoint(db: Database, user: User, endpoint_id: str) -> WebhookDeleted:
    found = get_endpoint(db, user, endpoint_id)
    with db.service() as conn:
        conn.execute("delete from webhook_endpoints where id = %s and user_id = %s", (endpoint_id, user.id))
    log.info("webhook endpoint deleted", endpoint_id=endpoint_id)
    return WebhookDeleted.model_validate({**found.model_dump(), "deleted": True})


def list_attempts(db: Database, user: User, endpoint_id: str, limit: int = 100) -> WebhookAttempts:
    """Every delivery attempt to the endpoint, newest first, with its delivery's event and state."""
    get_endpoint(db, user, endpoint_id)
    with db.user(user.claims) as conn:
        rows = conn.execute(
            """
            select a.id, a.delivery_id, d.event_id, d.event_type, d.status as delivery_status, a.attempt,
                   a.succeeded, a.response_status, a.latency_ms, a.error, a.attempted_at, d.next_attempt_at
              from webhook_attempts a join webhook_deliveries d on d.id = a.delivery_id
             where a.endpoint_id = %s
             order by a.attempted_at desc, a.id desc
             limit %s
            """,
            (endpoint_id, limit),
        ).fetchall()
    out = []
    for row in rows:
        item = dict(row)
        item["delivery_id"] = str(item["delivery_id"])
        item["event_id"] = str(item["event_id"]) if item["event_id"] else None
        out.append(WebhookAttempt.model_validate(item))
    return WebhookAttempts(deliveries=out)
