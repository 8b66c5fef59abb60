"""TikTok facts the sandbox mirrors: the `invalid_params` error code and the >64 MB chunk rule.

https://developers.tiktok.com/doc/tiktok-api-v2-error-handling,
https://developers.tiktok.com/doc/content-posting-api-media-transfer-guide
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from shared.platforms.errors import PermanentError
from shared.platforms.tiktok.chunks import MAX_CHUNK, MB, plan_chunks
from shared.platforms.tiktok.errors import ERROR_TABLE
from tests.platforms.test_tiktok import make_job, tiktok  # noqa: F401 - fixture


@dataclass
class SizedVideo:
    """A video known only by its size: init sends sizes, never bytes."""

    size: int
    url: str = "https://storage.test/v.mp4"
    content_type: str = "video/mp4"
    filename: str = "v.mp4"

    def read_chunks(self, start: int = 0, chunk_size: int = MB) -> Iterator[bytes]:
        raise AssertionError("init must not read the video")


@pytest.mark.parametrize("size", [MAX_CHUNK + 1, 100 * MB, 128 * MB])
def test_a_video_over_64_mb_is_never_sent_whole(size: int) -> None:
    plan = plan_chunks(size, MAX_CHUNK)
    assert plan.total_chunk_count >= 2
    assert 5 * MB <= plan.chunk_size <= MAX_CHUNK
    assert plan.total_chunk_count == size // plan.chunk_size
    assert plan.byte_range(plan.total_chunk_count - 1)[1] == size - 1


def test_sandbox_refuses_one_chunk_over_64_mb_with_invalid_params(tiktok) -> None:  # noqa: F811
    sb, adapter, token = tiktok
    size = MAX_CHUNK + 1
    answer = httpx.post(adapter.settings.api_base + "/v2/post/publish/video/init/",
                        headers={"Authorization": f"Bearer {token}"},
                        json={"post_info": {"privacy_level": "SELF_ONLY", "title": "x"},
                              "source_info": {"source": "FILE_UPLOAD", "video_size": size, "chunk_size": size,
                                              "total_chunk_count": 1}})
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "invalid_params"


def test_adapter_opens_a_chunked_upload_for_a_video_just_over_64_mb(tiktok) -> None:  # noqa: F811
    sb, adapter, token = tiktok
    adapter.settings.chunk_bytes = MAX_CHUNK
    job = make_job(SizedVideo(MAX_CHUNK + 1), token, privacy_level="SELF_ONLY")
    first = adapter.run_step("creator_info", job, {})
    outcome = adapter.run_step("init", job, first.data)
    assert outcome.next_step == "upload" and outcome.data["total_chunk_count"] == 2


def test_invalid_params_is_reported_as_refused_settings(tiktok) -> None:  # noqa: F811
    sb, adapter, token = tiktok
    job = make_job(SizedVideo(10 * MB), token, privacy_level="SELF_ONLY")
    first = adapter.run_step("creator_info", job, {})
    too_long = dict(first.data, post_info=dict(first.data["post_info"], title="x" * 2300))
    with pytest.raises(PermanentError) as caught:
        adapter.run_step("init", job, too_long)
    assert caught.value.code == "invalid_params"
    assert caught.value.user_message == ERROR_TABLE["invalid_params"][1]
