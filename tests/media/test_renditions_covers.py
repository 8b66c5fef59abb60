from __future__ import annotations

import io
import secrets
import uuid

import pytest
from PIL import Image
from psycopg.types.json import Jsonb

from shared.media.convert import EncodeSettings
from shared.media.covers import CoverError, cover_source, load_user_image, store_covers
from shared.media.probe import probe_file
from shared.media.renditions import convert_video, media_for_target, prepare_for, rendition_for
from shared.platforms.base import CoverSpec
from shared.storage.local import LocalStorage

FAST = EncodeSettings(preset="ultrafast")


@pytest.fixture
def store(tmp_path):
    return LocalStorage(tmp_path / "storage", signing_key=secrets.token_bytes(32))


def add_video(db, store, user, path):
    video_id = str(uuid.uuid4())
    key = f"{user['sub']}/{video_id}/original.mp4"
    store.put_file(key, str(path), "video/mp4")
    with db.service() as conn:
        conn.execute(
            "insert into videos (id, user_id, storage_path, size_bytes, probe) values (%s, %s, %s, %s, %s)",
            (video_id, user["sub"], key, path.stat().st_size, Jsonb(probe_file(path).to_dict())),
        )
        row = conn.execute("select * from videos where id = %s", (video_id,)).fetchone()
    return dict(row)


def test_fixable_video_gets_a_converted_rendition_for_instagram(db, user_a, store, samples):
    video = add_video(db, store, user_a, samples["mpeg4"])
    assert rendition_for(video, "instagram", db=db) == video["storage_path"]  # nothing converted yet
    path = prepare_for(str(video["id"]), "instagram", db=db, storage=store, settings=FAST)
    assert path.endswith("/converted.mp4") and path != video["storage_path"]
    assert rendition_for(video, "instagram", db=db) == path
    again = convert_video(str(video["id"]), db=db, storage=store, settings=FAST)  # idempotent
    assert again["storage_path"] == path and again["probe"]["video_codec"] == "h264"


def test_valid_video_is_published_as_uploaded(db, user_a, store, samples):
    video = add_video(db, store, user_a, samples["good"])
    assert prepare_for(str(video["id"]), "instagram", db=db, storage=store) == video["storage_path"]


def test_media_for_target_hands_over_video_and_cover(db, user_a, store, samples):
    video = add_video(db, store, user_a, samples["moov_at_end"])
    convert_video(str(video["id"]), db=db, storage=store, settings=FAST)
    store_covers(str(video["id"]), offset_s=1.0, specs={"instagram": CoverSpec(1080, 1920, 8 * 1024 * 1024)},
                 db=db, storage=store)
    with db.service() as conn:
        post = conn.execute("insert into posts (user_id, video_id) values (%s, %s) returning id",
                            (user_a["sub"], video["id"])).fetchone()
    media, cover = media_for_target({"post_id": post["id"], "platform": "instagram"}, db=db, storage=store)
    assert media.path.endswith("converted.mp4") and media.size > 0
    assert cover is not None and cover.content_type == "image/jpeg"
    assert Image.open(io.BytesIO(b"".join(cover.read_chunks()))).size == (1080, 1920)


def test_user_image_is_centre_cropped_to_each_spec(db, user_a, store, samples):
    video = add_video(db, store, user_a, samples["good"])
    picture = Image.new("RGB", (1000, 1000), (0, 0, 255))
    picture.paste((255, 0, 0), (0, 0, 100, 1000))  # a red stripe on the left edge is cropped away for 9:16
    data = io.BytesIO()
    picture.save(data, format="JPEG")
    specs = {"youtube": CoverSpec(1280, 720, 50 * 1024 * 1024), "tiktok": CoverSpec(1080, 1920, 5 * 1024 * 1024)}
    stored = store_covers(str(video["id"]), image=data.getvalue(), specs=specs, db=db, storage=store)
    assert set(stored) == {"youtube", "tiktok"}
    youtube = Image.open(io.BytesIO(b"".join(store.read_chunks(stored["youtube"]))))
    tiktok = Image.open(io.BytesIO(b"".join(store.read_chunks(stored["tiktok"]))))
    assert youtube.size == (1280, 720) and tiktok.size == (1080, 1920)
    assert tiktok.getpixel((5, 960))[0] < 100  # the red edge is gone: centre crop
    assert cover_source(str(video["id"]), "tiktok", db=db, storage=store) is not None
    assert cover_source(str(video["id"]), "facebook", db=db, storage=store) is None


def test_bad_cover_images_are_refused_plainly():
    with pytest.raises(CoverError, match="2 MB"):
        load_user_image(b"\xff" * (2 * 1024 * 1024 + 1))
    with pytest.raises(CoverError, match="JPG or PNG"):
        load_user_image(b"not an image")
    gif = io.BytesIO()
    Image.new("RGB", (10, 10)).save(gif, format="GIF")
    with pytest.raises(CoverError, match="JPG or PNG"):
        load_user_image(gif.getvalue())
