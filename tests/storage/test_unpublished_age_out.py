"""Videos that were never published age out after UNPUBLISHED_VIDEO_DAYS, with one mail first.

Real PostgreSQL (the notifications outbox, RLS-owned rows) and real local storage.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from shared.media.retention import REMOVAL_NOTICE, age_out_rule, removal_times, run_retention

# Real time: other tests share this database, and only our back-dated rows may fall due.
NOW = datetime.now(UTC)


def _settings():
    """The storage settings of the application installed now (the age-out rule's periods)."""
    from shared.app import application

    return application().storage_settings


@pytest.fixture(autouse=True)
def _no_runnable_leftovers(db, user_a):
    """Our pending targets are long overdue: a later test's tick must not pick them up."""
    yield
    with db.service() as conn:
        conn.execute("update publish_targets set state = case when state = any(%s) then state else 'canceled' end, "
                     "next_attempt_at = null, lease_owner = null, lease_expires_at = null where user_id = %s",
                     (["published", "failed", "canceled"], user_a["sub"]))


def _video(db, storage, user, created_at, filename="holiday.mp4"):
    video_id = str(uuid.uuid4())
    path = f"{user['sub']}/{video_id}/original.mp4"
    storage.put(path, [b"video bytes"], "video/mp4")
    poster = f"{user['sub']}/{video_id}/poster.jpg"
    storage.put(poster, [b"jpeg"], "image/jpeg")
    with db.service() as conn:
        conn.execute("insert into videos (id, user_id, storage_path, original_filename, size_bytes, created_at) "
                     "values (%s, %s, %s, %s, 11, %s)", (video_id, user["sub"], path, filename, created_at))
        conn.execute("insert into video_renditions (video_id, user_id, kind, storage_path, content_type, size_bytes) "
                     "values (%s, %s, 'poster', %s, 'image/jpeg', 4)", (video_id, user["sub"], poster))
    return video_id, path, poster


def _target(db, user, video_id, *, state, scheduled_at, published_at=None):
    with db.service() as conn:
        connection = conn.execute(
            "insert into social_connections (user_id, platform, platform_account_id) values (%s, 'youtube', %s) "
            "returning id", (user["sub"], str(uuid.uuid4()))).fetchone()
        post = conn.execute("insert into posts (user_id, video_id) values (%s, %s) returning id",
                            (user["sub"], video_id)).fetchone()
        conn.execute("insert into publish_targets (user_id, post_id, connection_id, platform, state, scheduled_at, "
                     "published_at) values (%s, %s, %s, 'youtube', %s, %s, %s)",
                     (user["sub"], post["id"], connection["id"], state, scheduled_at, published_at))


def _notices(db, user):
    with db.service() as conn:
        return conn.execute("select to_email, subject, body from notifications where user_id = %s and kind = %s "
                            "order by created_at", (user["sub"], REMOVAL_NOTICE)).fetchall()


def _removal(db, video_id, now):
    with db.service() as conn:
        return removal_times(conn, [video_id], now, age_out_rule(_settings()))[video_id]


def test_an_unused_upload_is_announced_then_removed_after_the_setting(db, user_a, local_storage) -> None:
    video_id, path, poster = _video(db, local_storage, user_a, NOW - timedelta(days=28))
    rule = {"retention_days": 7, "unpublished_days": 30, "notice_days": 3}
    # Due in 2 days, but the owner has not been told yet: the removal follows the notice by 3 days.
    assert _removal(db, video_id, NOW) == NOW + timedelta(days=3)

    report = run_retention(db, local_storage, NOW, settings=_settings(), **rule)
    assert video_id not in report.deleted_videos and report.notices >= 1
    [mail] = _notices(db, user_a)
    assert mail["to_email"] == user_a["email"]
    assert "holiday.mp4" in mail["body"] and "never published" in mail["body"]
    # The mail went out 2 days before the due date: the removal waits the full notice period after it.
    removal_day = NOW + timedelta(days=3)
    assert f"removed on {removal_day:%Y-%m-%d}" in mail["body"]
    assert _removal(db, video_id, NOW) == removal_day

    almost = NOW + timedelta(days=2, hours=23)
    assert video_id not in run_retention(db, local_storage, almost, settings=_settings(), **rule).deleted_videos
    assert local_storage.exists(path) and len(_notices(db, user_a)) == 1  # one mail, not one per tick

    report = run_retention(db, local_storage, removal_day + timedelta(minutes=1), settings=_settings(), **rule)
    assert video_id in report.deleted_videos
    assert not local_storage.exists(path) and not local_storage.exists(poster)


def test_a_long_forgotten_upload_is_still_told_before_it_goes(db, user_a, local_storage) -> None:
    video_id, path, _ = _video(db, local_storage, user_a, NOW - timedelta(days=400))
    rule = {"retention_days": 7, "unpublished_days": 30, "notice_days": 3}
    assert video_id not in run_retention(db, local_storage, NOW, settings=_settings(), **rule).deleted_videos
    assert len(_notices(db, user_a)) == 1 and local_storage.exists(path)
    assert video_id in run_retention(db, local_storage, NOW + timedelta(days=3, minutes=1), settings=_settings(),
                                     **rule).deleted_videos


def test_a_video_only_in_canceled_or_failed_posts_ages_out_like_an_unused_one(db, user_a, local_storage) -> None:
    video_id, path, _ = _video(db, local_storage, user_a, NOW - timedelta(days=40))
    _target(db, user_a, video_id, state="canceled", scheduled_at=NOW - timedelta(days=20))
    _target(db, user_a, video_id, state="failed", scheduled_at=NOW - timedelta(days=10))
    rule = {"retention_days": 7, "unpublished_days": 30, "notice_days": 3}
    # Not the published videos' week: 30 days after the last failed attempt.
    assert video_id not in run_retention(db, local_storage, NOW, settings=_settings(), **rule).deleted_videos
    assert local_storage.exists(path) and _notices(db, user_a) == []
    assert _removal(db, video_id, NOW) == NOW + timedelta(days=20)


def test_a_published_video_keeps_the_week_after_its_last_publish(db, user_a, local_storage) -> None:
    video_id, path, _ = _video(db, local_storage, user_a, NOW - timedelta(days=40))
    _target(db, user_a, video_id, state="published", scheduled_at=NOW - timedelta(days=9),
            published_at=NOW - timedelta(days=8))
    report = run_retention(db, local_storage, NOW, settings=_settings(),
                           retention_days=7, unpublished_days=30, notice_days=3)
    assert video_id in report.deleted_videos and _notices(db, user_a) == []


@pytest.mark.parametrize("state", ["scheduled", "queued", "uploading", "deferred", "needs_reconnect"])
def test_an_unpublished_video_a_pending_post_needs_is_never_announced_or_removed(
    db, user_a, local_storage, state
) -> None:
    video_id, path, _ = _video(db, local_storage, user_a, NOW - timedelta(days=400))
    _target(db, user_a, video_id, state=state, scheduled_at=NOW - timedelta(days=100))
    report = run_retention(db, local_storage, NOW + timedelta(days=10), settings=_settings(),
                           retention_days=0, unpublished_days=1,
                           notice_days=0)
    assert video_id not in report.deleted_videos and local_storage.exists(path)
    assert _notices(db, user_a) == [] and _removal(db, video_id, NOW) is None
