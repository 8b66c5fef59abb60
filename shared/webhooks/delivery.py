"""From outbox events to signed HTTP deliveries, with retries over about a day.

1. `fan_out` (scheduler tick): each new outbox event becomes one `webhook_deliveries`
   row per active endpoint of the user that asked for its type (unique per endpoint
   and event), and one task on the `webhooks` Cloud Tasks queue.
2. `deliver` (the `webhook-delivery` task target): one attempt. The delivery is claimed
   with a short lease under its current attempt number, so a duplicated or late task
   does nothing; the POST runs outside any transaction; the attempt is recorded with
   its status code and latency, and a failed attempt schedules the next one as a new
   delayed task (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h: 8 attempts over ~27 h).
3. When the last attempt fails and nothing reached the endpoint since the delivery
   started, the endpoint is disabled and the user gets a mail.
4. `requeue_stranded` (tick): a delivery whose task went missing (enqueue failed, worker
   killed mid-attempt) is enqueued again under a new task name.

Every attempt of an event carries the same `webhook-id` (the event id), so a receiver
that saw it already can drop a repeat: delivery is at least once, idempotent by id.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx
from psycopg.types.json import Jsonb
from standardwebhooks import Webhook

from shared.db.database import Conn, Database
from shared.log import get_logger
from shared.media.url_import import pinned_request
from shared.notify import templates
from shared.notify.outbox import queue_email
from shared.responses import WebhookTestResult
from shared.tasks.client import TaskQueue, task_id_for
from shared.tasks.queues import WEBHOOK_QUEUE
from shared.webhooks import endpoints, events
from shared.webhooks.settings import webhook_settings
from shared.webhooks.urls import EndpointUrlRefused, check_endpoint_url

if TYPE_CHECKING:
    from shared.config import CoreSettings
    from shared.connections.vault import TokenVault

log = get_logger(__name__)

# Wait before attempt 2, 3, ... (after attempt 1 failed, 2 failed, ...).
RETRY_DELAYS_SECONDS = (5, 300, 1800, 7200, 18000, 36000, 36000)
MAX_ATTEMPTS = len(RETRY_DELAYS_SECONDS) + 1
STALE_AFTER = timedelta(minutes=2)
EVENT_RETENTION = timedelta(days=30)
_MAX_ERROR_CHARS = 300


def delivery_url(settings: CoreSettings) -> str:
    return f"{settings.functions_base_url.rstrip('/')}/webhook-delivery"


def enqueue_attempt(queue: TaskQueue, settings: CoreSettings, delivery_id: str, attempt: int, seq: int,
                    delay_seconds: float = 0.0) -> bool:
    return queue.enqueue(
        queue=WEBHOOK_QUEUE,
        task_id=task_id_for(f"{delivery_id}-a{attempt}", seq),
        url=delivery_url(settings),
        payload={"delivery_id": str(delivery_id), "attempt": attempt},
        delay_seconds=delay_seconds,
    )


# ------------------------------------------------------------------------------ fan-out


def fan_out(db: Database, queue: TaskQueue, now: datetime, settings: CoreSettings, limit: int = 500) -> int:
    """Turn new outbox events into deliveries and enqueue them; returns deliveries created."""
    created: list[dict[str, Any]] = []
    with db.service() as conn:
        rows = conn.execute(
            "select * from outbox_events where fanout_due order by created_at limit %s for update skip locked",
            (limit,),
        ).fetchall()
        for event in rows:
            created += conn.execute(
                """
                insert into webhook_deliveries (endpoint_id, event_id, user_id, event_type, payload, next_attempt_at)
                select e.id, %s, e.user_id, %s, %s, %s from webhook_endpoints e
                 where e.user_id = %s and e.status = 'active' and %s = any(e.events)
                on conflict (endpoint_id, event_id) do nothing
                returning id, enqueue_seq
                """,
                (event["id"], event["type"], Jsonb(events.event_body(event)), now, event["user_id"], event["type"]),
            ).fetchall()
        if rows:
            conn.execute("update outbox_events set fanout_due = false where id = any(%s)",
                         ([row["id"] for row in rows],))
    for row in created:
        enqueue_attempt(queue, settings, str(row["id"]), 0, row["enqueue_seq"])
    return len(created)


def requeue_stranded(db: Database, queue: TaskQueue, now: datetime, settings: CoreSettings, limit: int = 500) -> int:
    with db.service() as conn:
        rows = conn.execute(
            """
            update webhook_deliveries d set enqueue_seq = d.enqueue_seq + 1
             where d.id in (select id from webhook_deliveries
                             where status = 'pending' and next_attempt_at <= %s
                               and (leased_until is null or leased_until < %s)
                             order by next_attempt_at limit %s for update skip locked)
            returning d.id, d.attempts, d.enqueue_seq
            """,
            (now - STALE_AFTER, now, limit),
        ).fetchall()
    for row in rows:
        enqueue_attempt(queue, settings, str(row["id"]), row["attempts"], row["enqueue_seq"])
    return len(rows)


def prune_events(db: Database, now: datetime, limit: int = 5000) -> int:
    """Drop events (with their deliveries and attempts) older than the retention period."""
    with db.service() as conn:
        return conn.execute(
            """
            delete from outbox_events where id in (
              select id from outbox_events where created_at < %s and not fanout_due and not mail_due
               and not exists (select 1 from webhook_deliveries d where d.event_id = outbox_events.id
                                and d.status = 'pending')
               limit %s)
            """,
            (now - EVENT_RETENTION, limit),
        ).rowcount


def webhook_tick(db: Database, queue: TaskQueue, now: datetime, settings: CoreSettings) -> dict[str, int]:
    """The scheduler tick's part: new events out, stranded deliveries back in, old events dropped."""
    return {"deliveries": fan_out(db, queue, now, settings), "requeued": requeue_stranded(db, queue, now, settings),
            "events_pruned": prune_events(db, now)}


# ------------------------------------------------------------------------------ one attempt


def _signed_headers(row: Mapping[str, Any], body: str, vault: TokenVault) -> dict[str, str]:
    secret = endpoints.decrypt_secret(vault, bytes(row["secret_ciphertext"]), user_id=str(row["user_id"]),
                                      endpoint_id=str(row["endpoint_id"]))
    message_id = str(row["event_id"] or row["id"])
    # Receivers compare the timestamp with their own clock (5 minutes' tolerance): the wall clock, always.
    sent_at = datetime.now(UTC)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, sent_at, body),
        "Content-Type": "application/json",
        "User-Agent": "shortpub-webhooks/1.0",
    }


def _post(row: Mapping[str, Any], vault: TokenVault) -> tuple[int | None, str | None]:
    """Send the delivery once: (HTTP status or None, error for the log and the attempts list)."""
    body = json.dumps(row["payload"], separators=(",", ":"), ensure_ascii=False)
    try:
        hop = check_endpoint_url(row["url"])
    except EndpointUrlRefused as exc:
        return None, f"address refused: {exc.reason}"
    settings = webhook_settings()
    timeout = httpx.Timeout(settings.webhook_timeout_seconds)
    try:
        with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as client:
            # Only the status matters: the body is never read, so a huge or endless answer costs nothing.
            response = client.send(pinned_request(client, hop, method="POST", headers=_signed_headers(row, body, vault),
                                                  content=body.encode()), stream=True)
            response.close()
    except httpx.TimeoutException:
        return None, f"no answer within {settings.webhook_timeout_seconds:g} s"
    except httpx.HTTPError as exc:
        return None, f"could not connect: {type(exc).__name__}"
    if 300 <= response.status_code < 400:
        return response.status_code, "redirects are not followed; use the final address"
    if not 200 <= response.status_code < 300:
        return response.status_code, f"answered {response.status_code}"
    return response.status_code, None


def deliver(db: Database, queue: TaskQueue, delivery_id: str, attempt: int, now: datetime, *,
            vault: TokenVault, settings: CoreSettings) -> str:
    """One attempt of one delivery. Returns what happened (stale, succeeded, retrying, failed, canceled)."""
    lease = now + timedelta(seconds=webhook_settings().webhook_timeout_seconds + 60)
    with db.service() as conn:
        row = conn.execute(
            """
            update webhook_deliveries d set leased_until = %s
              from webhook_endpoints e
             where d.id = %s and e.id = d.endpoint_id and d.status = 'pending' and d.attempts = %s
               and (d.leased_until is null or d.leased_until < %s)
            returning d.*, e.url, e.secret_ciphertext, e.status as endpoint_status
            """,
            (lease, delivery_id, attempt, now),
        ).fetchone()
        # A disabled endpoint gets no more events, but the user may still send it a test event.
        if row is not None and row["endpoint_status"] != "active" and row["event_id"] is not None:
            conn.execute("update webhook_deliveries set status = 'canceled', finished_at = %s, leased_until = null, "
                         "next_attempt_at = null where id = %s", (now, delivery_id))
            return "canceled"
    if row is None:
        return "stale"  # a repeated or late task: another attempt owns or finished this delivery
    started = time.monotonic()
    status, error = _post(row, vault)
    latency_ms = int((time.monotonic() - started) * 1000)
    outcome, delay = _record(db, row, attempt + 1, status, error, latency_ms, now, settings.frontend_url)
    log.info("webhook attempt", delivery_id=delivery_id, endpoint_id=str(row["endpoint_id"]),
             event_type=row["event_type"], attempt=attempt + 1, response_status=status, latency_ms=latency_ms,
             outcome=outcome, error=error)
    if delay is not None:
        enqueue_attempt(queue, settings, delivery_id, attempt + 1, row["enqueue_seq"], delay)
    return outcome


def _record(db: Database, row: Mapping[str, Any], number: int, status: int | None, error: str | None,
            latency_ms: int, now: datetime, frontend_url: str) -> tuple[str, float | None]:
    delivery_id, endpoint_id = row["id"], row["endpoint_id"]
    succeeded = error is None
    # A test event gets one attempt: it tells the user now whether the endpoint works.
    retries = RETRY_DELAYS_SECONDS if row["event_id"] is not None else ()
    with db.service() as conn:
        conn.execute(
            "insert into webhook_attempts (delivery_id, endpoint_id, user_id, attempt, succeeded, response_status, "
            "latency_ms, error, attempted_at) values (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (delivery_id, endpoint_id, row["user_id"], number, succeeded, status, latency_ms,
             (error or "")[:_MAX_ERROR_CHARS] or None, now),
        )
        if succeeded:
            conn.execute("update webhook_deliveries set status = 'succeeded', attempts = %s, finished_at = %s, "
                         "leased_until = null, next_attempt_at = null where id = %s", (number, now, delivery_id))
            conn.execute("update webhook_endpoints set failing_since = null, last_success_at = %s where id = %s",
                         (now, endpoint_id))
            return "succeeded", None
        conn.execute("update webhook_endpoints set failing_since = coalesce(failing_since, %s) where id = %s",
                     (now, endpoint_id))
        if number <= len(retries):
            delay = float(retries[number - 1])
            conn.execute("update webhook_deliveries set attempts = %s, next_attempt_at = %s, leased_until = null "
                         "where id = %s", (number, now + timedelta(seconds=delay), delivery_id))
            return "retrying", delay
        conn.execute("update webhook_deliveries set status = 'failed', attempts = %s, finished_at = %s, "
                     "leased_until = null, next_attempt_at = null where id = %s", (number, now, delivery_id))
        if row["event_id"] is not None:
            _disable_if_dead(conn, row, now, frontend_url)
        return "failed", None


def _disable_if_dead(conn: Conn, row: Mapping[str, Any], now: datetime, frontend_url: str) -> None:
    """Every attempt of this delivery failed (about a day) and nothing else got through since: disable."""
    endpoint = conn.execute(
        "select id, user_id, url, status, last_success_at from webhook_endpoints where id = %s for update",
        (row["endpoint_id"],),
    ).fetchone()
    if endpoint is None or endpoint["status"] != "active":
        return
    if endpoint["last_success_at"] is not None and endpoint["last_success_at"] >= row["created_at"]:
        return
    reason = (f"Every attempt to deliver a {row['event_type']} event failed for over a day "
              f"(last: {_last_error(conn, row['id'])}).")
    endpoints.disable(conn, str(endpoint["id"]), reason)
    log.warning("webhook endpoint disabled", endpoint_id=str(endpoint["id"]), reason=reason)
    subject, body = templates.webhook_disabled(url=endpoint["url"], reason=reason, frontend_url=frontend_url)
    queue_email(conn, user_id=str(endpoint["user_id"]), kind=templates.WEBHOOK_DISABLED, subject=subject, body=body,
                dedupe_key=templates.dedupe_key(templates.WEBHOOK_DISABLED, endpoint["id"], row["id"]))


def _last_error(conn: Conn, delivery_id: Any) -> str:
    row = conn.execute("select error from webhook_attempts where delivery_id = %s order by id desc limit 1",
                       (delivery_id,)).fetchone()
    return str(row["error"]) if row and row["error"] else "no answer"


# ------------------------------------------------------------------------------ test event


def send_test_event(db: Database, queue: TaskQueue, user_id: str, endpoint_id: str,
                    now: datetime, *, vault: TokenVault, settings: CoreSettings) -> WebhookTestResult:
    """Send a `webhook.test` event to one endpoint now (one attempt) and return that attempt."""
    with db.service() as conn:
        row = conn.execute(
            "insert into webhook_deliveries (endpoint_id, user_id, event_type, payload, next_attempt_at) "
            "select id, user_id, %s, %s, %s from webhook_endpoints where id = %s and user_id = %s returning id",
            (events.TEST, Jsonb(events.sample_event_body(endpoint_id, now)), now, endpoint_id, user_id),
        ).fetchone()
    assert row is not None, "the caller checked the endpoint belongs to the user"
    delivery_id = str(row["id"])
    outcome = deliver(db, queue, delivery_id, 0, now, vault=vault, settings=settings)
    with db.service() as conn:
        attempt = conn.execute(
            "select succeeded, response_status, latency_ms, error from webhook_attempts where delivery_id = %s",
            (delivery_id,),
        ).fetchone()
    result: dict[str, Any] = {"delivery_id": delivery_id, "outcome": outcome}
    if attempt is not None:
        result |= dict(attempt)
    return WebhookTestResult.model_validate(result)
