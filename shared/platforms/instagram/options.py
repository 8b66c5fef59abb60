"""Instagram Reels options of the media container.

Parameters from the IG User Media reference
(https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/media):
share_to_feed, cover_url, thumb_offset (milliseconds), audio_name, collaborators (up to 3 usernames).
"""

from __future__ import annotations

from pydantic import Field, HttpUrl

from shared.platforms.options import CoverOffset, PlatformOptions
from shared.strict import UserText


class Options(PlatformOptions):
    """Instagram Reels: feed sharing, cover, audio name, collaborators."""

    share_to_feed: bool = Field(default=True, description="Also show the Reel in the profile's feed")
    cover_url: HttpUrl | None = Field(default=None, description="A public JPEG to use as the cover")
    thumb_offset: int | None = Field(default=None, ge=0, le=24 * 3600 * 1000,
                                     description="The cover frame in milliseconds (Instagram's own name)")
    cover_offset_seconds: CoverOffset | None = None
    audio_name: UserText | None = Field(default=None, max_length=100, description="Name of the Reel's audio")
    is_ai_generated: bool | None = None
    collaborators: list[UserText] = Field(default_factory=list, max_length=3,
                                          description="Up to 3 Instagram usernames to invite as collaborators")

    def cover_offset(self) -> float | None:
        return self.thumb_offset / 1000 if self.thumb_offset is not None else self.cover_offset_seconds
