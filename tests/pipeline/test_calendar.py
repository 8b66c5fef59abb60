"""GET /publish-video/posts as a calendar view reads it: the platform's own text and title, the
account, the poster frame, the state and local time; cursor pages; account and network filters."""

from __future__ import annotations

import io
from datetime import timedelta
from urllib.parse import quote
from zoneinfo import ZoneInfo

import httpx
from PIL import Image

from tests.pipeline.api import call
from tests.pipeline.flows import connect, target_request
from tests.support.stack import Harness


def test_calendar_items_pages_and_filters(harness: Harness, monkeypatch, user_a, user_b, vertical_video) -> None:
    tiktok = connect(harness, user_a, "tiktok")
    video_id = harness.video(user_a, vertical_video)
    at = (harness.clock.now + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)
    first = {"video_id": video_id, "caption": "Spring 🌸 sale", "hashtags": ["#sale", "新作"],
             "publish_at": at.isoformat(), "timezone": "America/New_York", "targets": [target_request("tiktok")]}
    status, _ = call(harness, monkeypatch, "POST", "/", user=user_a, json=first)
    assert status == 202
    blotato = connect(harness, user_a, "blotato")
    instagram = connect(harness, user_a, "instagram")
    connect(harness, user_a, "youtube")
    second = {"video_id": video_id, "caption": "Second", "publish_at": (at + timedelta(hours=1)).isoformat(),
              "targets": [target_request("blotato"), {"platform": "instagram", "caption": "Only IG"},
                          {"platform": "youtube", "title": "Spring title"}]}
    status, _ = call(harness, monkeypatch, "POST", "/", user=user_a, json=second)
    assert status == 202

    status, listing = call(harness, monkeypatch, "GET", "/posts", user=user_a)
    assert status == 200, listing
    items = listing["items"]
    assert [i["platform"] for i in items][0] == "tiktok" and len(items) == 4 and listing["next_cursor"] is None
    by_platform = {i["platform"]: i for i in items}
    assert by_platform["tiktok"]["text"] == "Spring 🌸 sale #sale #新作"
    assert by_platform["tiktok"]["local_time"] == at.astimezone(ZoneInfo("America/New_York")).isoformat()
    assert by_platform["tiktok"]["account"]["connection_id"] == tiktok
    assert by_platform["tiktok"]["account"]["username"]
    assert by_platform["instagram"]["text"] == "Only IG" and by_platform["instagram"]["caption"] == "Second"
    assert by_platform["youtube"]["title"] == "Spring title" and by_platform["youtube"]["text"] == "Second"
    assert all(i["state"] == "scheduled" for i in items)
    poster = httpx.get(by_platform["instagram"]["poster_url"])
    assert poster.status_code == 200 and Image.open(io.BytesIO(poster.content)).format == "JPEG"

    status, network = call(harness, monkeypatch, "GET", "/posts?platform=tiktok", user=user_a)
    assert sorted(i["platform"] for i in network["items"]) == ["blotato", "tiktok"]
    assert {i["network"] for i in network["items"]} == {"tiktok"}
    status, only = call(harness, monkeypatch, "GET", "/posts?platform=blotato", user=user_a)
    assert [i["account"]["connection_id"] for i in only["items"]] == [blotato]
    status, account = call(harness, monkeypatch, "GET", f"/posts?account={instagram}", user=user_a)
    assert [i["platform"] for i in account["items"]] == ["instagram"]

    seen, cursor = [], None
    while True:
        path = "/posts?limit=1" + (f"&cursor={quote(cursor)}" if cursor else "")
        status, page = call(harness, monkeypatch, "GET", path, user=user_a)
        assert status == 200 and len(page["items"]) <= 1, page
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [i["id"] for i in items]

    status, bad = call(harness, monkeypatch, "GET", "/posts?cursor=not-a-cursor", user=user_a)
    assert status == 422 and bad["code"] == "invalid_cursor"
    status, other = call(harness, monkeypatch, "GET", "/posts", user=user_b)
    assert other["items"] == []
