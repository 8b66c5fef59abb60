"""Options of TikTok posts through Blotato: TikTok's own choices, plus Blotato's extras.

Blotato maps its target fields one-to-one onto TikTok's (privacyLevel, disabledComments,
isBrandedContent, ...: https://help.blotato.com/platform-publishing/platforms/tiktok), and
TikTok's UX rules apply to the user's choice in the same way: no preselected privacy,
branded content not private, consent to the Music Usage Confirmation
(https://developers.tiktok.com/doc/content-sharing-guidelines/).
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from shared.platforms.tiktok import options as tiktok


class Options(tiktok.TikTokChoices):
    """TikTok via Blotato: the TikTok options, plus Blotato's music, draft and upload switches."""

    TARGET_DESCRIPTION: ClassVar[str | None] = "TikTok through a Blotato account."
    OPTIONS_DESCRIPTION: ClassVar[str | None] = "privacy_level and consent are required (TikTok's UX rules)"

    auto_add_music: bool | None = Field(default=None, description="Let TikTok add recommended music")
    is_draft: bool | None = Field(default=None, description="Send to the creator's drafts instead of posting")
    upload_media_first: bool | None = Field(default=None, description="Upload the file to Blotato first "
                                                                      "instead of handing it a URL")
