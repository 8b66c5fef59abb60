"""A publishing harness on real parts: PostgreSQL, the sandbox over HTTP, local storage
with signed URLs served over HTTP, the real OAuth flows, and the real pipeline code.

Only the task queue is the in-process `InlineQueue` (tests that need Cloud Tasks
itself use the emulator), driven by a controllable clock so retries after 1, 5 and
15 minutes, quota resets and schedules run without waiting.
"""

from __future__ import annotations

import base64
import os
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx

from shared.http import User
from shared.publishing.runtime import Runtime
from tests.support.apps import APP_ENV

JWT_SECRET = "pipeline-tests-jwt-secret-0123456789abcdef"
VAULT_KEYS = os.environ.get("TOKEN_VAULT_KEYS") or "1:" + base64.b64encode(os.urandom(32)).decode()


@dataclass
class Clock:
    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


def configure_env(monkeypatch: Any, sandbox_url: str, storage_dir: Path) -> None:
    from shared.local.environment import sandbox_env

    monkeypatch.setenv("TOKEN_VAULT_KEYS", VAULT_KEYS)
    monkeypatch.setenv("SUPABASE_JWT_SECRET", JWT_SECRET)
    monkeypatch.delenv("BLOTATO_API_KEY", raising=False)
    for name, value in APP_ENV.items():
        monkeypatch.setenv(name, value)
    for name, value in sandbox_env(sandbox_url).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("LOCAL_STORAGE_DIR", str(storage_dir))


def bearer(user: dict[str, str]) -> dict[str, str]:
    from shared.auth import mint_local_token

    return {"Authorization": "Bearer " + mint_local_token(user["sub"], user.get("email"), secret=JWT_SECRET)}


class Harness:
    """The pipeline on the test's parts. `app` is its application (settings read from the environment
    when first used): install it as the process's one (`make_app.install(harness.app)`)."""

    def __init__(self, db: Any, sandbox: Any, storage: Any, clock: Clock, http_timeout: float | None = None) -> None:
        from shared.app import bootstrap
        from shared.tasks.client import InlineQueue
        from shared.wiring import build_runtime

        self.db, self.sandbox, self.storage, self.clock = db, sandbox, storage, clock
        self.outcomes: list[str] = []

        # (clock, outcome, target row after the delivery): what each delivery did, for assertions.
        self.history: list[tuple[datetime, str, dict[str, Any]]] = []
        # Tests may wrap delivery (duplicates, reordering) by replacing this callable.
        self.deliver: Any = self.advance

        def dispatch(url: str, payload: dict[str, Any]) -> None:
            self.deliver(payload)

        self.queue = InlineQueue(dispatch, clock=clock)
        # Every HTTP request an adapter sends ("METHOD /path", no query: tokens stay out).
        self.adapter_requests: list[str] = []
        timeout = httpx.Timeout(http_timeout) if http_timeout is not None else httpx.Timeout(30.0, read=120.0)

        def record(request: httpx.Request) -> None:
            self.adapter_requests.append(f"{request.method} {request.url.path}")

        def adapter_for(key: str) -> Any:
            from shared.platforms import adapter_class

            # A short client timeout makes the sandbox's `timeout` fault a real client-side timeout.
            return adapter_class(key)(http=httpx.Client(timeout=timeout, event_hooks={"request": [record]}))

        app = bootstrap(database=db, storage=storage, queue=self.queue, clock=clock)
        self.rt: Runtime = build_runtime(app, lease_seconds=600, adapter_for=adapter_for)
        self.app = app.replace(runtime=self.rt)

    def advance(self, payload: dict[str, Any]) -> str:
        from shared.publishing.worker import advance

        outcome = advance(self.rt, payload["target_id"], payload.get("seq"))
        self.outcomes.append(outcome)
        self.history.append((self.clock.now, outcome, self.target(payload["target_id"])))
        return outcome

    # -- accounts
    def connect(self, user: dict[str, str], platform: str, *, resume_hook: bool = True,
                **authorize_extra: str) -> str:
        """Connect (or reconnect: `sandbox_account=<id>`) through the real OAuth flow.

        Like functions/oauth.py, targets parked for reconnect are enqueued by a hook
        (`resume_hook=False` leaves them to the scheduler tick).
        """
        from shared.connections.flow import complete_authorization, start_authorization
        from shared.publishing.targets import resume_after_reconnect

        url = start_authorization(self.db, self.app.account_access, user["sub"], platform,
                                  base_url=self.app.settings.functions_base_url, now=self.clock.now)
        if authorize_extra:
            url += "&" + "&".join(f"{k}={v}" for k, v in authorize_extra.items())
        response = httpx.get(url, follow_redirects=False, timeout=10)
        assert response.status_code == 302, response.text
        params = {k: v[0] for k, v in parse_qs(urlparse(response.headers["location"]).query).items()}
        result = complete_authorization(self.db, self.app.account_access, platform, code=params["code"],
                                        state=params["state"],
                                        on_targets_resumed=self.enqueue_targets if resume_hook else None,
                                        on_reconnected=resume_after_reconnect,
                                        base_url=self.app.settings.functions_base_url, now=self.clock.now)
        return result.connection_ids[0]

    def enqueue_targets(self, target_ids: list[str]) -> None:
        """What functions/oauth.py's enqueue hook does, on this harness's queue."""
        with self.db.service() as conn:
            rows = conn.execute("select id, platform, task_seq from publish_targets where id = any(%s::uuid[])",
                                (target_ids,)).fetchall()
        for row in rows:
            self.rt.enqueue(str(row["id"]), row["platform"], row["task_seq"])

    def account_id(self, connection_id: str) -> str:
        with self.db.service() as conn:
            row = conn.execute("select platform_account_id from social_connections where id = %s",
                               (connection_id,)).fetchone()
        return str(row["platform_account_id"])

    def connection(self, connection_id: str) -> dict[str, Any]:
        with self.db.service() as conn:
            return dict(conn.execute("select * from social_connections where id = %s", (connection_id,)).fetchone())

    # -- the sandbox's fault injection
    def fault(self, platform: str, operation: str, kind: str, **fields: Any) -> Any:
        from sandbox.core import Fault

        return self.sandbox.sandbox.add_fault(Fault(platform=platform, operation=operation, kind=kind, **fields))

    def clear_faults(self) -> None:
        with self.sandbox.sandbox.lock:
            self.sandbox.sandbox.faults.clear()

    def tick(self) -> list[str]:
        """The scheduler tick's safety net at the current clock time: the target ids it enqueued.

        The database is shared by the session, so the tick may also see other tests' targets.
        """
        from shared.publishing.tick import enqueue_due

        before = {(task.queue, task.task_id) for task in self.queue.pending()}
        enqueue_due(self.rt, self.clock.now, concurrency=1)  # one at a time: queued in claim order
        return [str(task.payload["target_id"]) for task in self.queue.pending()
                if (task.queue, task.task_id) not in before]

    def connect_blotato(self, user: dict[str, str]) -> str:
        """Connect TikTok via Blotato with the user's own Blotato API key (minted by the sandbox)."""
        from shared.connections.service import connect_api_key
        from shared.publishing.targets import resume_after_reconnect

        sb = self.sandbox.sandbox
        owner = f"owner-{user['sub'][:8]}"
        sb.add_account("blotato", f"acct-{user['sub'][:8]}", owner=owner, network="tiktok", username="brand")
        key = sb.mint_token("blotato", owner, ttl=86400).value
        result = connect_api_key(self.db, self.app.account_access, user["sub"], "blotato", api_key=key,
                                 on_targets_resumed=self.enqueue_targets, on_reconnected=resume_after_reconnect,
                                 now=self.clock.now)
        return result.connection_ids[0]

    def video(self, user: dict[str, str], path: Path) -> str:
        from shared.videos import upload_video

        with path.open("rb") as handle:
            stored = upload_video(user["sub"], iter(lambda: handle.read(1 << 20), b""), filename=path.name,
                                  content_type="video/mp4", db=self.db, storage=self.storage,
                                  settings=self.app.storage_settings, now=self.clock.now)
        return stored.video_id

    # -- publishing
    def publish(self, user: dict[str, str], **request: Any) -> dict[str, Any]:
        from shared.publishing.requests import PublishRequest
        from shared.publishing.service import create_post

        body, _ = create_post(self.rt, as_user(user), PublishRequest.model_validate(request))
        return body.model_dump()

    def run(self, max_tasks: int = 400, until: datetime | None = None) -> int:
        """Deliver tasks in time order, moving the clock to each task's time (up to `until`)."""
        ran = 0
        while (pending := self.queue.pending()) and ran < max_tasks:
            due = pending[0].run_at
            if until is not None and due > until:
                break
            self.clock.now = max(self.clock.now, due)
            ran += self.queue.run_due(self.clock.now)
        if until is not None:
            self.clock.now = max(self.clock.now, until)
        return ran

    def events(self, target_id: str) -> list[dict[str, Any]]:
        with self.db.service() as conn:
            rows = conn.execute("select * from publish_events where target_id = %s order by id", (target_id,))
            return [dict(row) for row in rows.fetchall()]

    def target(self, target_id: str) -> dict[str, Any]:
        with self.db.service() as conn:
            return dict(conn.execute("select * from publish_targets where id = %s", (target_id,)).fetchone())

    def post(self, user: dict[str, str], post_id: str) -> dict[str, Any]:
        from shared.publishing.service import get_post

        return get_post(self.rt, as_user(user), post_id).model_dump()

    def published(self, platform: str) -> list[dict[str, Any]]:
        return self.sandbox.sandbox.published_for(platform)


def as_user(user: dict[str, str]) -> User:
    return User(id=user["sub"], email=user.get("email"), claims=dict(user))


def wait_for(predicate: Any, timeout: float = 20.0, interval: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("condition not met in time")


def new_id() -> str:
    return str(uuid.uuid4())


# Settings that keep retries at the pipeline level (one failed call = one failed step) and
# stop adapters from waiting on the real clock while the harness clock jumps ahead.
PIPELINE_TEST_ENV = {
    "YOUTUBE_UPLOAD_RETRY_ATTEMPTS": "1",
    "YOUTUBE_UPLOAD_RETRY_WAIT_INITIAL": "0",
    "YOUTUBE_UPLOAD_RETRY_WAIT_MAX": "0",
    "FACEBOOK_UPLOAD_RESUMES": "0",
    # Blotato lists a post only once it finished; the sandbox finishes at once.
    "BLOTATO_RECONCILE_SETTLE_SECONDS": "0",
}
