"""YouTube Shorts options: visibility, audience and metadata of the upload.

Values follow the videos resource (https://developers.google.com/youtube/v3/docs/videos#resource):
status.privacyStatus is public | unlisted | private; selfDeclaredMadeForKids and
containsSyntheticMedia are booleans; snippet.categoryId is a numeric id;
snippet.tags count toward a 500-character total (checked with the caption).
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from shared.platforms.options import CoverOffset, PlatformOptions
from shared.strict import UserText


class Options(PlatformOptions):
    """YouTube Shorts: who can see it, audience and labels, and the video's metadata."""

    TARGET_NAME: ClassVar[str | None] = "YouTubeTarget"

    privacy_status: Literal["public", "unlisted", "private"] = Field(default="public",
                                                                     description="Who can see the video")
    made_for_kids: bool = Field(default=False, description="Made for kids (COPPA); required by YouTube")
    contains_synthetic_media: bool = Field(default=True, description="Altered or synthetic content label")
    notify_subscribers: bool = True
    category_id: str | None = Field(default=None, pattern=r"^[0-9]{1,4}$", description="YouTube category id")
    default_language: str | None = Field(default=None, pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$",
                                         max_length=35, description="BCP-47 language, e.g. en or pt-BR")
    description: UserText | None = Field(default=None, max_length=5000,
                                         description="Overrides the description made from the caption")
    tags: list[UserText] | None = Field(default=None, max_length=500,
                                        description="Overrides the tags made from the hashtags")
    cover_offset_seconds: CoverOffset | None = None
