"""TikTok Direct Post options, checked when a post is created or edited.

TikTok's content-sharing UX guidelines (audited before an app may post publicly,
https://developers.tiktok.com/doc/content-sharing-guidelines/):
- the user chooses who can see the video from the creator's current
  `privacy_level_options` (creator_info), with no value preselected;
- interactions the creator disabled in TikTok stay disabled;
- branded content (a paid partnership) cannot be private ("Only me");
- before posting, the user agrees to TikTok's Music Usage Confirmation, and for
  branded content also to its Branded Content Policy.
creator_info is described at https://developers.tiktok.com/doc/content-posting-api-reference-query-creator-info
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Literal

from pydantic import Field, model_validator

from shared.platforms.options import CoverOffset, PlatformOptions

PrivacyLevel = Literal["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR", "SELF_ONLY"]
PRIVACY_LEVELS: tuple[str, ...] = PrivacyLevel.__args__  # type: ignore[attr-defined]
PRIVACY_WORDS = {"PUBLIC_TO_EVERYONE": "everyone", "MUTUAL_FOLLOW_FRIENDS": "friends",
                 "FOLLOWER_OF_CREATOR": "followers", "SELF_ONLY": "only you"}
MUSIC_USAGE = "By posting, you agree to TikTok's Music Usage Confirmation."
BRANDED_CONTENT = "By posting, you agree to TikTok's Branded Content Policy and Music Usage Confirmation."
CONSENT_PROBLEM = ("TikTok asks you to agree to its Music Usage Confirmation (and, for branded content, its "
                   "Branded Content Policy) before posting. Please confirm, then publish again.")


def declaration(brand_content: bool) -> str:
    """The consent text the user must be shown and agree to (TikTok's UX guidelines, point 4)."""
    return BRANDED_CONTENT if brand_content else MUSIC_USAGE


def choices_text(levels: list[str] | tuple[str, ...]) -> str:
    return ", ".join(f"{level} ({PRIVACY_WORDS.get(level, level)})" for level in levels)


class TikTokChoices(PlatformOptions):
    """What the user chooses for a TikTok post, whichever way it reaches TikTok."""

    # Not required by the schema (an inbox draft needs neither), but by every direct post.
    REQUIRED_TO_POST: ClassVar[tuple[str, ...]] = ("privacy_level", "consent")

    privacy_level: PrivacyLevel | None = Field(
        default=None, description="Who can see the video; required, one of the creator's privacy_level_options "
                                  "(GET /platforms). There is no default: TikTok requires the user's choice.")
    consent: bool = Field(
        default=False, description="The user agreed to the declaration shown before posting: TikTok's Music Usage "
                                   "Confirmation, plus the Branded Content Policy when brand_content_toggle is on. "
                                   "Required; recorded with the post.")
    disable_comment: bool = False
    disable_duet: bool = False
    disable_stitch: bool = False
    brand_content_toggle: bool = Field(default=False, description="Branded content: a paid partnership; "
                                                                  "cannot be private")
    brand_organic_toggle: bool = Field(default=False, description="Your brand: promoting your own business")
    is_aigc: bool = Field(default=True, description="Label the video as AI-generated")
    cover_offset_seconds: CoverOffset | None = None
    video_cover_timestamp_ms: int | None = Field(default=None, ge=0, le=24 * 3600 * 1000,
                                                 description="The cover frame in milliseconds (TikTok's own name)")

    def _chosen_in_the_app(self) -> bool:
        """A draft sent to the TikTok app, where the creator makes these choices themselves."""
        return False

    @model_validator(mode="after")
    def _choices(self) -> TikTokChoices:
        if self._chosen_in_the_app():
            return self
        if self.brand_content_toggle and self.privacy_level == "SELF_ONLY":
            raise ValueError("branded content can't be private on TikTok; choose who else can see it")
        return self

    def cover_offset(self) -> float | None:
        if self.video_cover_timestamp_ms is not None:
            return self.video_cover_timestamp_ms / 1000
        return self.cover_offset_seconds

    def problems(self, context: Mapping[str, Any]) -> list[str]:
        """The user's own choices, against the creator's live creator_info (privacy levels TikTok offers now)."""
        if self._chosen_in_the_app():
            return []
        offered = list(context.get("privacy_level_options") or PRIVACY_LEVELS)
        found = []
        if self.privacy_level is None:
            found.append(f"Choose who can see this TikTok video (privacy_level): {choices_text(offered)}.")
        elif self.privacy_level not in offered:
            found.append(f"This TikTok account can't post with privacy {self.privacy_level}. Choose one of: "
                         f"{choices_text(offered)}.")
        if not self.consent:
            found.append(CONSENT_PROBLEM)
        return found

    def consent_record(self) -> dict[str, Any] | None:
        """What the user agreed to, stored with the target."""
        if self._chosen_in_the_app():
            return None
        policies = ["music_usage_confirmation"] + (["branded_content_policy"] if self.brand_content_toggle else [])
        return {"policies": policies, "declaration": declaration(self.brand_content_toggle)}


class Options(TikTokChoices):
    """TikTok: who can see the video (your choice, no default), interactions, disclosure, consent."""

    TARGET_NAME: ClassVar[str | None] = "TikTokTarget"
    TARGET_DESCRIPTION: ClassVar[str | None] = ("TikTok (direct, or through Blotato when that is the TikTok account "
                                                "connected).")
    OPTIONS_DESCRIPTION: ClassVar[str | None] = "privacy_level and consent are required (TikTok's UX rules)"

    send_to_inbox: bool = Field(default=False, description="Send to the creator's TikTok inbox as a draft; the "
                                                           "creator chooses privacy and posts in the app")
    upload_mode: Literal["FILE_UPLOAD", "PULL_FROM_URL"] | None = None

    def _chosen_in_the_app(self) -> bool:
        return self.send_to_inbox
