"""The videos function over real HTTP: real JWTs, real PostgreSQL with RLS, the local storage backend."""

from __future__ import annotations

import io
import secrets

import flask
import httpx
import pytest
from PIL import Image

from shared.config import load
from shared.media.samples import make_sample
from shared.storage import StorageSettings
from shared.storage.local import LocalStorage
from shared.wsgi_server import serve_in_thread


@pytest.fixture
def api(db, tmp_path, monkeypatch, make_app):
    from shared import auth

    jwt_secret = secrets.token_urlsafe(32)
    monkeypatch.setenv("SUPABASE_JWT_SECRET", jwt_secret)
    monkeypatch.setenv("MAX_VIDEO_BYTES", "1000000")
    backend = LocalStorage(tmp_path / "storage", signing_key=secrets.token_bytes(32))
    make_app(storage=backend)

    from functions.videos import videos

    app = flask.Flask("videos-test")

    @app.route("/videos", methods=["GET", "POST"])
    @app.route("/videos/<path:rest>", methods=["GET", "POST"])
    def route(rest: str = "") -> flask.Response:
        return videos(flask.request)

    server = serve_in_thread(app, name="videos-api")

    class Api:
        url = f"{server.url}/videos"
        storage = backend

        def headers(self, user, **extra):
            token = auth.mint_local_token(user["sub"], user["email"], secret=jwt_secret)
            return {"Authorization": f"Bearer {token}", **extra}

    yield Api()
    server.stop()


@pytest.fixture(scope="module")
def good_video(tmp_path_factory):
    return make_sample("good", tmp_path_factory.mktemp("api") / "clip.mp4").read_bytes()


def upload(api, user, body, **headers):
    return httpx.post(api.url, content=body,
                      headers=api.headers(user, **{"Content-Type": "video/mp4", "X-Filename": "clip.mp4", **headers}))


def test_upload_answers_201_with_probe_and_verdicts(api, user_a, good_video):
    response = upload(api, user_a, good_video)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["probe"]["video_codec"] == "h264" and body["probe"]["size_bytes"] == len(good_video)
    assert body["filename"] == "clip.mp4"
    assert body["verdicts"] and all(v["ok"] for v in body["verdicts"].values())
    assert body["storage_path"].startswith(f"{user_a['sub']}/{body['video_id']}/")
    assert api.storage.exists(body["storage_path"])

    listed = httpx.get(api.url, headers=api.headers(user_a)).json()["videos"]
    assert [v["video_id"] for v in listed] == [body["video_id"]]


def test_streamed_upload_without_length_works(api, user_a, good_video):
    chunks = (good_video[i : i + 65536] for i in range(0, len(good_video), 65536))
    response = upload(api, user_a, chunks)
    assert response.status_code == 201, response.text


def test_too_large_is_413_with_a_clear_message_and_nothing_stored(api, user_a):
    response = upload(api, user_a, b"\0" * 1_500_000)
    assert response.status_code == 413
    assert "Videos can be up to" in response.json()["message"]
    chunked = upload(api, user_a, (b"\0" * 100_000 for _ in range(15)))
    assert chunked.status_code == 413
    assert api.storage.list("") == []
    assert httpx.get(api.url, headers=api.headers(user_a)).json()["videos"] == []


def test_a_body_over_the_request_limit_is_sent_to_register_before_anything_is_stored(api, user_a, monkeypatch,
                                                                                      make_app):
    monkeypatch.setenv("MAX_UPLOAD_REQUEST_BYTES", "500000")
    make_app.replace(storage_settings=load(StorageSettings))
    response = upload(api, user_a, b"\0" * 600_000)   # a video size allowed, but not in one request
    assert response.status_code == 413
    body = response.json()
    assert body["code"] == "upload_through_storage" and "/videos/register" in body["message"]
    assert body["detail"]["max_request_bytes"] == 500000
    assert api.storage.list("") == []


def test_the_upload_request_limit_defaults_to_cloud_runs_32_mib():
    from shared.storage.settings import StorageSettings

    assert StorageSettings().max_upload_request_bytes == 32 * 1024 * 1024


def test_a_file_that_is_not_a_video_is_refused_and_removed(api, user_a):
    response = upload(api, user_a, b"hello, this is a text file" * 50)
    assert response.status_code == 422
    assert "MP4 or MOV" in response.json()["message"]
    assert api.storage.list("") == []


def test_other_users_cannot_see_or_register_the_video(api, user_a, user_b, good_video):
    created = upload(api, user_a, good_video).json()
    assert httpx.get(api.url, headers=api.headers(user_b)).json()["videos"] == []
    assert httpx.get(f"{api.url}/{created['video_id']}", headers=api.headers(user_b)).status_code == 404
    assert httpx.get(f"{api.url}/{created['video_id']}", headers=api.headers(user_a)).status_code == 200

    stolen = httpx.post(f"{api.url}/register", json={"path": created["storage_path"]}, headers=api.headers(user_b))
    assert stolen.status_code == 403
    assert "your own upload folder" in stolen.json()["message"]
    climbing = httpx.post(f"{api.url}/register", json={"path": f"{user_b['sub']}/../{created['storage_path']}"},
                          headers=api.headers(user_b))
    assert climbing.status_code == 403


def test_register_a_file_already_in_storage(api, user_a, good_video):
    path = f"{user_a['sub']}/direct/clip.mp4"
    api.storage.put(path, [good_video], "video/mp4")
    response = httpx.post(f"{api.url}/register", json={"path": path}, headers=api.headers(user_a))
    assert response.status_code == 201, response.text
    assert response.json()["probe"]["width"] == 540
    again = httpx.post(f"{api.url}/register", json={"path": path}, headers=api.headers(user_a))
    assert again.status_code == 409


def test_import_refuses_private_addresses(api, user_a):
    response = httpx.post(f"{api.url}/import", json={"url": "http://169.254.169.254/latest/meta-data/"},
                          headers=api.headers(user_a))
    assert response.status_code == 422
    assert "public internet addresses" in response.json()["message"]


def test_cover_from_image_is_fitted_per_platform(api, db, user_a, good_video):
    from shared.media.covers import cover_source

    video_id = upload(api, user_a, good_video).json()["video_id"]
    image = io.BytesIO()
    Image.new("RGB", (1600, 900), (200, 30, 30)).save(image, format="PNG")
    response = httpx.post(f"{api.url}/{video_id}/cover", content=image.getvalue(),
                          headers=api.headers(user_a, **{"Content-Type": "image/png"}))
    assert response.status_code == 200, response.text
    for platform in response.json()["covers"]:
        source = cover_source(video_id, platform, db=db, storage=api.storage)
        assert source is not None
        fitted = Image.open(io.BytesIO(b"".join(source.read_chunks())))
        from shared.platforms import adapters

        spec = adapters()[platform].limits.cover
        assert fitted.format == "JPEG" and fitted.size == (spec.width, spec.height)

    too_big = httpx.post(f"{api.url}/{video_id}/cover", content=b"\xff" * (2 * 1024 * 1024 + 1),
                         headers=api.headers(user_a, **{"Content-Type": "image/jpeg"}))
    assert too_big.status_code == 422 and "2 MB" in too_big.json()["message"]


def test_unauthenticated_requests_are_refused(api):
    assert httpx.get(api.url).status_code == 401
