"""The pipeline as deployed, on one machine: every Cloud Function over HTTP, real task delivery.

`CloudStack` starts the functions server (functions-framework), local storage with its
signed-URL file server, and a task queue (the Cloud Tasks emulator by default, or any
`TaskQueue` handed in, such as the benchmark's HTTP dispatcher), and points this
process's application (shared/app.py) at them and at a running platform sandbox. Closing it
stops what it started and restores every environment variable it set and the application
that was installed before, so tests that run afterwards see the settings they expect.

`StackClient` is what a frontend does: sign in, connect accounts through the real OAuth
redirects, upload a video, publish, and poll the post.
"""

from __future__ import annotations

import base64
import os
import secrets
import time
from contextlib import ExitStack
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from shared.db.database import Database
from tests.support.apps import APP_ENV

JWT_SECRET = "cloud-stack-jwt-secret-" + secrets.token_hex(16)


# The sandbox finishes processing at once; polling at the platforms' suggested 5-15 s
# would only measure our sleep.
NO_POLL_WAIT_ENV = {
    "TIKTOK_POLL_SECONDS": "0",
    "INSTAGRAM_POLL_SECONDS": "0",
    "FACEBOOK_POLL_SECONDS": "0",
    "YOUTUBE_PROCESSING_POLL_MIN_SECONDS": "0",
}

PLATFORMS = ("tiktok", "instagram", "youtube", "facebook")


class EnvPatch:
    """Set environment variables and put every previous value back on `restore()`."""

    def __init__(self) -> None:
        self._saved: dict[str, str | None] = {}

    def set(self, name: str, value: str) -> None:
        self._saved.setdefault(name, os.environ.get(name))
        os.environ[name] = value

    def unset(self, name: str) -> None:
        self._saved.setdefault(name, os.environ.get(name))
        os.environ.pop(name, None)

    def restore(self) -> None:
        for name, value in self._saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved.clear()


class CloudStack:
    """Functions server + storage + task queue around a given database and sandbox URL."""

    def __init__(
        self,
        db: Database,
        sandbox_url: str,
        storage_dir: Path,
        *,
        queue: Any = None,
        extra_env: dict[str, str] | None = None,
        emulator_max_retries: int | None = None,
    ) -> None:
        self.db = db
        self.sandbox_url = sandbox_url
        self.storage_dir = storage_dir
        self.queue = queue  # None: the Cloud Tasks emulator through the configured client
        self.extra_env = extra_env or {}
        self.emulator_max_retries = emulator_max_retries
        self.env = EnvPatch()
        self.emulator: Any = None
        self.functions_url = ""
        self._stack = ExitStack()

    def start(self) -> CloudStack:
        from shared.app import bootstrap, install
        from shared.local import functions_server
        from shared.local.environment import sandbox_env
        from shared.storage.local import LocalStorage

        try:
            self._stack.callback(self.env.restore)

            storage = LocalStorage(self.storage_dir, bucket="videos", signing_key=secrets.token_bytes(32))
            files = storage.start_server()
            self._stack.callback(files.stop)

            functions = functions_server.start(0)
            self._stack.callback(functions.stop)
            self.functions_url = functions.url

            values = {
                **APP_ENV,
                **sandbox_env(self.sandbox_url),
                "SUPABASE_JWT_SECRET": JWT_SECRET,
                "TOKEN_VAULT_KEYS": "1:" + base64.b64encode(os.urandom(32)).decode(),
                "FUNCTIONS_BASE_URL": self.functions_url,
                "FRONTEND_URL": self.functions_url + "/app",
                "STORAGE_BACKEND": "local",
                "LOCAL_STORAGE_DIR": str(self.storage_dir),
                "LOCAL_STORAGE_URL": files.url,
                **self.extra_env,
            }
            for name, value in values.items():
                self.env.set(name, value)
            self.env.unset("BLOTATO_API_KEY")  # TikTok goes direct here
            if self.queue is None:
                from shared.tasks.emulator import TasksEmulator

                self.emulator = TasksEmulator(max_retries=self.emulator_max_retries)
                self.emulator.start()
                self._stack.callback(self.emulator.stop)
                self.env.set("TASKS_BACKEND", "cloud")
                self.env.set("CLOUD_TASKS_EMULATOR_HOST", self.emulator.host)
                self.env.set("GOOGLE_CLOUD_PROJECT", self.emulator.project)
                self.env.set("TASKS_LOCATION", self.emulator.location)
            # Built after the environment is set: its settings, vault and queue are read from it.
            parts: dict[str, Any] = {"database": self.db, "storage": storage}
            if self.queue is not None:
                parts["queue"] = self.queue
            previous = install(bootstrap(**parts))
            self._stack.callback(install, previous)
        except BaseException:
            self.close()
            raise
        return self

    def close(self) -> None:
        self._stack.close()

    def __enter__(self) -> CloudStack:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def client(self, user: dict[str, str], **options: Any) -> StackClient:
        from shared.auth import mint_local_token

        token = mint_local_token(user["sub"], user.get("email"), secret=JWT_SECRET, ttl=4 * 3600)
        return StackClient(self.functions_url, token, **options)


class StackError(AssertionError):
    pass


def _json(response: httpx.Response, what: str) -> dict[str, Any]:
    if response.status_code >= 400:
        raise StackError(f"{what}: HTTP {response.status_code} {response.text[:500]}")
    return response.json() if response.content else {}


class StackClient:
    """The frontend's side of the API, over HTTP with a user's bearer token."""

    def __init__(self, base_url: str, token: str, **options: Any) -> None:
        self.api = httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"},
                                timeout=options.pop("timeout", 60.0), **options)
        # The browser's side of OAuth: no bearer token, no redirects followed.
        self.browser = httpx.Client(timeout=60.0, follow_redirects=False)

    def close(self) -> None:
        self.api.close()
        self.browser.close()

    def __enter__(self) -> StackClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def connect(self, platform: str) -> None:
        """Start → the platform's consent page → our callback, as a browser follows them."""
        started = _json(self.api.post(f"/oauth/start/{platform}", json={}), f"start connecting {platform}")
        consent = self.browser.get(started["authorization_url"])
        if consent.status_code != 302:
            raise StackError(f"{platform} consent page answered {consent.status_code}: {consent.text[:300]}")
        back = self.browser.get(consent.headers["location"])
        location = back.headers.get("location", "")
        if back.status_code != 302 or f"connected={platform}" not in location:
            raise StackError(f"connecting {platform} failed: {back.status_code} {location or back.text[:300]}")

    def connections(self) -> list[dict[str, Any]]:
        listed = _json(self.api.get("/connections"), "list connections")
        return list(listed["connections"] if isinstance(listed, dict) else listed)

    def upload(self, path: Path) -> str:
        stored = _json(self.api.post("/videos", content=path.read_bytes(),
                                     headers={"Content-Type": "video/mp4", "X-Filename": path.name}),
                       "upload the video")
        return str(stored["video_id"])

    def publish(self, video_id: str, platforms: tuple[str, ...] = PLATFORMS, **fields: Any) -> dict[str, Any]:
        tiktok = {"options": {"privacy_level": "PUBLIC_TO_EVERYONE", "consent": True}}
        targets = [{"platform": p, **(tiktok if p == "tiktok" else {}),
                    **({"title": "Spring sale"} if p == "youtube" else {})} for p in platforms]
        body = {"video_id": video_id, "caption": "Spring sale starts today!", "hashtags": ["springsale"],
                "targets": targets, **fields}
        return _json(self.api.post("/publish-video", json=body), "publish")

    def post(self, post_id: str) -> dict[str, Any]:
        return _json(self.api.get(f"/publish-video/posts/{post_id}"), "read the post")

    def wait_until_done(self, post_id: str, timeout: float = 60.0, interval: float = 0.1) -> dict[str, Any]:
        """Poll the post until every target is final; fails with the last view after `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            view = self.post(post_id)
            if view["done"]:
                return view
            if time.monotonic() >= deadline:
                states = {t["platform"]: (t["state"], t.get("user_message")) for t in view["targets"]}
                raise StackError(f"post {post_id} not done after {timeout:.0f} s: {states}")
            time.sleep(interval)
