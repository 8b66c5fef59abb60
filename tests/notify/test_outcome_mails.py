"""Mail for every final outcome: immediate failures, one deferral mail, grouped published mails, preferences.

The outcomes come from the real pipeline (sandbox over HTTP, real worker); the
events outbox is turned into mails by the tick's duty and sent to a real SMTP server.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.media.covers import store_covers
from shared.notify.local_smtp import LocalSmtpServer
from shared.notify.mailer import SmtpMailer
from shared.notify.outbox import drain_outbox
from shared.notify.settings import MailSettings
from shared.publishing.outcomes import GROUP_WINDOW, mail_outcomes
from tests.pipeline import conftest as pipeline_fixtures
from tests.pipeline.flows import publish, target_request
from tests.support.stack import Harness
from tests.webhooks.conftest import call

# The pipeline's fixtures: a harness on real parts with local storage and a vertical video.
harness = pipeline_fixtures.harness
local_storage = pipeline_fixtures.local_storage
park_leftover_targets = pipeline_fixtures.park_leftover_targets
session_storage = pipeline_fixtures.session_storage
vertical_video = pipeline_fixtures.vertical_video


@pytest.fixture
def smtp(tmp_path):
    server = LocalSmtpServer(tmp_path / "mail").start()
    yield server
    server.stop()


def _mail_outcomes(harness):
    """The tick's outcome-mail duty, as run_tick calls it."""
    return mail_outcomes(harness.db, harness.clock.now, harness.storage, harness.app.settings.frontend_url)


def _mails(harness: Harness, user: dict[str, str], kind: str | None = None) -> list[dict[str, Any]]:
    with harness.db.service() as conn:
        rows = conn.execute("select kind, subject, body, to_email from notifications where user_id = %s "
                            "and (%s::text is null or kind = %s) order by created_at",
                            (user["sub"], kind, kind)).fetchall()
    return [dict(row) for row in rows]


def _send(harness: Harness, user: dict[str, str], smtp: LocalSmtpServer) -> list[Any]:
    with harness.db.service() as conn:  # other tests' mails are not this test's business
        conn.execute("update notifications set sent_at = now() where sent_at is null and user_id <> %s",
                     (user["sub"],))
    drain_outbox(harness.db, SmtpMailer(MailSettings(smtp_host=smtp.host, smtp_port=smtp.port)), now=datetime.now(UTC))
    return [m for m in smtp.messages() if m["To"] == user["email"]]


def test_an_immediate_post_that_fails_for_good_mails_the_user(
    harness: Harness, user_a, vertical_video, smtp
) -> None:
    answer = publish(harness, user_a, vertical_video, ["facebook"], caption="Spring sale starts today!",
                     before=lambda: harness.fault("facebook", "finish", "processing_error",
                                                  params={"message": "video could not be processed"}))
    harness.run()
    assert harness.target(answer["by_platform"]["facebook"])["state"] == "failed"

    _mail_outcomes(harness)
    _mail_outcomes(harness)  # a second tick: still one mail
    (mail,) = _send(harness, user_a, smtp)
    assert mail["Subject"] == "We could not publish your video on Facebook Reels"
    text = mail.get_content()
    assert 'Your video "Spring sale starts today!" could not be published on Facebook Reels' in text
    assert "What went wrong: " + harness.target(answer["by_platform"]["facebook"])["user_message"] in text
    assert f"/posts/{answer['post_id']}" in text and "Retry" in text


def test_a_deferral_mails_once_with_the_time_it_will_publish(harness: Harness, user_a, vertical_video) -> None:
    answer = publish(harness, user_a, vertical_video, ["youtube"],
                     before=lambda: harness.fault("youtube", "insert", "quota", times=2))
    target_id = answer["by_platform"]["youtube"]
    harness.run(until=harness.clock.now + timedelta(hours=1))
    first = harness.target(target_id)
    assert first["state"] == "deferred"
    _mail_outcomes(harness)

    # The budget resets, the upload is refused once more (deferred again), then it publishes: one mail.
    harness.run()
    assert harness.target(target_id)["state"] == "published"
    assert [e["to_state"] for e in harness.events(target_id)].count("deferred") == 2
    _mail_outcomes(harness)

    (mail,) = _mails(harness, user_a, "post_deferred")
    assert mail["subject"] == "Your video will publish later on YouTube Shorts"
    assert "daily upload limit" in mail["body"]
    assert first["user_message"] in mail["body"] and "It will publish on" in mail["body"]


def test_platforms_that_finish_together_share_one_published_mail(
    harness: Harness, user_a, vertical_video, smtp
) -> None:
    def poster() -> None:
        with harness.db.service() as conn:
            video = conn.execute("select id from videos where user_id = %s", (user_a["sub"],)).fetchone()
        store_covers(str(video["id"]), offset_s=1.0, platforms=["youtube"], db=harness.db, storage=harness.storage)

    answer = publish(harness, user_a, vertical_video, ["tiktok", "instagram", "youtube"], before=poster,
                     caption="Meet the new spring collection, made from recycled cotton and shipped free")
    harness.run()
    summary = _mail_outcomes(harness)
    assert summary.published >= 1

    (mail,) = _send(harness, user_a, smtp)
    assert mail["Subject"] == "Your video is live on Instagram Reels, TikTok and YouTube Shorts"
    text = mail.get_content()
    assert 'Your video "Meet the new spring collection, made from recycled cotton a…"' in text
    for platform in ("tiktok", "instagram", "youtube"):
        url = harness.target(answer["by_platform"][platform])["platform_url"]
        assert url and url in text
    assert "- TikTok: " in text and "- YouTube Shorts: " in text and "Poster frame: http" in text
    assert f"/posts/{answer['post_id']}" in text


def test_the_published_mail_waits_for_a_sibling_still_on_its_way_but_not_forever(
    harness: Harness, user_a, vertical_video
) -> None:
    for platform in ("instagram", "facebook"):
        harness.connect(user_a, platform)
    video_id = harness.video(user_a, vertical_video)
    answer = harness.publish(user_a, video_id=video_id, caption="Grouped",
                             targets=[target_request("instagram"), target_request("facebook")])
    targets = {t["platform"]: t["target_id"] for t in answer["targets"]}
    # Facebook hits a passing error: it retries a minute later while Instagram is already live.
    harness.fault("facebook", "*", "server_error")
    harness.run(until=harness.clock.now + timedelta(seconds=30))
    assert harness.target(targets["instagram"])["state"] == "published"
    assert harness.target(targets["facebook"])["state"] != "published"

    assert _mail_outcomes(harness).waiting >= 1
    assert _mails(harness, user_a, "post_published") == []
    harness.run()
    assert harness.target(targets["facebook"])["state"] == "published"
    _mail_outcomes(harness)
    (mail,) = _mails(harness, user_a, "post_published")
    assert mail["subject"] == "Your video is live on Facebook Reels and Instagram Reels"

    # A sibling that takes longer than the window: the published one goes out alone.
    second = harness.publish(user_a, video_id=video_id, caption="Alone",
                             targets=[target_request("instagram"), target_request("facebook")])
    ids = {t["platform"]: t["target_id"] for t in second["targets"]}
    harness.fault("facebook", "*", "server_error", times=-1)
    harness.run(until=harness.clock.now + timedelta(seconds=30))
    _mail_outcomes(harness)
    assert len(_mails(harness, user_a, "post_published")) == 1
    harness.clock.advance(seconds=GROUP_WINDOW.total_seconds() + 1)
    _mail_outcomes(harness)
    mails = _mails(harness, user_a, "post_published")
    assert len(mails) == 2 and mails[1]["subject"] == "Your video is live on Instagram Reels"
    assert "This post so far: Published to 1 of 2 platforms, 1 in progress or scheduled." in mails[1]["body"]
    assert "This post so far" not in mails[0]["body"]
    assert harness.target(ids["facebook"])["state"] != "published"
    harness.clear_faults()


def test_preferences_decide_which_mails_go_out(harness: Harness, user_a, user_b, vertical_video) -> None:
    status, prefs = call("me", "GET", "/notifications", user_a)
    assert status == 200
    assert prefs == {"preferences": {"publishing": "all", "connections": "all", "webhooks": "all"},
                     "levels": ["all", "failures", "none"]}
    status, prefs = call("me", "PATCH", "/notifications", user_a, {"publishing": "failures"})
    assert status == 200 and prefs["preferences"]["publishing"] == "failures"
    assert call("me", "GET", "/notifications", user_b)[1]["preferences"]["publishing"] == "all"
    status, bad = call("me", "PATCH", "/notifications", user_a, {"publishing": "sometimes"})
    assert status == 422 and "publishing" in str(bad["detail"])

    answer = publish(harness, user_a, vertical_video, ["instagram", "facebook"],
                     before=lambda: harness.fault("facebook", "finish", "processing_error"))
    harness.run()
    _mail_outcomes(harness)
    assert [m["kind"] for m in _mails(harness, user_a)] == ["post_failed"]

    call("me", "PATCH", "/notifications", user_a, {"publishing": "none", "connections": "none"})
    assert call("me", "GET", "/notifications", user_a)[1]["preferences"] == {
        "publishing": "none", "connections": "none", "webhooks": "all"}
    retry = harness.publish(user_a, video_id=answer["video_id"], caption="Again",
                            targets=[target_request("facebook")])
    harness.fault("facebook", "finish", "processing_error")
    harness.run()
    assert harness.target(retry["targets"][0]["target_id"])["state"] == "failed"
    _mail_outcomes(harness)
    # A connection that expires: the mail is off too.
    with harness.db.service() as conn:
        account = conn.execute("select platform_account_id from social_connections where user_id = %s and "
                               "platform = 'instagram'", (user_a["sub"],)).fetchone()["platform_account_id"]
    harness.sandbox.sandbox.revoke_account_tokens("instagram", account)
    third = harness.publish(user_a, video_id=answer["video_id"], caption="Third",
                            targets=[target_request("instagram")])
    harness.run()
    parked = harness.target(third["targets"][0]["target_id"])
    assert parked["state"] == "needs_reconnect"
    assert harness.connection(str(parked["connection_id"]))["status"] == "expired"
    assert [m["kind"] for m in _mails(harness, user_a)] == ["post_failed"]
