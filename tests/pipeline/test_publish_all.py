"""One action, four platforms: the main job through the real pipeline."""

from __future__ import annotations

from tests.support.stack import Harness

CAPTION = "Spring sale starts today!"


def _connect_all(harness: Harness, user: dict[str, str]) -> None:
    for platform in ("tiktok", "instagram", "youtube", "facebook"):
        harness.connect(user, platform)


def test_one_video_to_four_platforms_publishes_each_exactly_once(harness: Harness, user_a, vertical_video) -> None:
    _connect_all(harness, user_a)
    video_id = harness.video(user_a, vertical_video)
    answer = harness.publish(
        user_a,
        video_id=video_id,
        caption=CAPTION,
        hashtags=["springsale"],
        targets=[
            {"platform": "tiktok", "options": {"privacy_level": "PUBLIC_TO_EVERYONE", "consent": True}},
            {"platform": "instagram"},
            {"platform": "youtube", "title": "Spring sale"},
            {"platform": "facebook"},
        ],
    )
    assert {t["state"] for t in answer["targets"]} == {"queued"}
    harness.run()
    view = harness.post(user_a, answer["post_id"])
    states = {t["platform"]: t["state"] for t in view["targets"]}
    assert states == {p: "published" for p in ("tiktok", "instagram", "youtube", "facebook")}, view
    assert view["summary"] == "Published to 4 of 4 platforms."
    for target in view["targets"]:
        assert target["platform_url"], target
        records = harness.published(target["platform"])
        assert len(records) == 1, (target["platform"], records)


def test_a_publish_logs_no_token_key_or_url_signature(harness: Harness, user_a, vertical_video) -> None:
    """Run the whole flow with logs captured: no credential the run used may appear in them."""
    import io
    import os

    from shared import log

    stream = io.StringIO()
    log.configure("DEBUG", stream=stream)
    try:
        _connect_all(harness, user_a)
        video_id = harness.video(user_a, vertical_video)
        answer = harness.publish(user_a, video_id=video_id, caption=CAPTION, targets=[
            {"platform": "tiktok", "options": {"privacy_level": "PUBLIC_TO_EVERYONE", "consent": True}},
            {"platform": "instagram"}, {"platform": "youtube", "title": "Spring"}, {"platform": "facebook"}])
        harness.run()
        assert harness.post(user_a, answer["post_id"])["summary"] == "Published to 4 of 4 platforms."
    finally:
        log.configure()
    text = stream.getvalue()
    assert "step" in text or "published" in text  # the run did log
    secrets = [token.value for token in harness.sandbox.sandbox.tokens.values()]
    secrets += [key.split(":", 1)[1] for key in os.environ["TOKEN_VAULT_KEYS"].split(",")]
    assert len(secrets) > 5
    leaked = [secret[:12] for secret in secrets if secret and secret in text]
    assert not leaked, f"credentials in the logs: {leaked}"
    # Signed video URLs may be logged, but never with their signature.
    import re

    assert not re.search(r"sig=(?!\[redacted\])", text)
