"""GET /publish-video/export: everything kept about the signed-in user, as JSON, and nothing secret."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest

from shared.connections.refresh import credentials_for
from tests.conftest import make_user
from tests.connections.conftest import JWT_SECRET, connect
from tests.support.parts import access


@pytest.fixture(scope="module")
def functions(db):
    from shared.local import functions_server

    running = functions_server.start(0)
    yield running
    running.stop()


def _client(functions, user: dict[str, str]) -> httpx.Client:
    from shared.auth import mint_local_token

    token = mint_local_token(user["sub"], user["email"], secret=JWT_SECRET)
    return httpx.Client(base_url=functions.url, headers={"Authorization": f"Bearer {token}"}, timeout=30)


def _published_post(db, user: dict[str, str], connection_id: str) -> dict[str, str]:
    with db.service() as conn:
        video = conn.execute("insert into videos (user_id, storage_path, size_bytes, original_filename) "
                             "values (%s, %s, 1000, 'spring.mp4') returning id",
                             (user["sub"], f"{user['sub']}/v/original.mp4")).fetchone()["id"]
        post = conn.execute("insert into posts (user_id, video_id, caption, campaign) values (%s, %s, "
                            "'Spring sale', 'spring') returning id", (user["sub"], video)).fetchone()["id"]
        target = conn.execute(
            "insert into publish_targets (user_id, post_id, connection_id, platform, state, platform_post_id, "
            "platform_url, published_at) values (%s, %s, %s, 'tiktok', 'published', 'tt-1', "
            "'https://www.tiktok.com/@me/video/1', now()) returning id",
            (user["sub"], post, connection_id)).fetchone()["id"]
        conn.execute("insert into analytics_snapshots (user_id, target_id, platform, platform_post_id, views, "
                     "watch_time_seconds) values (%s, %s, 'tiktok', 'tt-1', 1234, 56.5)", (user["sub"], target))
    return {"video": str(video), "post": str(post), "target": str(target)}


def test_export_holds_the_users_data_and_no_secret(db, platforms, functions):
    user, other = make_user(db), make_user(db)
    connection_id = connect(db, user, "tiktok")
    ids = _published_post(db, user, connection_id)
    platforms.sandbox.add_account("tiktok", "act.other", username="other.creator")
    _published_post(db, other, connect(db, other, "tiktok", sandbox_account="act.other"))
    access_token = credentials_for(db, access(), connection_id, now=datetime.now(UTC)).access_token

    with _client(functions, user) as client:
        response = client.get("/publish-video/export")

    assert response.status_code == 200, response.text
    document = response.json()
    assert document["user"] == {"id": user["sub"], "email": user["email"]}
    assert [v["id"] for v in document["videos"]] == [ids["video"]]
    assert [(p["id"], p["caption"], p["campaign"]) for p in document["posts"]] == [(ids["post"], "Spring sale",
                                                                                    "spring")]
    [target] = document["targets"]
    assert (target["id"], target["state"], target["platform_url"]) == (
        ids["target"], "published", "https://www.tiktok.com/@me/video/1")
    assert [(a["views"], a["watch_time_seconds"]) for a in document["analytics"]] == [(1234, 56.5)]
    [connection] = document["connections"]
    assert connection["id"] == connection_id and connection["status"] == "connected"
    assert {e["event"] for e in document["events"]} >= {"created"}
    # Only this user's rows, and no token in any form.
    text = json.dumps(document)
    assert other["sub"] not in text
    assert access_token not in text and "ciphertext" not in text
    assert "step_data" not in target and "lease_owner" not in target


def test_export_needs_a_signed_in_user(functions):
    response = httpx.get(f"{functions.url}/publish-video/export", timeout=30)
    assert response.status_code == 401
    assert response.json()["message"]
