"""Bad input is a 422 that says what is wrong, never a silent "OK" or a 500 (issue: a strict API)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.api.conftest import connect_account, error_of
from tests.support.cloud_stack import StackClient

TIKTOK = {"platform": "tiktok", "options": {"privacy_level": "PUBLIC_TO_EVERYONE", "consent": True}}


def _posts(db, user) -> int:
    with db.service() as conn:
        return conn.execute("select count(*) as n from posts where user_id = %s", (user["sub"],)).fetchone()["n"]


def _later(hours: int = 2) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).replace(microsecond=0).isoformat()


def test_misspelt_field_is_refused_with_the_close_name_not_published_now(client: StackClient, video_id, db,
                                                                         user) -> None:
    connect_account(client, "facebook")
    answer = client.api.post("/publish-video", json={"video_id": video_id, "scheduled_at": _later(),
                                                     "targets": [{"platform": "facebook"}]})
    assert answer.status_code == 422
    body = error_of(answer)
    assert {"field": "scheduled_at", "problem": "unknown field; did you mean publish_at?"} in body["detail"]
    assert "did you mean publish_at?" in body["message"]

    answer = client.api.post("/publish-video", json={"video_id": video_id, "captoin": "Hi",
                                                     "targets": [{"platform": "facebook", "tittle": "x"}]})
    assert answer.status_code == 422
    fields = {p["field"]: p["problem"] for p in error_of(answer)["detail"]}
    assert fields["captoin"] == "unknown field; did you mean caption?"
    assert fields["targets.0.tittle"] == "unknown field; did you mean title?"
    assert _posts(db, user) == 0


def test_edit_refuses_fields_it_does_not_take(client: StackClient, video_id) -> None:
    connect_account(client, "facebook")
    created = client.api.post("/publish-video", json={"video_id": video_id, "publish_at": _later(),
                                                      "targets": [{"platform": "facebook"}]}).json()
    target_id = created["targets"][0]["target_id"]
    answer = client.api.patch(f"/publish-video/targets/{target_id}",
                              json={"state": "published", "platform_url": "https://example.test/x"})
    assert answer.status_code == 422
    assert {p["field"] for p in error_of(answer)["detail"]} == {"state", "platform_url"}
    assert client.post(created["post_id"])["targets"][0]["state"] == "scheduled"


@pytest.mark.parametrize(("target", "field"), [
    ({"platform": "tiktok", "options": {"privacy_level": "EVERYONE!!", "consent": True}},
     "targets.0.options.privacy_level"),
    ({"platform": "youtube", "options": {"privacy_status": "secret"}}, "targets.0.options.privacy_status"),
    ({"platform": "instagram", "options": {"cover_offset_seconds": -1}},
     "targets.0.options.cover_offset_seconds"),
    ({"platform": "facebook", "options": {"pull_form_url": True}}, "targets.0.options.pull_form_url"),
    # Read strictly like every other body: a number is not a yes or no.
    ({"platform": "blotato", "options": {"upload_media_first": 0}}, "targets.0.options.upload_media_first"),
    ({"platform": "youtube", "options": {"made_for_kids": 1}}, "targets.0.options.made_for_kids"),
])
def test_options_are_checked_when_the_post_is_created(client: StackClient, video_id, target, field) -> None:
    answer = client.api.post("/publish-video", json={"video_id": video_id, "publish_at": _later(),
                                                     "targets": [target]})
    assert answer.status_code == 422, answer.text
    assert field in {p["field"] for p in error_of(answer)["detail"]}


def test_bulk_targets_are_read_as_strictly_as_one_post(client: StackClient, video_id) -> None:
    answer = client.api.post("/publish-video/bulk", json={
        "items": [{"video_id": video_id}], "publish_at": _later(),
        "targets": [{"platform": "blotato", "options": {"upload_media_first": 0}}]})
    assert answer.status_code == 422, answer.text
    assert "targets.0.options.upload_media_first" in {p["field"] for p in error_of(answer)["detail"]}


def test_edit_is_checked_like_create_options_and_youtube_tags(client: StackClient, video_id) -> None:
    connect_account(client, "youtube")
    created = client.api.post("/publish-video", json={"video_id": video_id, "publish_at": _later(),
                                                      "targets": [{"platform": "youtube", "title": "Sale"}]})
    assert created.status_code == 202, created.text
    target_id = created.json()["targets"][0]["target_id"]

    too_many = [f"tag{i:03d}longername" for i in range(40)]  # 40 tags of 14 characters: over 500 in all
    answer = client.api.patch(f"/publish-video/targets/{target_id}", json={"hashtags": too_many})
    assert answer.status_code == 422, answer.text
    assert "allows 500 characters of tags in all" in answer.json()["message"]

    answer = client.api.patch(f"/publish-video/targets/{target_id}", json={"options": {"privacy_status": "secret"}})
    assert answer.status_code == 422
    assert answer.json()["detail"]

    answer = client.api.patch(f"/publish-video/targets/{target_id}", json={"options": {"privacy_status": "unlisted"}})
    assert answer.status_code == 200, answer.text
    assert answer.json()["options"]["privacy_status"] == "unlisted"


@pytest.mark.parametrize(("path", "params", "field"), [
    ("/publish-video/posts", {"state": "bogus"}, "state"),
    ("/publish-video/posts", {"platform": "myspace"}, "platform"),
    ("/publish-video/posts", {"to": "0.5"}, "to"),
    ("/publish-video/posts", {"form": "2026-01-01T00:00:00Z"}, "form"),
    ("/publish-video/analytics", {"platform": "myspace"}, "platform"),
    ("/publish-video/analytics", {"from": "12"}, "from"),
])
def test_calendar_and_analytics_filters_are_checked(client: StackClient, path, params, field) -> None:
    answer = client.api.get(path, params=params)
    assert answer.status_code == 422, answer.text
    problems = {p["field"]: p["problem"] for p in error_of(answer)["detail"]}
    assert field in problems
    if field == "platform":
        assert "'tiktok'" in problems[field] and "'blotato'" in problems[field]
    if field == "state":
        assert "'scheduled'" in problems[field]


@pytest.mark.parametrize("content_type", ["text/plain", None])
def test_a_json_body_needs_the_json_content_type(client: StackClient, video_id, content_type) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    content = f'{{"video_id": "{video_id}", "targets": [{{"platform": "facebook"}}]}}'.encode()
    request = client.api.build_request("POST", "/publish-video", content=content, headers=headers)
    if content_type is None:
        request.headers.pop("Content-Type", None)
    answer = client.api.send(request)
    assert answer.status_code == 415, answer.text
    assert error_of(answer)["message"] == "Please send this request as JSON (Content-Type: application/json)."


@pytest.mark.parametrize("body", [
    {"caption": "Hello\x00world"},
    {"hashtags": ["sale\x00"]},
    {"campaign": "spring\x00"},
    {"targets": [{"platform": "youtube", "title": "T\x00"}]},
    {"targets": [{"platform": "youtube", "options": {"description": "d\x00"}}]},
    {"targets": [{"platform": "instagram", "options": {"audio_name": "\x00"}}]},
])
def test_nul_characters_are_refused_in_every_text(client: StackClient, video_id, body, db, user) -> None:
    request = {"video_id": video_id, "targets": [{"platform": "facebook"}], **body}
    answer = client.api.post("/publish-video", json=request)
    assert answer.status_code == 422, answer.text
    assert "text contains a NUL character" in answer.json()["message"]
    assert _posts(db, user) == 0


def test_nul_in_filters_and_other_bodies(client: StackClient, video_id) -> None:
    answer = client.api.get("/publish-video/posts", params={"campaign": "a\x00b"})
    assert answer.status_code == 422 and "NUL" in answer.json()["message"]
    answer = client.api.post("/videos/register", json={"path": "x\x00y"})
    assert answer.status_code == 422 and "NUL" in answer.json()["message"]
    answer = client.api.post("/connections/blotato", json={"api_key": "\x00"})
    assert answer.status_code == 422 and "NUL" in answer.json()["message"]


def test_a_huge_time_zone_name_is_a_422(client: StackClient, video_id) -> None:
    answer = client.api.post("/publish-video", json={"video_id": video_id, "timezone": "A" * 300,
                                                     "targets": [{"platform": "facebook"}]})
    assert answer.status_code == 422, answer.text
    assert "is not a time zone we know" in answer.json()["message"]


@pytest.mark.parametrize("offset", ["1e308", "Infinity", "NaN", "-1", "4.5"])
def test_cover_offsets_outside_the_video_are_a_422(client: StackClient, video_id, offset) -> None:
    answer = client.api.post(f"/videos/{video_id}/cover", content=f'{{"offset_seconds": {offset}}}',
                             headers={"Content-Type": "application/json"})
    assert answer.status_code == 422, answer.text
    if offset == "4.5":
        assert answer.json()["message"].startswith("The cover frame must be within the video: it is 4")


def test_cover_offset_in_options_past_the_end_is_refused_at_create(client: StackClient, video_id) -> None:
    connect_account(client, "instagram")
    answer = client.api.post("/publish-video", json={"video_id": video_id, "publish_at": _later(), "targets": [
        {"platform": "instagram", "options": {"cover_offset_seconds": 30}}]})
    assert answer.status_code == 422, answer.text
    assert "The cover frame must be within the video" in answer.json()["message"]


def test_blotato_key_missing_is_422_and_wrong_key_is_400(client: StackClient) -> None:
    answer = client.api.post("/connections/blotato", json={})
    assert answer.status_code == 422, answer.text
    assert answer.json()["message"].startswith("Please enter your Blotato API key")
    answer = client.api.post("/connections/blotato", json={"api_key": "not-a-real-key"})
    assert answer.status_code == 400, answer.text
    assert answer.json()["message"].startswith("Blotato did not accept this API key")
    answer = client.api.post("/connections/blotato/accounts", json={"api_key": "not-a-real-key"})
    assert answer.status_code == 400, answer.text


def test_every_input_model_forbids_unknown_fields() -> None:
    from shared.api.routes import ROUTES
    from shared.platforms import adapters, options_model
    from shared.strict import forbids_unknown_fields

    lax = set()
    for route in ROUTES:
        for model in (route.body_model(), route.query_model()):
            if model is not None:
                lax.update(forbids_unknown_fields(model))
    for key in adapters():
        lax.update(forbids_unknown_fields(options_model(key)))
    assert lax == set()
    # A model that would drop unknown fields is noticed (the check itself works).
    from pydantic import BaseModel

    class Lax(BaseModel):
        x: int = 0

    assert forbids_unknown_fields(Lax) == ["Lax"]
