"""Task queue plumbing: queue definitions, Cloud Tasks / emulator / inline queues, OIDC checks."""

from shared.tasks.client import (
    CloudTasksQueue,
    InlineQueue,
    InlineTask,
    TaskQueue,
    queue_from_settings,
    task_id_for,
)
from shared.tasks.oidc import TaskAuthError, verify_task_request
from shared.tasks.queues import QueueSpec, publish_queue_name, queue_spec, queue_specs

__all__ = [
    "CloudTasksQueue",
    "InlineQueue",
    "InlineTask",
    "QueueSpec",
    "TaskAuthError",
    "TaskQueue",
    "publish_queue_name",
    "queue_from_settings",
    "queue_spec",
    "queue_specs",
    "task_id_for",
    "verify_task_request",
]
