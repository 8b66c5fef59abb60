"""A user's cover reaches each platform through the platform's own field (FR-12)."""

from __future__ import annotations

import io

from PIL import Image

from shared.media.covers import cover_specs, store_covers
from tests.pipeline.flows import publish
from tests.support.stack import Harness


def _photo() -> bytes:
    """A landscape PNG, so both the vertical and the horizontal crops have work to do."""
    image = Image.new("RGB", (1600, 1000), (200, 120, 40))
    for x in range(0, 1600, 100):
        image.paste((20, 60, 200), (x, 0, x + 50, 1000))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def test_every_platform_with_a_cover_field_declares_its_size() -> None:
    specs = cover_specs()
    assert (specs["youtube"].width, specs["youtube"].height) == (1280, 720)
    assert (specs["instagram"].width, specs["instagram"].height) == (1080, 1920)
    assert specs["instagram"].max_bytes == 8 * 1024 * 1024 and specs["instagram"].formats == ("image/jpeg",)
    # TikTok (direct and via Blotato) and Facebook Reels take no cover image.
    assert set(specs) == {"youtube", "instagram"}


def test_uploaded_cover_reaches_instagram_and_youtube(harness: Harness, user_a, vertical_video) -> None:
    stored: dict[str, str] = {}

    def add_cover() -> None:
        with harness.db.service() as conn:
            video_id = conn.execute("select id from videos where user_id = %s order by created_at desc limit 1",
                                    (user_a["sub"],)).fetchone()["id"]
        stored.update(store_covers(str(video_id), image=_photo(), db=harness.db, storage=harness.storage))

    answer = publish(harness, user_a, vertical_video, ("instagram", "youtube"), before=add_cover)
    assert set(stored) == {"instagram", "youtube"}
    harness.run()
    for target_id in answer["by_platform"].values():
        assert harness.target(target_id)["state"] == "published"

    [reel] = harness.published("instagram")
    assert reel["cover"]["ok"] and reel["cover"]["format"] == "JPEG"
    assert (reel["cover"]["width"], reel["cover"]["height"]) == (1080, 1920)
    assert reel["cover"]["size"] <= 8 * 1024 * 1024
    assert reel["thumb_offset"] is None   # Instagram ignores it next to a cover image: not sent

    [short] = harness.published("youtube")
    thumbnail = short["thumbnail"]
    assert (thumbnail["width"], thumbnail["height"]) == (1280, 720)
    assert thumbnail["content_type"] == "image/jpeg"
    step_data = harness.target(answer["by_platform"]["youtube"])["step_data"]
    assert step_data.get("thumbnail_set") is True


def test_a_cover_frame_time_goes_to_tiktok_and_instagram(harness: Harness, user_a, vertical_video) -> None:
    for platform in ("tiktok", "instagram"):
        harness.connect(user_a, platform)
    video_id = harness.video(user_a, vertical_video)
    harness.publish(user_a, video_id=video_id, caption="Frame cover", targets=[
        {"platform": "tiktok",
         "options": {"privacy_level": "PUBLIC_TO_EVERYONE", "consent": True, "cover_offset_seconds": 1.5}},
        {"platform": "instagram", "options": {"cover_offset_seconds": 2}},
    ])
    harness.run()
    [tiktok] = harness.published("tiktok")
    assert tiktok["post_info"]["video_cover_timestamp_ms"] == 1500
    [reel] = harness.published("instagram")
    assert reel["thumb_offset"] == "2000" and reel["cover"] is None
