"""Blotato converts off-spec videos only up to 120 s: the sandbox refuses longer ones as Blotato
does, and our media rules make us convert such files ourselves before sending them.
https://help.blotato.com/tips-and-tricks/social-platform-requirements
"""

from __future__ import annotations

import pytest

from shared.media.probe import probe_file
from shared.media.validate import validate
from shared.platforms.blotato import BlotatoAdapter
from shared.platforms.errors import FormatRefused
from tests.platforms.test_blotato import blotato, drive, make_job  # noqa: F401 - fixture


@pytest.fixture(scope="module")
def long_mpeg4(media_dir, file_server):
    from shared.media.samples import make_video

    path = make_video(media_dir / "blotato-121s-mpeg4.mp4", seconds=121, width=360, height=640, fps=5,
                      video_codec="mpeg4")
    return path, file_server.source(path)


def test_blotato_refuses_to_convert_a_long_off_spec_video(blotato, long_mpeg4) -> None:  # noqa: F811
    sb, adapter, key = blotato
    _, source = long_mpeg4
    with pytest.raises(FormatRefused) as caught:  # the pipeline converts it itself and posts again
        drive(adapter, make_job(source, key))
    assert caught.value.code == "conversion_too_long"
    assert "2 minutes" in caught.value.user_message
    assert sb.published_for("blotato") == []


def test_our_rules_convert_anything_blotato_would_have_to(long_mpeg4) -> None:
    path, _ = long_mpeg4
    verdict = validate(probe_file(path), BlotatoAdapter.limits, platform="TikTok")
    assert verdict.needs_conversion
    assert {p.code for p in verdict.problems if p.fixable} >= {"video_codec"}
    assert not [p for p in verdict.problems if not p.fixable]
