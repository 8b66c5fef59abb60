"""A cover chosen by time reaches every platform that takes one, and the preview shows it.

The sample video's red channel counts frames ((frame * 4) % 256 at 30 fps), so the sandbox's
record of the image it received says which frame arrived: second 1.0 is frame 30, red 120.
"""

from __future__ import annotations

import hashlib
import io
from datetime import timedelta

import httpx
from PIL import Image

from tests.pipeline.api import call
from tests.pipeline.flows import connect, target_request
from tests.support.stack import Harness


def _red(frame_seconds: float) -> int:
    return round(frame_seconds * 30) * 4 % 256


def _image(url: str) -> tuple[bytes, Image.Image]:
    answer = httpx.get(url, timeout=30)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("image/jpeg")
    return answer.content, Image.open(io.BytesIO(answer.content)).convert("RGB")


def _mean_red(picture: Image.Image) -> float:
    red = picture.split()[0]
    return sum(red.getdata()) / (picture.width * picture.height)


def test_a_chosen_frame_becomes_the_youtube_thumbnail(harness: Harness, monkeypatch, user_a, vertical_video) -> None:
    for platform in ("youtube", "tiktok"):
        connect(harness, user_a, platform)
    video_id = harness.video(user_a, vertical_video)
    body = {"video_id": video_id, "caption": "Frame 30 please", "targets": [
        {"platform": "youtube", "options": {"cover_offset_seconds": 1.0}},
        {**target_request("tiktok"), "options": {**target_request("tiktok")["options"], "cover_offset_seconds": 2.0}},
    ]}
    status, preview = call(harness, monkeypatch, "POST", "/preview", user=user_a, json=body)
    assert status == 200 and preview["publishable"], preview
    covers = {t["platform"]: t["cover"] for t in preview["targets"]}
    assert covers["youtube"]["offset_seconds"] == 1.0 and covers["tiktok"]["offset_seconds"] == 2.0
    youtube_bytes, youtube_image = _image(covers["youtube"]["url"])
    assert youtube_image.size == (1280, 720)  # YouTube's cover size: the file that will be sent
    assert abs(_mean_red(youtube_image) - _red(1.0)) < 12
    _, tiktok_image = _image(covers["tiktok"]["url"])
    assert tiktok_image.size == (540, 960)   # TikTok picks the frame itself: shown as it is
    assert abs(_mean_red(tiktok_image) - _red(2.0)) < 12

    status, answer = call(harness, monkeypatch, "POST", "/", user=user_a, json=body)
    assert status == 202, answer
    harness.run(until=harness.clock.now + timedelta(minutes=10))
    [short] = harness.published("youtube")
    thumbnail = short["thumbnail"]
    assert (thumbnail["width"], thumbnail["height"]) == (1280, 720)
    assert abs(thumbnail["mean_rgb"][0] - _red(1.0)) < 12   # frame 30, not the first frame (red 0)
    assert thumbnail["sha256"] == hashlib.sha256(youtube_bytes).hexdigest()  # exactly what the preview showed
    [tiktok] = harness.published("tiktok")
    assert tiktok["post_info"]["video_cover_timestamp_ms"] == 2000


def test_without_a_chosen_frame_youtube_gets_no_thumbnail(harness: Harness, monkeypatch, user_a,
                                                          vertical_video) -> None:
    connect(harness, user_a, "youtube")
    video_id = harness.video(user_a, vertical_video)
    status, answer = call(harness, monkeypatch, "POST", "/", user=user_a,
                          json={"video_id": video_id, "caption": "No cover", "targets": [{"platform": "youtube"}]})
    assert status == 202, answer
    harness.run(until=harness.clock.now + timedelta(minutes=10))
    [short] = harness.published("youtube")
    assert short.get("thumbnail") is None


def test_facebook_reels_refuse_a_cover_frame_at_create(harness: Harness, monkeypatch, user_a,
                                                            vertical_video) -> None:
    connect(harness, user_a, "facebook")
    video_id = harness.video(user_a, vertical_video)
    body = {"video_id": video_id, "caption": "x",
            "targets": [{"platform": "facebook", "options": {"cover_offset_seconds": 1.0}}]}
    status, answer = call(harness, monkeypatch, "POST", "/", user=user_a, json=body)
    assert status == 422, answer
    # Facebook's Reels API takes no cover (shared/platforms/facebook/media_profile.py): no such option.
    assert "targets.0.options.cover_offset_seconds: unknown field" in answer["message"]


def test_a_cover_frame_past_the_end_is_refused_when_edited_too(harness: Harness, monkeypatch, user_a,
                                                               vertical_video) -> None:
    connect(harness, user_a, "youtube")
    video_id = harness.video(user_a, vertical_video)
    at = (harness.clock.now + timedelta(days=1)).isoformat()
    status, answer = call(harness, monkeypatch, "POST", "/", user=user_a, json={
        "video_id": video_id, "caption": "Later", "publish_at": at,
        "targets": [{"platform": "youtube", "options": {"cover_offset_seconds": 1.0}}]})
    assert status == 202, answer
    target_id = answer["targets"][0]["target_id"]
    status, edited = call(harness, monkeypatch, "PATCH", f"/targets/{target_id}", user=user_a,
                          json={"options": {"cover_offset_seconds": 9.5}})
    assert status == 422, edited
    assert "The cover frame must be within the video: it is 4 seconds long" in edited["message"]
    status, edited = call(harness, monkeypatch, "PATCH", f"/targets/{target_id}", user=user_a,
                          json={"options": {"cover_offset_seconds": 3.5}})
    assert status == 200, edited


def test_a_chosen_frame_reaches_tiktok_through_blotato(harness: Harness, monkeypatch, user_a,
                                                       vertical_video) -> None:
    connect(harness, user_a, "blotato")
    video_id = harness.video(user_a, vertical_video)
    request = target_request("blotato")
    body = {"video_id": video_id, "caption": "Via Blotato",
            "targets": [{**request, "options": {**request["options"], "cover_offset_seconds": 1.5}}]}
    status, preview = call(harness, monkeypatch, "POST", "/preview", user=user_a, json=body)
    assert status == 200 and preview["publishable"], preview
    _, picture = _image(preview["targets"][0]["cover"]["url"])
    assert abs(_mean_red(picture) - _red(1.5)) < 12
    status, answer = call(harness, monkeypatch, "POST", "/", user=user_a, json=body)
    assert status == 202, answer
    harness.run(until=harness.clock.now + timedelta(minutes=10))
    [post] = harness.published("blotato")
    assert post["target"]["videoCoverTimestamp"] == 1500
