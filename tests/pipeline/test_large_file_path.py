"""The production path for files above the 32 MiB request cap of Cloud Functions, end to end:

browser --TUS--> Supabase Storage --> POST /videos/register --> probe by Range --> publish x4

Storage is SupabaseStorage against the stand-in (tuspyserver at Supabase's TUS path); the
upload is made the way tus-js-client/Uppy make it in a browser; the platforms are the sandbox.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import flask
import httpx
import pytest

from shared.storage.supabase import TUS_CHUNK, SupabaseStorage
from tests.support.stack import JWT_SECRET, Clock, Harness, bearer, configure_env
from tests.support.supabase_storage import start_storage_server

SERVICE_KEY = secrets.token_urlsafe(24)
ANON_KEY = secrets.token_urlsafe(24)
MB = 1000 * 1000


def browser_tus_upload(endpoint: str, user: dict[str, str], object_name: str, path: Path) -> httpx.Response:
    """What tus-js-client does with Supabase's documented options
    (https://supabase.com/docs/guides/storage/uploads/resumable-uploads): the user's access
    token, `x-upsert`, metadata bucketName/objectName/contentType/cacheControl,
    `uploadDataDuringCreation: true` (the first part rides on the POST) and
    `chunkSize: 6 * 1024 * 1024` for the PATCHes after it."""
    size = path.stat().st_size
    metadata = {"bucketName": "videos", "objectName": object_name, "contentType": "video/mp4", "cacheControl": "3600"}
    headers = {**bearer(user), "apikey": ANON_KEY, "x-upsert": "true", "Tus-Resumable": "1.0.0"}
    with path.open("rb") as handle, httpx.Client(timeout=60) as http:
        first = handle.read(TUS_CHUNK)
        created = http.post(endpoint, content=first, headers={
            **headers, "Upload-Length": str(size), "Content-Type": "application/offset+octet-stream",
            "Upload-Metadata": ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in metadata.items()),
        })
        if created.status_code != 201:
            return created
        location = httpx.URL(endpoint).join(created.headers["location"])
        offset = int(created.headers.get("upload-offset", "0"))
        answer = created
        while offset < size:
            handle.seek(offset)
            answer = http.patch(location, content=handle.read(TUS_CHUNK), headers={
                **headers, "Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream"})
            assert answer.status_code == 204, answer.text
            offset = int(answer.headers["upload-offset"])
        return answer


def call_videos(method: str, path: str, user: dict[str, str], json: Any) -> tuple[int, Any]:
    from functions.videos import videos

    app = flask.Flask("functions-under-test")
    with app.test_request_context(path, method=method, headers=bearer(user), json=json):
        response = videos(flask.request)
    if isinstance(response, tuple):
        body, status = response[0], response[1]
        return status, body
    return response.status_code, response.get_json()


@pytest.fixture
def supabase_stack(db, sandbox, tmp_path, monkeypatch, make_app):
    running = start_storage_server(tmp_path / "supabase", service_key=SERVICE_KEY, jwt_secret=JWT_SECRET)
    storage = SupabaseStorage(running.url, SERVICE_KEY, tus_retry_delay=0.05)
    configure_env(monkeypatch, sandbox.url, tmp_path / "unused-local-storage")
    sandbox.sandbox.config["processing_seconds"] = 0
    harness = Harness(db, sandbox, storage, Clock())
    make_app.install(harness.app)
    yield running, harness
    running.stop()


@pytest.fixture(scope="session")
def video_200mb(tmp_path_factory):
    """200 MB that every platform takes as is: 720x1280 at ~22 Mbps (Instagram allows 25), ~73 s
    (Facebook Reels allow 90): one second of noise, remuxed over and over."""
    from shared.media.samples import make_video, repeat_clip

    folder = tmp_path_factory.mktemp("large")
    clip = make_video(folder / "second.mp4", seconds=1, width=720, height=1280, audio_codec=None, noise=True,
                      video_options={"preset": "ultrafast", "qp": "45", "g": "30"})
    return repeat_clip(clip, folder / "large.mp4", until=lambda _, written: written >= 200 * MB)


def test_a_browser_may_upload_only_into_its_own_folder(supabase_stack, user_a, user_b, vertical_video):
    running, _ = supabase_stack
    endpoint = running.url + "/storage/v1/upload/resumable"
    refused = browser_tus_upload(endpoint, user_a, f"{user_b['sub']}/x/clip.mp4", vertical_video)
    assert refused.status_code == 403
    own = f"{user_a['sub']}/x/clip.mp4"
    assert browser_tus_upload(endpoint, user_a, own, vertical_video).status_code == 201  # all in the POST
    with vertical_video.open("rb") as handle:
        assert running.standin.sha256("videos", own) == hashlib.file_digest(handle, "sha256").hexdigest()
    assert not (running.standin.objects / "videos" / user_b["sub"]).exists()


@pytest.mark.slow
def test_200_mb_by_tus_registered_probed_by_range_and_published_to_four_platforms(
    supabase_stack, user_a, video_200mb
):
    running, harness = supabase_stack
    standin = running.standin
    size = video_200mb.stat().st_size
    assert size >= 200 * MB
    object_name = f"{user_a['sub']}/uploads/large.mp4"

    done = browser_tus_upload(running.url + "/storage/v1/upload/resumable", user_a, object_name, video_200mb)
    assert done.status_code == 204
    with video_200mb.open("rb") as handle:
        assert standin.sha256("videos", object_name) == hashlib.file_digest(handle, "sha256").hexdigest()
    creation = standin.traffic.tus_requests[0][1]
    assert creation["authorization"].startswith("Bearer ") and creation["x-upsert"] == "true"

    standin.traffic.reset()
    status, registered = call_videos("POST", "/videos/register", user_a, {"path": object_name})
    assert status == 201, registered
    assert registered["size_bytes"] == size
    assert (registered["probe"]["width"], registered["probe"]["height"]) == (720, 1280)
    # Probed through Range reads of the headers, not a download of 200 MB.
    assert standin.traffic.ranges
    assert standin.traffic.body_bytes < 0.02 * size, standin.traffic.body_bytes
    assert all(not verdict["needs_conversion"] and verdict["ok"] for verdict in registered["verdicts"].values()), \
        registered["verdicts"]

    # The harness clock started with the fixture; the upload took real seconds since (more on a busy machine).
    harness.clock.now = datetime.now(UTC)
    for platform in ("tiktok", "instagram", "youtube", "facebook"):
        harness.connect(user_a, platform)
    answer = harness.publish(user_a, video_id=registered["video_id"], caption="Big launch", targets=[
        {"platform": "tiktok", "options": {"privacy_level": "PUBLIC_TO_EVERYONE", "consent": True}},
        {"platform": "instagram"}, {"platform": "youtube", "title": "Big launch"}, {"platform": "facebook"}])
    harness.run()
    view = harness.post(user_a, answer["post_id"])
    assert {t["platform"]: t["state"] for t in view["targets"]} == {
        p: "published" for p in ("tiktok", "instagram", "youtube", "facebook")}, view
    for platform in ("tiktok", "instagram", "youtube", "facebook"):
        assert len(harness.published(platform)) == 1
