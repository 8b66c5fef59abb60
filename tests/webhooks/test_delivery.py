"""Retries over about a day, exactly-once acceptance, dead endpoints turned off and mailed about."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.notify.local_smtp import LocalSmtpServer
from shared.notify.mailer import SmtpMailer
from shared.notify.outbox import drain_outbox
from shared.notify.settings import MailSettings
from shared.webhooks.delivery import MAX_ATTEMPTS, RETRY_DELAYS_SECONDS, deliver
from tests.pipeline.flows import publish
from tests.support.stack import Harness
from tests.webhooks.conftest import Hooks, call, verified


def _delivery_ids(harness: Harness, endpoint_id: str) -> list[str]:
    with harness.db.service() as conn:
        rows = conn.execute("select id from webhook_deliveries where endpoint_id = %s order by created_at",
                            (endpoint_id,)).fetchall()
    return [str(row["id"]) for row in rows]


def test_a_receiver_failing_three_times_gets_the_event_exactly_once_more(
    harness: Harness, hooks: Hooks, receiver, user_a, vertical_video
) -> None:
    endpoint = hooks.register(user_a, receiver.url + "/flaky", ["target.published"])
    receiver.script["/flaky"] = [500, 503, 500]
    publish(harness, user_a, vertical_video, ["instagram"])
    harness.run()

    hooks.tick()
    assert len(receiver.to("/flaky")) == 1
    (delivery_id,) = _delivery_ids(harness, endpoint["id"])
    # The same attempt's task delivered twice (Cloud Tasks is at least once) sends nothing more.
    assert deliver(harness.db, hooks.queue, delivery_id, 0, harness.clock.now, vault=harness.app.vault,
                   settings=harness.app.settings) == "stale"
    assert len(receiver.to("/flaky")) == 1

    hooks.run_retries()
    requests = receiver.to("/flaky")
    assert len(requests) == 4
    assert len({r.headers["webhook-id"] for r in requests}) == 1, "every attempt carries the event's id"
    assert verified(requests, endpoint["secret"])[0]["type"] == "target.published"
    gaps = [(b - a).total_seconds() for a, b in zip(hooks.attempt_times, hooks.attempt_times[1:], strict=False)]
    assert gaps == [float(d) for d in RETRY_DELAYS_SECONDS[:3]]

    harness.clock.advance(days=2)
    hooks.tick()
    hooks.run_retries()
    assert len(receiver.to("/flaky")) == 4, "an accepted event is never sent again"

    status, listing = call("webhooks", "GET", f"/{endpoint['id']}/deliveries", user_a)
    assert status == 200
    attempts = listing["deliveries"]
    assert [a["response_status"] for a in attempts] == [200, 500, 503, 500]
    assert [a["attempt"] for a in attempts] == [4, 3, 2, 1]
    assert [a["succeeded"] for a in attempts] == [True, False, False, False]
    assert all(a["delivery_status"] == "succeeded" and a["event_type"] == "target.published" for a in attempts)
    assert all(isinstance(a["latency_ms"], int) and a["latency_ms"] >= 0 for a in attempts)
    assert attempts[-1]["error"] == "answered 500"
    assert call("webhooks", "GET", f"/{endpoint['id']}", user_a)[1]["failing_since"] is None


@pytest.fixture
def smtp(tmp_path):
    server = LocalSmtpServer(tmp_path / "mail").start()
    yield server
    server.stop()


def test_a_dead_endpoint_is_retried_for_a_day_then_turned_off_and_the_user_is_mailed(
    harness: Harness, hooks: Hooks, receiver, user_a, vertical_video, smtp
) -> None:
    endpoint = hooks.register(user_a, receiver.url + "/dead", ["target.published"])
    receiver.always["/dead"] = 503
    publish(harness, user_a, vertical_video, ["facebook"])
    harness.run()
    hooks.tick()
    hooks.run_retries()

    assert len(receiver.to("/dead")) == MAX_ATTEMPTS == 8
    assert hooks.attempt_times[-1] - hooks.attempt_times[0] >= timedelta(hours=24)
    status, view = call("webhooks", "GET", f"/{endpoint['id']}", user_a)
    assert view["status"] == "disabled"
    assert "failed for over a day" in view["disabled_reason"] and "answered 503" in view["disabled_reason"]

    with harness.db.service() as conn:
        conn.execute("update notifications set sent_at = now() where sent_at is null and user_id <> %s",
                     (user_a["sub"],))
    drain_outbox(harness.db, SmtpMailer(MailSettings(smtp_host=smtp.host, smtp_port=smtp.port)), now=datetime.now(UTC))
    (mail,) = [m for m in smtp.messages() if m["Subject"] == "We turned off one of your webhooks"]
    assert mail["To"] == user_a["email"]
    text = mail.get_content()
    assert receiver.url + "/dead" in text and "turn it back on" in text

    # Turned off: the next events are not sent to it.
    receiver.reset()
    publish(harness, user_a, vertical_video, ["instagram"])
    harness.run()
    hooks.tick()
    assert receiver.to("/dead") == []

    # The user fixes the endpoint and turns it back on; new events flow again.
    status, view = call("webhooks", "PATCH", f"/{endpoint['id']}", user_a, {"enabled": True})
    assert status == 200 and view["status"] == "active" and view["disabled_reason"] is None
    publish(harness, user_a, vertical_video, ["youtube"])
    harness.run()
    hooks.tick()
    assert len(receiver.to("/dead")) == 1


def test_redirects_are_refused_and_the_redirect_target_never_called(
    harness: Harness, hooks: Hooks, receiver, user_a
) -> None:
    endpoint = hooks.register(user_a, receiver.url + "/moved")
    receiver.redirects["/moved"] = receiver.url + "/elsewhere"
    status, result = call("webhooks", "POST", f"/{endpoint['id']}/test", user_a)
    assert status == 200
    assert (result["outcome"], result["succeeded"], result["response_status"]) == ("failed", False, 302)
    assert "redirects are not followed" in result["error"]
    assert receiver.to("/elsewhere") == []


def test_the_address_rules_are_checked_again_before_every_attempt(
    harness: Harness, hooks: Hooks, receiver, user_a, monkeypatch
) -> None:
    endpoint = hooks.register(user_a, receiver.url + "/rebound")
    monkeypatch.setenv("WEBHOOK_ALLOW_PRIVATE_URLS", "false")
    status, result = call("webhooks", "POST", f"/{endpoint['id']}/test", user_a)
    assert status == 200 and result["outcome"] == "failed" and result["response_status"] is None
    assert result["error"].startswith("address refused")
    assert receiver.to("/rebound") == []
