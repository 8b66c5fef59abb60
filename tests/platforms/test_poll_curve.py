"""Status polls follow the processing curve: short first waits, doubling, capped at the platform's interval.

Against the sandbox over real HTTP: the sandbox keeps the video processing while we
look, so each check answers "not yet" and the adapter picks the next wait.
"""

from __future__ import annotations

import httpx
import pytest

from shared.platforms.base import Credentials, PublishJob
from shared.platforms.facebook import FacebookAdapter, FacebookSettings
from shared.platforms.instagram import InstagramAdapter, InstagramSettings
from tests.support.steps import publish_job

PAGE = "104000000000077"
IG_ACCOUNT = "17841400000000077"


def _job(sb, video, platform: str, account: str) -> PublishJob:
    token = sb.mint_token(platform, account).value
    return publish_job(target_id=f"target-poll-{platform}", credentials=Credentials(access_token=token,
                      account_id=account, username="pollcreator"), video=video, caption="Poll curve #reels",
                      title="Poll curve", options={})


def _drive_to_polling(adapter, job: PublishJob, poll_step: str) -> tuple[dict, list[float]]:
    step, data, waits = adapter.first_step, {}, []
    while step != poll_step:
        outcome = adapter.run_step(step, job, data)
        data.update(outcome.data)
        step = outcome.next_step
        waits.append(outcome.wait_seconds)
    return data, waits[-1:]


def _checks(adapter, job: PublishJob, poll_step: str, data: dict, count: int) -> list[float]:
    waits = []
    for _ in range(count):
        outcome = adapter.run_step(poll_step, job, data)
        assert outcome.next_step == poll_step and outcome.published is None   # still processing
        data.update(outcome.data)
        waits.append(outcome.wait_seconds)
    return waits


@pytest.fixture
def slow_sandbox(sandbox):
    sb = sandbox.sandbox
    sb.config["processing_seconds"] = 600   # processing for the whole test
    yield sandbox
    sb.config["processing_seconds"] = 0


def test_facebook_checks_after_1_2_4_8_s_then_every_10_s(slow_sandbox, sample_video) -> None:
    sb = slow_sandbox.sandbox
    sb.add_account("facebook", PAGE, kind="page", name="Poll Page")
    settings = FacebookSettings(graph_base=slow_sandbox.url + "/facebook-graph",
                                rupload_base=slow_sandbox.url + "/rupload")
    assert (settings.poll_first_seconds, settings.poll_seconds) == (1.0, 10.0)   # the declared curve
    with httpx.Client(timeout=5.0) as http:
        adapter = FacebookAdapter(settings, http=http)
        job = _job(sb, sample_video, "facebook", PAGE)
        data, first = _drive_to_polling(adapter, job, "check_status")
        assert first == [1.0]
        assert _checks(adapter, job, "check_status", data, 6) == [2.0, 4.0, 8.0, 10.0, 10.0, 10.0]


def test_instagram_checks_after_1_2_4_8_s_then_every_15_s(slow_sandbox, sample_video) -> None:
    sb = slow_sandbox.sandbox
    sb.add_account("instagram", IG_ACCOUNT, username="pollcreator", account_type="BUSINESS")
    settings = InstagramSettings(graph_base=slow_sandbox.url + "/instagram-graph")
    with httpx.Client(timeout=5.0) as http:
        adapter = InstagramAdapter(settings, http=http)
        job = _job(sb, sample_video, "instagram", IG_ACCOUNT)
        data, first = _drive_to_polling(adapter, job, "check_container")
        assert first == [1.0]
        assert _checks(adapter, job, "check_container", data, 5) == [2.0, 4.0, 8.0, 15.0, 15.0]
