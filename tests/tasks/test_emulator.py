"""CloudTasksQueue against the real Cloud Tasks emulator over gRPC, delivering to a real HTTP server.

What the emulator does and does not do is listed in shared/tasks/emulator.py; these
tests pin that behaviour so a change in the emulator shows up here.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from concurrent import futures
from dataclasses import dataclass

import grpc
import pytest

from shared.tasks.client import CloudTasksQueue, task_id_for
from shared.tasks.emulator import TasksEmulator
from shared.tasks.queues import queue_specs
from tests.support.http_server import QuietHandler, serve_handler

PROJECT, LOCATION = "shortpub-test", "us-central1"
WAIT_S = 20.0  # an upper bound for "eventually", not a speed goal


@dataclass
class Delivery:
    path: str
    headers: dict[str, str]
    body: bytes
    received_at: float


class Receiver:
    """A tiny HTTP task target recording what arrives; `/fail-once*` answers 500 the first time."""

    def __init__(self) -> None:
        self.deliveries: list[Delivery] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    first = not any(d.path == self.path for d in receiver.deliveries)
                    # urllib (the emulator's client) changes header case; HTTP headers are case-insensitive.
                    headers = {k.lower(): v for k, v in self.headers.items()}
                    receiver.deliveries.append(Delivery(self.path, headers, body, time.time()))
                status = 500 if self.path.startswith("/fail-once") and first else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.running = serve_handler(Handler, name="task-receiver")

    def url(self, path: str) -> str:
        return self.running.url + path

    def at(self, path: str) -> list[Delivery]:
        with self.lock:
            return [d for d in self.deliveries if d.path == path]

    def wait_for(self, path: str, count: int = 1) -> list[Delivery]:
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            if len(found := self.at(path)) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError(f"{path}: expected {count} deliveries, got {len(self.at(path))}")

    def stop(self) -> None:
        self.running.stop()


@pytest.fixture(scope="module")
def emulator() -> Iterator[TasksEmulator]:
    with TasksEmulator(project=PROJECT, location=LOCATION) as running:
        yield running


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    yield running
    running.stop()


@pytest.fixture
def queue(emulator: TasksEmulator) -> CloudTasksQueue:
    return CloudTasksQueue(PROJECT, LOCATION, service_account_email=None, audience=None,
                           emulator_host=emulator.host)


def test_the_emulator_posts_the_json_payload_with_cloud_tasks_headers(queue, receiver):
    task_id = task_id_for("target-deliver", 1)
    assert queue.enqueue(queue="publish-youtube", task_id=task_id, url=receiver.url("/deliver"),
                         payload={"target_id": "target-deliver", "seq": 1}) is True

    [delivery] = receiver.wait_for("/deliver")
    assert json.loads(delivery.body) == {"target_id": "target-deliver", "seq": 1}
    assert delivery.headers["content-type"] == "application/json"
    queue_path = f"projects/{PROJECT}/locations/{LOCATION}/queues/publish-youtube"
    assert delivery.headers["x-cloudtasks-queuename"] == queue_path
    assert delivery.headers["x-cloudtasks-taskname"] == task_id
    assert delivery.headers["x-cloudtasks-taskretrycount"] == "0"


def test_a_delayed_task_waits_for_its_schedule_time(queue, receiver):
    enqueued_at = time.time()
    queue.enqueue(queue="publish-instagram", task_id="delayed-1", url=receiver.url("/later"),
                  payload={"n": 1}, delay_seconds=2.0)
    queue.enqueue(queue="publish-instagram", task_id="prompt-1", url=receiver.url("/prompt"), payload={"n": 2})

    receiver.wait_for("/prompt")
    assert receiver.at("/later") == [], "the delayed task ran before the one enqueued after it"
    [delivery] = receiver.wait_for("/later")
    eta = float(delivery.headers["x-cloudtasks-tasketa"])
    assert eta >= enqueued_at + 2.0
    assert delivery.received_at >= eta


def test_a_failed_delivery_is_retried(queue, receiver):
    queue.enqueue(queue="publish-tiktok", task_id="flaky-1", url=receiver.url("/fail-once"), payload={})
    first, second = receiver.wait_for("/fail-once", 2)
    assert (first.headers["x-cloudtasks-taskretrycount"], second.headers["x-cloudtasks-taskretrycount"]) == ("0", "1")
    assert first.headers["x-cloudtasks-taskname"] == second.headers["x-cloudtasks-taskname"] == "flaky-1"


def test_the_emulator_does_not_deduplicate_names_so_duplicates_arrive_twice(queue, receiver):
    # Real Cloud Tasks answers ALREADY_EXISTS (tested below); the emulator accepts and
    # delivers both, which is why the pipeline ignores repeated sequence numbers itself.
    for _ in range(2):
        assert queue.enqueue(queue="publish-facebook", task_id="dup-1", url=receiver.url("/dup"),
                             payload={"seq": 7}) is True
    deliveries = receiver.wait_for("/dup", 2)
    assert {d.headers["x-cloudtasks-taskname"] for d in deliveries} == {"dup-1"}


def test_tasks_carry_oidc_token_and_the_queue_dispatch_deadline(emulator, receiver):
    signed = CloudTasksQueue(PROJECT, LOCATION, service_account_email="tasks@proj.iam.gserviceaccount.com",
                             audience="https://functions.example.com", emulator_host=emulator.host)
    signed.enqueue(queue="publish-youtube", task_id="inspect-1", url=receiver.url("/inspect"),
                   payload={"k": "v"}, delay_seconds=3600)
    [task] = [t for t in emulator.pending_tasks("publish-youtube") if t.name.endswith("/inspect-1")]
    assert task.http_request.oidc_token.service_account_email == "tasks@proj.iam.gserviceaccount.com"
    assert task.http_request.oidc_token.audience == "https://functions.example.com"
    assert task.dispatch_deadline.total_seconds() == 1800
    assert json.loads(task.http_request.body) == {"k": "v"}
    emulator.client.purge_queue(name=emulator.queue_path("publish-youtube"))


def test_task_queue_from_settings_uses_the_emulator(monkeypatch, emulator, receiver, make_app):
    monkeypatch.setenv("CLOUD_TASKS_EMULATOR_HOST", emulator.host)
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", PROJECT)
    monkeypatch.setenv("TASKS_LOCATION", LOCATION)
    monkeypatch.delenv("TASKS_BACKEND", raising=False)
    configured = make_app().queue
    assert isinstance(configured, CloudTasksQueue)
    configured.enqueue(queue="publish-youtube", task_id="tick-1", url=receiver.url("/tick"), payload={"tick": 1})
    receiver.wait_for("/tick")


def test_the_emulator_process_is_gone_after_stop():
    single = TasksEmulator(queues=[queue_specs({})["publish-youtube"]])
    single.start()
    pid = single.process.pid
    single.stop()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


# ------------------------------------------------------------------ Cloud Tasks' ALREADY_EXISTS over gRPC


class DedupingCloudTasks:
    """Just CreateTask, with Cloud Tasks' name rule and one UNAVAILABLE hiccup, over real gRPC."""

    def __init__(self) -> None:
        from google.cloud import tasks_v2

        self.names: list[str] = []
        self.calls = 0

        def create_task(request, context):
            self.calls += 1
            if self.calls == 1:
                context.abort(grpc.StatusCode.UNAVAILABLE, "try again")
            if request.task.name in self.names:
                context.abort(grpc.StatusCode.ALREADY_EXISTS, "Requested entity already exists")
            self.names.append(request.task.name)
            return request.task

        handler = grpc.method_handlers_generic_handler("google.cloud.tasks.v2.CloudTasks", {
            "CreateTask": grpc.unary_unary_rpc_method_handler(
                create_task,
                request_deserializer=tasks_v2.CreateTaskRequest.deserialize,
                response_serializer=tasks_v2.Task.serialize,
            )
        })
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
        self.server.add_generic_rpc_handlers((handler,))
        self.port = self.server.add_insecure_port("127.0.0.1:0")
        self.server.start()


def test_already_exists_means_false_and_unavailable_is_retried():
    service = DedupingCloudTasks()
    try:
        queue = CloudTasksQueue("p", "l", service_account_email=None, audience=None,
                                emulator_host=f"127.0.0.1:{service.port}")
        assert queue.enqueue(queue="publish-youtube", task_id="same", url="http://w/", payload={}) is True
        assert queue.enqueue(queue="publish-youtube", task_id="same", url="http://w/", payload={}) is False
        assert service.names == ["projects/p/locations/l/queues/publish-youtube/tasks/same"]
        assert service.calls == 3  # UNAVAILABLE, created, ALREADY_EXISTS
    finally:
        service.server.stop(grace=None)
