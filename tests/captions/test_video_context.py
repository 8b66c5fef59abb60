"""Video context (prompt, description, brand, language) through POST /videos, /videos/register and /videos/import."""

from __future__ import annotations

import httpx
import pytest

CONTEXT = {"prompt": "Close-up of latte art being poured, warm morning light", "description":
           "Our baristas pour latte art with oat milk every morning.", "brand": "Bean There", "language": "en"}


@pytest.fixture
def importable(monkeypatch, make_app):
    from shared.config import load
    from shared.media.settings import MediaSettings

    monkeypatch.setenv("IMPORT_ALLOWED_NETWORKS", "127.0.0.1/32")
    make_app.replace(media_settings=load(MediaSettings))
    yield
    monkeypatch.undo()


def _upload(api, user, path, **params):
    return httpx.post(f"{api.base_url}/videos", content=path.read_bytes(), params=params, timeout=60,
                      headers={**api.headers(user), "Content-Type": "video/mp4", "X-Filename": "latte.mp4"})


def test_upload_keeps_the_context_and_captions_use_it(api, user, sample_video):
    created = _upload(api, user, sample_video.path, **CONTEXT)
    assert created.status_code == 201, created.text
    assert created.json()["context"] == CONTEXT
    video_id = created.json()["video_id"]
    shown = httpx.get(f"{api.base_url}/videos/{video_id}", headers=api.headers(user)).json()
    assert shown["context"] == CONTEXT
    listed = httpx.get(f"{api.base_url}/videos", headers=api.headers(user)).json()["videos"]
    assert listed[0]["context"] == CONTEXT
    youtube = api.captions(user, {"video_id": video_id, "platforms": ["youtube"]}).json()["suggestions"][0]
    assert "Bean There" in youtube["title"] and "baristas" in youtube["caption"]


def test_upload_without_context_has_an_empty_one(api, user, sample_video):
    created = _upload(api, user, sample_video.path)
    assert created.status_code == 201, created.text
    assert created.json()["context"] == {"prompt": None, "description": None, "brand": None, "language": None}


def test_bad_context_is_refused_before_anything_is_stored(api, user, sample_video, db):
    bad = _upload(api, user, sample_video.path, language="English please")
    assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "language"
    unknown = _upload(api, user, sample_video.path, mood="happy")
    assert unknown.status_code == 422 and unknown.json()["detail"][0]["field"] == "mood"
    with db.service() as conn:
        assert conn.execute("select count(*) as n from videos where user_id = %s",
                            (user["sub"],)).fetchone()["n"] == 0


def test_register_keeps_the_context(api, user, sample_video):
    from shared.app import application

    copy = f"{user['sub']}/direct/latte.mp4"
    application().storage.put(copy, iter([sample_video.path.read_bytes()]), "video/mp4")
    registered = httpx.post(f"{api.base_url}/videos/register", headers=api.headers(user),
                            json={"path": copy, "context": {"description": "Latte art", "language": "en"}})
    assert registered.status_code == 201, registered.text
    assert registered.json()["context"]["description"] == "Latte art"
    too_long = httpx.post(f"{api.base_url}/videos/register", headers=api.headers(user),
                          json={"path": copy, "context": {"brand": "x" * 201}})
    assert too_long.status_code == 422 and too_long.json()["detail"][0]["field"] == "context.brand"


def test_import_keeps_the_context(api, user, sample_video, importable):
    imported = httpx.post(f"{api.base_url}/videos/import", headers=api.headers(user), timeout=60,
                          json={"url": sample_video.url, "context": {"description": "Oat milk latte", "brand": "B"}})
    assert imported.status_code == 201, imported.text
    assert imported.json()["context"] == {"prompt": None, "description": "Oat milk latte", "brand": "B",
                                          "language": None}
