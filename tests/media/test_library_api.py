"""Media a frontend can show and manage, over the videos function on real HTTP: signed links that
download the right bytes and expire, a poster frame made at probe time, and deletion that waits
for posts still needing the video, then removes every stored object."""

from __future__ import annotations

import io
import secrets
import time

import flask
import httpx
import pytest
from PIL import Image

from shared.storage.local import LocalStorage
from shared.wsgi_server import serve_in_thread


class _Clock:
    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


@pytest.fixture
def api(db, tmp_path, monkeypatch, make_app):
    from shared import auth

    jwt_secret = secrets.token_urlsafe(32)
    monkeypatch.setenv("SUPABASE_JWT_SECRET", jwt_secret)
    clock = _Clock()
    backend = LocalStorage(tmp_path / "storage", signing_key=secrets.token_bytes(32), clock=clock)
    make_app(storage=backend)

    from functions.videos import videos

    app = flask.Flask("library-test")

    @app.route("/videos", methods=["GET", "POST"])
    @app.route("/videos/<path:rest>", methods=["GET", "POST", "DELETE"])
    def route(rest: str = "") -> flask.Response:
        return videos(flask.request)

    server = serve_in_thread(app, name="videos-api")

    class Api:
        url = f"{server.url}/videos"
        storage = backend

        def headers(self, user, **extra):
            token = auth.mint_local_token(user["sub"], user["email"], secret=jwt_secret)
            return {"Authorization": f"Bearer {token}", **extra}

    Api.clock = clock  # type: ignore[attr-defined]
    yield Api()
    server.stop()
    if backend.server is not None:
        backend.server.stop()  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def clip(media_dir):
    from shared.media.samples import make_video

    return make_video(media_dir / "library.mp4", seconds=3, width=360, height=640)


def _upload(api, user, clip) -> dict:
    answer = httpx.post(api.url, content=clip.read_bytes(), timeout=30,
                        headers=api.headers(user, **{"Content-Type": "video/mp4", "X-Filename": "clip.mp4"}))
    assert answer.status_code == 201, answer.text
    return answer.json()


def _objects(api, user) -> list[str]:
    return sorted(o.path for o in api.storage.list(user["sub"]))


def test_signed_links_download_the_right_bytes_and_expire(api, db, user_a, clip) -> None:
    from shared.media.covers import store_covers
    from shared.media.renditions import convert_video

    created = _upload(api, user_a, clip)
    video_id = created["video_id"]
    poster = created["media"]["poster"]
    assert poster is not None, created["media"]
    picture = Image.open(io.BytesIO(httpx.get(poster["url"]).content))
    assert picture.format == "JPEG" and picture.width == 360
    store_covers(video_id, offset_s=1.0, platforms=["youtube"], db=db, storage=api.storage)
    convert_video(video_id, db=db, storage=api.storage)

    detail = httpx.get(f"{api.url}/{video_id}", headers=api.headers(user_a)).json()
    media = detail["media"]
    original = httpx.get(media["video"]["url"])
    assert original.status_code == 200 and original.content == clip.read_bytes()
    assert media["video"]["size_bytes"] == len(original.content)
    [cover] = media["covers"]
    assert cover["platform"] == "youtube"
    with api.storage.open(f"{user_a['sub']}/{video_id}/cover-youtube.jpg") as stored:
        assert httpx.get(cover["url"]).content == stored.read()
    [converted] = media["renditions"]
    body = httpx.get(converted["url"]).content
    with db.service() as conn:
        path = conn.execute("select storage_path from video_renditions where video_id = %s and kind = %s",
                            (video_id, converted["kind"])).fetchone()["storage_path"]
    with api.storage.open(path) as stored:
        assert len(body) == converted["size_bytes"] and body == stored.read() != original.content
    listed = httpx.get(api.url, headers=api.headers(user_a)).json()["videos"]
    assert [v["media"]["poster"] is not None for v in listed] == [True]

    api.clock.offset = 16 * 60  # past the links' 15 minutes
    assert httpx.get(media["video"]["url"]).status_code in (403, 410)
    assert httpx.get(cover["url"]).status_code in (403, 410)


def test_delete_waits_for_posts_then_removes_every_object(api, db, user_a, user_b, clip) -> None:
    from shared.media.covers import store_covers

    video_id = _upload(api, user_a, clip)["video_id"]
    store_covers(video_id, offset_s=0.5, platforms=["youtube", "instagram"], db=db, storage=api.storage)
    assert len(_objects(api, user_a)) == 4   # original, poster, two covers
    with db.service() as conn:
        connection = conn.execute(
            "insert into social_connections (user_id, platform, platform_account_id, username) "
            "values (%s, 'youtube', %s, 'me') returning id", (user_a["sub"], f"acct-{video_id[:8]}")).fetchone()["id"]
        post = conn.execute("insert into posts (user_id, video_id, caption) values (%s, %s, 'x') returning id",
                            (user_a["sub"], video_id)).fetchone()["id"]
        target = conn.execute(
            "insert into publish_targets (user_id, post_id, connection_id, platform, scheduled_at) "
            "values (%s, %s, %s, 'youtube', now() + interval '1 day') returning id",
            (user_a["sub"], post, connection)).fetchone()["id"]

    refused = httpx.delete(f"{api.url}/{video_id}", headers=api.headers(user_a))
    assert refused.status_code == 409 and refused.json()["code"] == "video_in_use"
    assert "cancel it first" in refused.json()["message"]
    assert len(_objects(api, user_a)) == 4
    assert httpx.delete(f"{api.url}/{video_id}", headers=api.headers(user_b)).status_code == 404

    with db.service() as conn:
        conn.execute("update publish_targets set state = 'canceled' where id = %s", (target,))
    deleted = httpx.delete(f"{api.url}/{video_id}", headers=api.headers(user_a))
    assert deleted.status_code == 200 and deleted.json()["objects_removed"] == 4, deleted.text
    assert _objects(api, user_a) == []
    assert httpx.get(f"{api.url}/{video_id}", headers=api.headers(user_a)).status_code == 404
    assert httpx.delete(f"{api.url}/{video_id}", headers=api.headers(user_a)).status_code == 404


def test_the_library_says_when_an_unpublished_video_will_be_removed(api, db, user_a, clip) -> None:
    from datetime import datetime, timedelta

    from shared.app import application

    video = _upload(api, user_a, clip)
    created = datetime.fromisoformat(video["created_at"])
    expected = created + timedelta(days=application().storage_settings.unpublished_video_days)
    listed = httpx.get(api.url, headers=api.headers(user_a), timeout=30).json()["videos"]
    [shown] = [v for v in listed if v["video_id"] == video["video_id"]]
    assert datetime.fromisoformat(shown["removal_at"]) == expected
    detail = httpx.get(f"{api.url}/{video['video_id']}", headers=api.headers(user_a), timeout=30).json()
    assert datetime.fromisoformat(detail["removal_at"]) == expected
    with db.service() as conn:
        connection = conn.execute(
            "insert into social_connections (user_id, platform, platform_account_id) values (%s, 'youtube', 'c1') "
            "returning id", (user_a["sub"],)).fetchone()
        post = conn.execute("insert into posts (user_id, video_id) values (%s, %s) returning id",
                            (user_a["sub"], video["video_id"])).fetchone()
        conn.execute("insert into publish_targets (user_id, post_id, connection_id, platform, state, scheduled_at) "
                     "values (%s, %s, %s, 'youtube', 'scheduled', now() + interval '1 day')",
                     (user_a["sub"], post["id"], connection["id"]))
    try:
        detail = httpx.get(f"{api.url}/{video['video_id']}", headers=api.headers(user_a), timeout=30).json()
        assert detail["removal_at"] is None  # a scheduled post needs it: never removed meanwhile
    finally:
        with db.service() as conn:  # a later test's tick must not pick this target up
            conn.execute("update publish_targets set state = 'canceled', next_attempt_at = null where post_id = %s",
                         (post["id"],))
