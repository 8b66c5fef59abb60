from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest
from standardwebhooks import Webhook

from tests.pipeline import conftest as pipeline_fixtures
from tests.support.stack import Harness, bearer
from tests.webhooks.receiver import Receiver, start_receiver

# The pipeline's fixtures, shared with the webhook tests.
harness = pipeline_fixtures.harness
local_storage = pipeline_fixtures.local_storage
park_leftover_targets = pipeline_fixtures.park_leftover_targets
session_storage = pipeline_fixtures.session_storage
vertical_video = pipeline_fixtures.vertical_video



@pytest.fixture(scope="session")
def receiver_server():
    server = start_receiver()
    yield server
    server.stop()


@pytest.fixture
def receiver(receiver_server: Receiver) -> Receiver:
    receiver_server.reset()
    return receiver_server


def call(module_name: str, method: str, path: str, user: dict[str, str] | None = None, json_body: Any = None
         ) -> tuple[int, Any]:
    """Call a user-facing Cloud Function the way functions-framework does (path below the function)."""
    import importlib

    import flask

    module = importlib.import_module(f"functions.{module_name}")
    app = flask.Flask("functions-under-test")
    headers = bearer(user) if user else {}
    with app.test_request_context(path, method=method, headers=headers, json=json_body):
        response = getattr(module, module_name)(flask.request)
    return response.status_code, response.get_json()


class Hooks:
    """Webhook deliveries on their own in-process task queue, on the harness clock."""

    def __init__(self, harness: Harness) -> None:
        from shared.tasks.client import InlineQueue

        self.harness = harness
        self.db = harness.db
        self.clock = harness.clock
        self.outcomes: list[str] = []
        self.attempt_times: list[Any] = []
        self.queue = InlineQueue(self._dispatch, clock=harness.clock)

    def _dispatch(self, url: str, payload: dict[str, Any]) -> None:
        from shared.webhooks.delivery import deliver

        assert url.endswith("/webhook-delivery")
        self.attempt_times.append(self.clock.now)
        self.outcomes.append(deliver(self.db, self.queue, payload["delivery_id"], payload["attempt"],
                                     self.clock.now, vault=self.harness.app.vault,
                                     settings=self.harness.app.settings))

    def register(self, user: dict[str, str], url: str, events: list[str] | None = None) -> dict[str, Any]:
        from shared.webhooks.events import EVENT_TYPES

        status, body = call("webhooks", "POST", "/", user, {"url": url, "events": events or list(EVENT_TYPES)})
        assert status == 201, body
        return body

    def tick(self) -> int:
        """The scheduler tick's webhook duty, then every delivery due now."""
        from shared.webhooks.delivery import webhook_tick

        created = webhook_tick(self.db, self.queue, self.clock.now, self.harness.app.settings)["deliveries"]
        self.queue.run_due(self.clock.now)
        return created

    def run_retries(self, max_tasks: int = 200) -> None:
        """Deliver every pending attempt, moving the clock to each one's time."""
        ran = 0
        while (pending := self.queue.pending()) and ran < max_tasks:
            self.clock.now = max(self.clock.now, pending[0].run_at)
            ran += self.queue.run_due(self.clock.now)


@pytest.fixture
def hooks(harness: Harness) -> Hooks:
    # The database is shared by the session: events other tests left undelivered (parking their
    # leftover targets writes some) would be fanned out by this test's tick and counted with its own.
    with harness.db.service() as conn:
        conn.execute("update outbox_events set fanout_due = false where fanout_due")
    return Hooks(harness)


def verified(received: list[Any], secret: str) -> list[dict[str, Any]]:
    """Each request's body after checking its Standard Webhooks signature with the library."""
    out = []
    for request in received:
        body = Webhook(secret).verify(request.body, request.headers)
        assert body == json.loads(request.body)
        out.append({**body, "_id": request.headers["webhook-id"]})
    return out


def kinds(bodies: list[dict[str, Any]]) -> Counter[str]:
    return Counter(body["type"] for body in bodies)
