"""Run the Cloud Tasks emulator (`gcloud-tasks-emulator`) for the local stack and tests.

It lives in its own virtualenv (`.venv-tasks`, made by `make install`) because it
pins an old protobuf. What it really does (read from its server.py, 0.6.2):

- CreateTask stores the task; it does NOT reject a repeated name (no ALREADY_EXISTS),
  so a duplicate enqueue is delivered twice. The pipeline tolerates that.
- `schedule_time` is honoured: a task is not sent before it.
- HTTP targets get a plain `urlopen` POST with the body, the task's headers and
  X-CloudTasks-QueueName (full queue path), -TaskName (the id), -TaskRetryCount,
  -TaskExecutionCount and -TaskETA. No OIDC token, no dispatch deadline.
- A non-2xx answer is retried at once (no backoff), up to `--max-retries` times.
- Queue rate limits and retry configs are stored but ignored; each queue sends its
  tasks one at a time.
"""

from __future__ import annotations

import atexit
import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from shared.db.local import PROJECT_ROOT, local_dir
from shared.log import get_logger
from shared.tasks.queues import QueueSpec, queue_specs

log = get_logger(__name__)

EMULATOR_BIN = PROJECT_ROOT / ".venv-tasks" / "bin" / "gcloud-tasks-emulator"


class EmulatorError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class TasksEmulator:
    """The emulator as a subprocess: `with TasksEmulator() as emu: emu.host ...`."""

    def __init__(
        self,
        *,
        port: int = 0,
        project: str = "shortpub-local",
        location: str = "us-central1",
        queues: list[QueueSpec] | None = None,
        max_retries: int | None = None,
        binary: Path = EMULATOR_BIN,
        log_path: Path | None = None,
        start_timeout: float = 30.0,
    ) -> None:
        self.port = port or free_port()
        self.project = project
        self.location = location
        self.queues = queues if queues is not None else list(queue_specs().values())
        # Our queues allow max_attempts deliveries; the emulator counts retries after the first.
        self.max_retries = (
            max_retries if max_retries is not None else max(q.retry.max_attempts for q in self.queues) - 1
        )
        self.binary = binary
        self.log_path = log_path or local_dir() / f"tasks-emulator-{self.port}.log"
        self.start_timeout = start_timeout
        self.process: subprocess.Popen[bytes] | None = None
        self._client: Any = None

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def client(self) -> Any:
        """A real CloudTasksClient connected to this emulator."""
        if self._client is None:
            from shared.tasks.client import emulator_client

            self._client = emulator_client(self.host)
        return self._client

    def start(self) -> TasksEmulator:
        if self.process is not None:
            return self
        if not self.binary.exists():
            raise EmulatorError(f"{self.binary} is missing: run `make install` to create .venv-tasks")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log_file:
            self.process = subprocess.Popen(
                [str(self.binary), "start", "--port", str(self.port), "--max-retries", str(self.max_retries)],
                stdout=log_file,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                # Its own process group, so stop() reaches every thread/child it has.
                start_new_session=True,
            )
        atexit.register(self.stop)
        try:
            self._wait_ready()
            self.create_queues()
        except BaseException:
            self.stop()
            raise
        log.info("tasks_emulator_started", host=self.host, queues=len(self.queues))
        return self

    def _wait_ready(self) -> None:
        import grpc

        assert self.process is not None
        deadline = time.monotonic() + self.start_timeout
        channel = grpc.insecure_channel(self.host)
        try:
            while True:
                if self.process.poll() is not None:
                    raise EmulatorError(
                        f"the Cloud Tasks emulator exited with {self.process.returncode}; see {self.log_path}"
                    )
                try:
                    grpc.channel_ready_future(channel).result(timeout=0.5)
                    return
                except grpc.FutureTimeoutError:
                    if time.monotonic() > deadline:
                        raise EmulatorError(
                            f"the Cloud Tasks emulator did not answer on {self.host} within "
                            f"{self.start_timeout:.0f} s; see {self.log_path}"
                        ) from None
        finally:
            channel.close()

    def create_queues(self) -> None:
        parent = f"projects/{self.project}/locations/{self.location}"
        for spec in self.queues:
            self.client.create_queue(parent=parent, queue=spec.as_queue(self.project, self.location))

    def queue_path(self, queue: str) -> str:
        return f"projects/{self.project}/locations/{self.location}/queues/{queue}"

    def pending_tasks(self, queue: str) -> list[Any]:
        """Tasks the emulator has not delivered yet (delayed or being retried)."""
        return list(self.client.list_tasks(parent=self.queue_path(queue)))

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        atexit.unregister(self.stop)
        if process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)
            except ProcessLookupError:
                pass
        if self._client is not None:
            self._client.transport.close()
            self._client = None
        log.info("tasks_emulator_stopped", host=self.host)

    def __enter__(self) -> TasksEmulator:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def main() -> None:
    """`python -m shared.tasks.emulator [port]`: run the emulator with our queues until Ctrl-C."""
    import sys

    port = int(sys.argv[1]) if len(sys.argv) > 1 else 9022
    with TasksEmulator(port=port) as emulator:
        print(f"Cloud Tasks emulator on {emulator.host}: export CLOUD_TASKS_EMULATOR_HOST={emulator.host}")
        try:
            while emulator.process is not None and emulator.process.poll() is None:
                time.sleep(1)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
