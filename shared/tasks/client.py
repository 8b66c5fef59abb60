"""Enqueue HTTP tasks: Google Cloud Tasks (or its emulator), or inline for tests.

Every task has a name (`task_id`) so enqueueing is idempotent: Cloud Tasks refuses
a second task with the same name with ALREADY_EXISTS, which we report as `False`
("already there"), never as an error. The local emulator does not deduplicate
names (see docs/tasks-and-mail.md); the pipeline does not depend on it, because a
delivery carrying a stale or repeated sequence number is a no-op there.
"""

from __future__ import annotations

import hashlib
import heapq
import itertools
import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from shared.config import ConfigError
from shared.log import get_logger
from shared.tasks.queues import queue_spec
from shared.tasks.settings import TasksSettings

log = get_logger(__name__)

MAX_TASK_ID_LENGTH = 500
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


class TaskQueue(Protocol):
    def enqueue(
        self, *, queue: str, task_id: str, url: str, payload: dict[str, Any], delay_seconds: float = 0.0
    ) -> bool:
        """Create the task; False if a task with this id already exists in that queue."""
        ...


def task_id_for(target_id: str, seq: int) -> str:
    """The task name for step `seq` of a target: stable, hash-prefixed, Cloud Tasks-safe.

    A hash prefix spreads names over Cloud Tasks' key space; sequential names
    (counters, timestamps) hurt its performance (platform-apis.md §7.2).
    """
    prefix = hashlib.sha256(f"{target_id}:{seq}".encode()).hexdigest()[:8]
    readable = _UNSAFE.sub("_", str(target_id))
    return f"{prefix}-{readable}-{seq}"[:MAX_TASK_ID_LENGTH]


def _check_task_id(task_id: str) -> None:
    if not task_id or len(task_id) > MAX_TASK_ID_LENGTH or _UNSAFE.search(task_id):
        raise ValueError(f"task id must be 1-{MAX_TASK_ID_LENGTH} of [A-Za-z0-9_-], got {task_id!r}")


# --------------------------------------------------------------------------- Cloud Tasks


class CloudTasksQueue:
    """Google Cloud Tasks through the official `google-cloud-tasks` client."""

    def __init__(
        self,
        project: str,
        location: str,
        *,
        service_account_email: str | None,
        audience: str | None,
        client: Any = None,
        emulator_host: str | None = None,
    ) -> None:
        from google.cloud import tasks_v2

        self.project = project
        self.location = location
        self.service_account_email = service_account_email
        self.audience = audience
        self.emulator_host = emulator_host
        if client is None:
            client = emulator_client(emulator_host) if emulator_host else tasks_v2.CloudTasksClient()
        self.client = client

    def queue_path(self, queue: str) -> str:
        return f"projects/{self.project}/locations/{self.location}/queues/{queue}"

    def build_task(
        self, *, queue: str, task_id: str, url: str, payload: dict[str, Any], delay_seconds: float = 0.0
    ) -> dict[str, Any]:
        """The `tasks_v2.Task` (dict form) that `enqueue` creates."""
        from google.protobuf import duration_pb2, timestamp_pb2

        _check_task_id(task_id)
        http_request: dict[str, Any] = {
            "http_method": "POST",
            "url": url,
            "headers": {"Content-Type": "application/json"},
            "body": json.dumps(payload, separators=(",", ":")).encode(),
        }
        if self.service_account_email:
            http_request["oidc_token"] = {
                "service_account_email": self.service_account_email,
                # Cloud Tasks would default to the URL; one configured audience lets every
                # task target verify the same value.
                "audience": self.audience or url,
            }
        task: dict[str, Any] = {
            "name": f"{self.queue_path(queue)}/tasks/{task_id}",
            "http_request": http_request,
            "dispatch_deadline": duration_pb2.Duration(seconds=queue_spec(queue).dispatch_deadline_s),
        }
        if delay_seconds > 0:
            run_at = timestamp_pb2.Timestamp()
            run_at.FromDatetime(datetime.now(UTC) + timedelta(seconds=delay_seconds))
            task["schedule_time"] = run_at
        return task

    def enqueue(
        self, *, queue: str, task_id: str, url: str, payload: dict[str, Any], delay_seconds: float = 0.0
    ) -> bool:
        from google.api_core import exceptions, retry

        task = self.build_task(queue=queue, task_id=task_id, url=url, payload=payload, delay_seconds=delay_seconds)
        # CreateTask is not retried by the client by default (not idempotent); with a
        # named task it is, so retry transport hiccups ourselves.
        transient = retry.Retry(
            predicate=retry.if_exception_type(exceptions.ServiceUnavailable, exceptions.DeadlineExceeded),
            initial=0.5,
            maximum=5.0,
            timeout=30.0,
        )
        try:
            self.client.create_task(parent=self.queue_path(queue), task=task, retry=transient, timeout=10.0)
        except exceptions.AlreadyExists:
            log.info("task_already_exists", queue=queue, task_id=task_id)
            return False
        log.info("task_enqueued", queue=queue, task_id=task_id, delay_seconds=round(delay_seconds, 3))
        return True


def emulator_client(host: str) -> Any:
    """A CloudTasksClient talking plain gRPC to the local emulator (no TLS, no credentials)."""
    import grpc
    from google.cloud import tasks_v2
    from google.cloud.tasks_v2.services.cloud_tasks.transports import CloudTasksGrpcTransport

    transport = CloudTasksGrpcTransport(channel=grpc.insecure_channel(host))
    return tasks_v2.CloudTasksClient(transport=transport)


# --------------------------------------------------------------------------- inline


@dataclass(frozen=True)
class InlineTask:
    queue: str
    task_id: str
    url: str
    payload: dict[str, Any]
    run_at: datetime


def _utcnow() -> datetime:
    return datetime.now(UTC)


class InlineQueue:
    """Tasks kept in memory and run synchronously by `run_due`/`drain`, for tests.

    Like Cloud Tasks, a second task with an id already used in the same queue is
    ignored (Cloud Tasks reserves a name for about an hour; here, for the queue's
    lifetime). A dispatch that raises propagates to the caller; the task is not
    retried.
    """

    def __init__(
        self, dispatch: Callable[[str, dict[str, Any]], None], *, clock: Callable[[], datetime] = _utcnow
    ) -> None:
        self.dispatch = dispatch
        self.clock = clock
        self._heap: list[tuple[datetime, int, InlineTask]] = []
        self._order = itertools.count()
        self._names: set[tuple[str, str]] = set()
        self._lock = threading.Lock()
        self.delivered: list[InlineTask] = []

    def enqueue(
        self, *, queue: str, task_id: str, url: str, payload: dict[str, Any], delay_seconds: float = 0.0
    ) -> bool:
        _check_task_id(task_id)
        with self._lock:
            if (queue, task_id) in self._names:
                return False
            self._names.add((queue, task_id))
            run_at = self.clock() + timedelta(seconds=max(0.0, delay_seconds))
            # Payloads are JSON on the wire: copy through JSON so callers cannot share state.
            task = InlineTask(queue, task_id, url, json.loads(json.dumps(payload)), run_at)
            heapq.heappush(self._heap, (run_at, next(self._order), task))
        return True

    def pending(self) -> list[InlineTask]:
        with self._lock:
            return [task for _, _, task in sorted(self._heap)]

    def _pop(self, until: datetime | None) -> InlineTask | None:
        with self._lock:
            if not self._heap or (until is not None and self._heap[0][0] > until):
                return None
            return heapq.heappop(self._heap)[2]

    def _run(self, task: InlineTask) -> None:
        self.delivered.append(task)
        self.dispatch(task.url, task.payload)

    def run_due(self, now: datetime | None = None) -> int:
        """Run every task due at `now` (default: the clock), including ones they enqueue that are due."""
        until = now or self.clock()
        ran = 0
        while (task := self._pop(until)) is not None:
            self._run(task)
            ran += 1
        return ran

    def drain(self, max_tasks: int = 10_000) -> int:
        """Run every task regardless of its delay, in schedule order, until none is left."""
        ran = 0
        while (task := self._pop(None)) is not None:
            if ran >= max_tasks:
                raise RuntimeError(f"inline queue still busy after {max_tasks} tasks: a task loop?")
            self._run(task)
            ran += 1
        return ran


def http_dispatch(url: str, payload: dict[str, Any]) -> None:
    """Deliver a task the way Cloud Tasks does: POST the JSON body, fail on non-2xx."""
    import httpx

    response = httpx.post(url, json=payload, headers={"X-CloudTasks-QueueName": "inline"}, timeout=1800.0)
    response.raise_for_status()


# --------------------------------------------------------------------------- configured queue


def queue_from_settings(settings: TasksSettings, environment: str) -> TaskQueue:
    """The queue the TASKS_* settings choose (the application builds it once, shared/app.py)."""
    production = environment == "production"
    backend = settings.tasks_backend or (
        "cloud" if production or settings.cloud_tasks_emulator_host else "inline"
    )
    if backend == "inline":
        if production:
            raise ConfigError("TASKS_BACKEND=inline cannot be used in production: use cloud")
        return InlineQueue(http_dispatch)
    if settings.cloud_tasks_emulator_host:
        return CloudTasksQueue(
            settings.google_cloud_project or "shortpub-local",
            settings.tasks_location,
            service_account_email=None,
            audience=settings.tasks_audience,
            emulator_host=settings.cloud_tasks_emulator_host,
        )
    if not settings.google_cloud_project:
        raise ConfigError("Invalid configuration: GOOGLE_CLOUD_PROJECT is required for Cloud Tasks")
    if production and not (settings.tasks_service_account and settings.tasks_audience):
        raise ConfigError(
            "Invalid configuration: TASKS_SERVICE_ACCOUNT and TASKS_AUDIENCE are required in production "
            "so task targets only accept calls signed by Cloud Tasks"
        )
    return CloudTasksQueue(
        settings.google_cloud_project,
        settings.tasks_location,
        service_account_email=settings.tasks_service_account,
        audience=settings.tasks_audience,
    )
