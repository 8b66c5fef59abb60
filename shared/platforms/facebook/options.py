"""Facebook Reels options."""

from __future__ import annotations

from pydantic import Field

from shared.platforms.options import PlatformOptions


class Options(PlatformOptions):
    """Facebook Reels: how the file reaches Facebook."""

    pull_from_url: bool = Field(default=False, description="Let Facebook fetch the file from its URL instead of "
                                                           "uploading it")
