"""Reports: latest numbers per platform, totals, engagement rate, CSV; only the owner sees them."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from shared.analytics.report import AnalyticsQuery, overview, overview_csv, post_metrics
from shared.http import ApiError
from tests.support.edge import as_answered
from tests.support.stack import JWT_SECRET, as_user, bearer


def _published_post(db, user: dict[str, str], *, campaign: str, snapshots: dict[str, list[tuple]]) -> dict:
    """A post with one published target per platform and its snapshots (views, likes, comments, shares, saves)."""
    now = datetime.now(UTC)
    ids: dict[str, str] = {}
    with db.service() as conn:
        video = conn.execute("insert into videos (user_id, storage_path, size_bytes) values (%s, %s, 1) returning id",
                             (user["sub"], f"{user['sub']}/v/{uuid.uuid4()}.mp4")).fetchone()
        post = conn.execute("insert into posts (user_id, video_id, caption, campaign) values (%s, %s, %s, %s) "
                            "returning id", (user["sub"], video["id"], "=Spring sale", campaign)).fetchone()
        for platform, rows in snapshots.items():
            connection = conn.execute(
                "insert into social_connections (user_id, platform, platform_account_id) values (%s, %s, %s) "
                "on conflict (user_id, platform, platform_account_id) do update set platform = excluded.platform "
                "returning id", (user["sub"], platform, f"acct-{platform}")).fetchone()
            target = conn.execute(
                "insert into publish_targets (user_id, post_id, connection_id, platform, state, platform_post_id, "
                "platform_url, published_at) values (%s, %s, %s, %s, 'published', %s, %s, %s) returning id",
                (user["sub"], post["id"], connection["id"], platform, f"pp-{platform}",
                 f"https://example.test/{platform}", now - timedelta(days=3))).fetchone()
            ids[platform] = str(target["id"])
            for age, (views, likes, comments, shares, saves) in enumerate(reversed(rows)):
                conn.execute(
                    "insert into analytics_snapshots (user_id, target_id, platform, platform_post_id, views, likes, "
                    "comments, shares, saves, fetched_at) values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    (user["sub"], target["id"], platform, f"pp-{platform}", views, likes, comments, shares, saves,
                     now - timedelta(days=age)))
    return {"post_id": str(post["id"]), "targets": ids}


@pytest.fixture
def post(db, user_a):
    # Snapshots oldest first; the report takes each platform's latest.
    return _published_post(db, user_a, campaign=f"spring-{uuid.uuid4().hex[:6]}", snapshots={
        "youtube": [(100, 1, 0, None, None), (1000, 50, 10, None, None)],
        "tiktok": [(3000, 200, 30, 20, None)],
        "instagram": [(0, 0, 0, 0, 0), (None, None, None, None, None)],
    })


def test_post_report_takes_the_latest_numbers_and_sums_them(db, user_a, post) -> None:
    report = post_metrics(db, as_user(user_a), post["post_id"])
    by_platform = {p["platform"]: p for p in report["platforms"]}
    assert (by_platform["youtube"]["views"], by_platform["youtube"]["likes"]) == (1000, 50)
    assert by_platform["youtube"]["engagement_rate"] == 0.06           # (50 + 10 + 0) / 1000
    assert by_platform["tiktok"]["engagement_rate"] == 0.0833          # (200 + 30 + 20) / 3000
    assert by_platform["instagram"]["views"] is None and by_platform["instagram"]["engagement_rate"] is None
    assert report["totals"]["views"] == 4000 and report["totals"]["shares"] == 20
    assert report["totals"]["saves"] is None                              # no platform reported saves
    assert report["totals"]["engagement_rate"] == round((50 + 10 + 200 + 30 + 20) / 4000, 4)
    assert report["message"] == "Numbers from 3 of 3 platforms."


def test_another_user_cannot_read_the_report(db, user_a, user_b, post) -> None:
    with pytest.raises(ApiError) as missing, as_answered():
        post_metrics(db, as_user(user_b), post["post_id"])
    assert missing.value.status == 404
    assert overview(db, as_user(user_b), AnalyticsQuery()) ["items"] == []


def test_overview_filters_and_csv_has_one_row_per_target(db, user_a, post) -> None:
    with db.service() as conn:
        campaign = conn.execute("select campaign from posts where id = %s", (post["post_id"],)).fetchone()[
            "campaign"]
    query = AnalyticsQuery.model_validate({"campaign": campaign})
    answer = overview(db, as_user(user_a), query)
    assert {item["platform"] for item in answer["items"]} == {"youtube", "tiktok", "instagram"}
    assert answer["by_platform"]["tiktok"]["posts"] == 1 and answer["totals"]["views"] == 4000
    only_tiktok = overview(db, as_user(user_a), AnalyticsQuery.model_validate({"campaign": campaign,
                                                                               "platform": "tiktok"}))
    assert [item["views"] for item in only_tiktok["items"]] == [3000]
    future = overview(db, as_user(user_a), AnalyticsQuery.model_validate(
        {"campaign": campaign, "from": (datetime.now(UTC) + timedelta(days=1)).isoformat()}))
    assert future["items"] == []

    rows = list(csv.DictReader(io.StringIO("".join(overview_csv(db, as_user(user_a), query)))))
    assert len(rows) == 3 and {row["target_id"] for row in rows} == set(post["targets"].values())
    tiktok = next(row for row in rows if row["platform"] == "tiktok")
    assert (tiktok["views"], tiktok["engagement_rate"], tiktok["saves"]) == ("3000", "0.0833", "")
    assert tiktok["caption"] == "'=Spring sale"                         # never a spreadsheet formula


@pytest.fixture(scope="module")
def functions(db):
    from shared.local import functions_server

    running = functions_server.start(0)
    yield running
    running.stop()


def test_routes_answer_json_and_csv_and_hide_other_users_posts(db, functions, user_a, user_b, post,
                                                               monkeypatch, make_app) -> None:
    monkeypatch.setenv("SUPABASE_JWT_SECRET", JWT_SECRET)
    make_app()
    base = f"{functions.url}/publish-video"
    mine = httpx.get(f"{base}/posts/{post['post_id']}/metrics", headers=bearer(user_a), timeout=30)
    assert mine.status_code == 200 and mine.json()["totals"]["views"] == 4000
    theirs = httpx.get(f"{base}/posts/{post['post_id']}/metrics", headers=bearer(user_b), timeout=30)
    assert theirs.status_code == 404 and theirs.json()["message"] == "We couldn't find that post."
    exported = httpx.get(f"{base}/analytics", params={"format": "csv"}, headers=bearer(user_a), timeout=30)
    assert exported.headers["content-type"].startswith("text/csv")
    lines = exported.text.strip().splitlines()
    assert lines[0].startswith("post_id,target_id,platform") and len(lines) == 1 + 3
    bad = httpx.get(f"{base}/analytics", params={"from": "yesterday"}, headers=bearer(user_a), timeout=30)
    assert bad.status_code == 422
