"""The ports the publishing pipeline runs on, wired to real parts by `build_runtime(app)`
(shared/wiring.py) from the application's parts (shared/app.py).

Services take a `Runtime` instead of importing their collaborators, so a test can
hand in the local stack, an inline task queue or a frozen clock.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from shared.db.database import Conn, Database
from shared.errors import InvalidInput
from shared.platforms.base import Credentials, MediaSource, PlatformAdapter
from shared.publishing.settings import PublishingSettings
from shared.tasks.client import TaskQueue, task_id_for
from shared.tasks.queues import publish_queue_name, queue_spec
from shared.users import User

# Time past Cloud Tasks' dispatch deadline before a lease lapses: the deadline ends the
# delivery, the margin covers recording the outcome after it.
LEASE_MARGIN_SECONDS = 120.0


def utcnow() -> datetime:
    return datetime.now(UTC)


def _publishing_settings() -> PublishingSettings:
    from shared.config import load

    return load(PublishingSettings)


class CredentialsLookup(Protocol):
    """connection id -> valid credentials (refreshing first when close to expiry).

    `row` is the social_connections row when the caller already read it (saves a lookup).
    """

    def __call__(self, db: Database, connection_id: str, force: bool, row: Mapping[str, Any] | None = None,
                 /) -> Credentials: ...


class MediaLookup(Protocol):
    """target row -> (video to publish, optional cover).

    `video` and `renditions` (kind -> row) are the post's video and its renditions when
    the caller already read them (saves a lookup); `say` shows the user a message while
    the video is converted first.
    """

    def __call__(self, target: dict[str, Any], video: Mapping[str, Any] | None = None,
                 renditions: Mapping[str, Mapping[str, Any]] | None = None,
                 say: Callable[[str], None] | None = None,
                 /) -> tuple[MediaSource, MediaSource | None]: ...


class BestTimes(Protocol):
    """A publish request with every `publish_at: "best"` replaced by a slot (analytics answers this;
    the wiring hands it in, so publishing does not import the analytics above it)."""

    def __call__(self, rt: Runtime, user: User, request: Any, now: datetime, /) -> Any: ...


def no_best_times(rt: Runtime, user: User, request: Any, now: datetime) -> Any:
    """Without analytics wired in: a request that asks for "best" is refused in plain words."""
    if any(getattr(target, "publish_at", None) == "best" for target in request.targets):
        raise InvalidInput("We can't pick the best time here. Please choose a time for this post.",
                           code="no_best_time")
    return request


@dataclass
class Runtime:
    db: Database
    queue: TaskQueue
    credentials: CredentialsLookup
    media: MediaLookup
    adapter_for: Callable[[str], PlatformAdapter]
    worker_url: Callable[[str], str]
    # a connection's token was refused by the platform: mark it expired (EC-3)
    connection_expired: Callable[[Conn, str, str], None]
    # where the links in the pipeline's own mails point (FRONTEND_URL)
    frontend_url: str
    # a video the platform refused but that can be converted (EC-2): True when a rendition now exists
    convert_for: Callable[[dict[str, Any]], bool] = lambda target: False
    # mail the user about a scheduled post's final outcome (US-1.3)
    notify_outcome: Callable[[Conn, dict[str, Any]], None] = lambda conn, target: None
    clock: Callable[[], datetime] = utcnow
    # `publish_at: "best"` resolved from the user's history (shared/analytics/best_time.py)
    best_times: BestTimes = no_best_times
    # The shortest lease; each platform's is at least its queue's dispatch deadline plus a
    # margin (`lease_for`), so a step still running is never handed to a second worker.
    lease_seconds: float = 900.0
    stale_after_seconds: float = 120.0
    # how long and how often an unknown outcome is asked about (PUBLISH_RECONCILE_*)
    publishing: PublishingSettings = field(default_factory=_publishing_settings)
    adapters_cache: dict[str, PlatformAdapter] = field(default_factory=dict)

    def lease_for(self, platform: str) -> float:
        """Seconds a worker holds a target of `platform`: longer than any delivery can run."""
        deadline = queue_spec(publish_queue_name(platform)).dispatch_deadline_s
        return max(self.lease_seconds, deadline + LEASE_MARGIN_SECONDS)

    def adapter(self, key: str) -> PlatformAdapter:
        if key not in self.adapters_cache:
            self.adapters_cache[key] = self.adapter_for(key)
        return self.adapters_cache[key]

    def enqueue(self, target_id: str, platform: str, seq: int, delay_seconds: float = 0.0) -> bool:
        return self.queue.enqueue(
            queue=publish_queue_name(platform),
            task_id=task_id_for(str(target_id), seq),
            url=self.worker_url(platform),
            payload={"target_id": str(target_id), "seq": seq},
            delay_seconds=max(0.0, delay_seconds),
        )

    def enqueue_targets(self, target_ids: list[str]) -> None:
        """Enqueue targets made runnable outside the worker (a reconnect resumed them).

        A failure here loses nothing: the scheduler tick re-enqueues runnable targets.
        """
        with self.db.service() as conn:
            rows = conn.execute(
                "select id, platform, task_seq from publish_targets where id = any(%s::uuid[])", (target_ids,)
            ).fetchall()
        for row in rows:
            self.enqueue(str(row["id"]), row["platform"], row["task_seq"])
