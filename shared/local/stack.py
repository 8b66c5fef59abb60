"""The whole product on this machine, on embedded defaults (started by `shared.local.run`).

PostgreSQL (embedded unless DATABASE_URL is set) with migrations, the platform
sandbox, local storage with signed URLs, a local SMTP server, the Cloud Tasks
emulator, every Cloud Function on one port, and a scheduler loop calling the tick.
"""

from __future__ import annotations

import os
import threading
from contextlib import ExitStack
from dataclasses import dataclass, field

import psycopg

from sandbox import server as sandbox_server
from shared.app import application
from shared.db import local as localdb
from shared.db import migrate
from shared.db.local import local_dir
from shared.local import functions_server
from shared.local.environment import (
    DEFAULT_PORTS,
    SANDBOX_APPS,
    free_port,
    port_or_free,
    sandbox_env,
)
from shared.local_secrets import local_secrets
from shared.log import configure, get_logger
from shared.notify.local_smtp import LocalSmtpServer
from shared.scheduler import run_tick
from shared.storage.local import LocalStorage
from shared.tasks.emulator import TasksEmulator


def tick_seconds() -> float:
    """Seconds between local scheduler ticks (LOCAL_TICK_SECONDS; Cloud Scheduler runs every minute)."""
    return float(os.environ.get("LOCAL_TICK_SECONDS", "5"))


def ports_mode() -> str:
    """LOCAL_PORTS=free: every part of the stack on a free port instead of 8080/8700/... (a second stack)."""
    return os.environ.get("LOCAL_PORTS", "default")


@dataclass
class LocalStack:
    urls: dict[str, str] = field(default_factory=dict)
    stack: ExitStack = field(default_factory=ExitStack)
    stop_event: threading.Event = field(default_factory=threading.Event)

    def close(self) -> None:
        self.stop_event.set()
        self.stack.close()


def _database_url(stack: LocalStack) -> str:
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"]

    server = localdb.embedded_server()
    admin = str(server.get_uri())
    # Stopped last (ExitStack runs callbacks in reverse): Ctrl-C or SIGTERM never leaves it running.
    stack.stack.callback(server.cleanup)
    with psycopg.connect(admin, autocommit=True) as conn:
        if conn.execute("select 1 from pg_database where datname = 'shortpub'").fetchone() is None:
            conn.execute("create database shortpub")
    return localdb.with_dbname(admin, "shortpub")


def _configure_env(ports: dict[str, int]) -> None:
    os.environ.setdefault("ENVIRONMENT", "local")
    functions_url = f"http://127.0.0.1:{ports['functions']}"
    values = {
        **SANDBOX_APPS,
        **local_secrets(),
        "FUNCTIONS_BASE_URL": functions_url,
        "FRONTEND_URL": functions_url,
        "STORAGE_BACKEND": "local",
        "LOCAL_STORAGE_DIR": str(local_dir() / "storage"),
        "LOCAL_STORAGE_URL": f"http://127.0.0.1:{ports['storage']}",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(ports["smtp"]),
        "SMTP_STARTTLS": "false",
        "MAIL_FROM": "shortpub <noreply@shortpub.local>",
        "TASKS_BACKEND": "cloud",
        "CLOUD_TASKS_EMULATOR_HOST": f"localhost:{ports['tasks']}",
        "GOOGLE_CLOUD_PROJECT": "shortpub-local",
        "TASKS_LOCATION": "us-central1",
    }
    for key, value in values.items():
        os.environ.setdefault(key, value)
    os.environ.update(sandbox_env(f"http://127.0.0.1:{ports['sandbox']}"))


def _tick_loop(stack: LocalStack) -> None:
    log = get_logger("local.scheduler")
    while not stack.stop_event.wait(tick_seconds()):
        try:
            app = application()
            run_tick(app)
        except Exception:
            log.exception("scheduler tick failed")


def start() -> LocalStack:
    free = ports_mode() == "free"
    ports = {name: free_port() if free else port_or_free(port) for name, port in DEFAULT_PORTS.items()}
    _configure_env(ports)
    stack = LocalStack()
    try:
        os.environ["DATABASE_URL"] = _database_url(stack)
        _start_parts(stack, ports)
    except BaseException:
        stack.close()
        raise
    return stack


def _start_parts(stack: LocalStack, ports: dict[str, int]) -> None:
    # JSON log lines go to a file so the console shows the stack and the demo's table.
    log_path = local_dir() / "logs" / "shortpub.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log_file = log_path.open("a", buffering=1)
    stack.stack.callback(log_file.close)

    configure(os.environ.get("LOG_LEVEL", "INFO"), stream=log_file)
    stack.urls["logs (JSON, one per line)"] = str(log_path)
    applied = migrate.apply(os.environ["DATABASE_URL"], local=True)
    stack.urls["database"] = "embedded PostgreSQL in .local/pgdata" if "host=" in os.environ["DATABASE_URL"] \
        else "DATABASE_URL"
    stack.urls["migrations"] = f"{len(applied)} applied now" if applied else "up to date"

    sandbox = sandbox_server.start(ports["sandbox"])
    stack.stack.callback(sandbox.stop)
    stack.urls["platform sandbox"] = sandbox.url

    local_storage = application().storage
    assert isinstance(local_storage, LocalStorage)
    files = local_storage.start_server(port=ports["storage"])
    stack.stack.callback(files.stop)
    stack.urls["video storage (signed URLs)"] = files.url

    smtp = LocalSmtpServer(port=ports["smtp"])
    smtp.start()
    stack.stack.callback(smtp.stop)
    stack.urls["mail outbox (SMTP)"] = f"smtp://127.0.0.1:{ports['smtp']} -> {local_dir() / 'mail'}"

    emulator = TasksEmulator(port=ports["tasks"])
    emulator.start()
    stack.stack.callback(emulator.stop)
    stack.urls["Cloud Tasks emulator"] = f"grpc://localhost:{ports['tasks']}"

    functions = functions_server.start(ports["functions"])
    stack.stack.callback(functions.stop)
    for prefix in sorted(functions_server.mounts()):
        stack.urls[f"function {prefix[1:]}"] = functions.url + prefix

    thread = threading.Thread(target=_tick_loop, args=(stack,), name="scheduler", daemon=True)
    thread.start()
    stack.urls["scheduler"] = f"tick every {tick_seconds():g} s (Cloud Scheduler: every minute)"
