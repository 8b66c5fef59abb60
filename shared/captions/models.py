"""What a suggestion request takes, what the writers get, and what they give back."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.video_context import LANGUAGE_PATTERN

Tone = Literal["friendly", "professional", "playful", "bold"]


class CaptionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    video_id: UUID
    platforms: list[str] = Field(min_length=1, max_length=5,
                                 description="tiktok, instagram, youtube, facebook (or blotato, which posts to TikTok)")
    brief: str | None = Field(default=None, max_length=1000,
                              description="What this post should say, e.g. '20% off this weekend'")
    language: str | None = Field(default=None, pattern=LANGUAGE_PATTERN,
                                 description="Language to write in; default: the video's, else guessed from its text")
    tone: Tone | None = Field(default=None, description="friendly (default), professional, playful or bold")
    campaign: str | None = Field(default=None, max_length=200, description="The campaign the post belongs to")

    @field_validator("platforms")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        lowered = [p.strip().lower() for p in value]
        if len(set(lowered)) != len(lowered):
            raise ValueError("a platform is listed twice; each gets one suggestion.")
        return lowered


@dataclass(frozen=True)
class Material:
    """Everything the writers know about the post."""

    description: str | None = None
    prompt: str | None = None
    brand: str | None = None
    brief: str | None = None
    campaign: str | None = None
    filename_words: str | None = None
    language: str = "en"
    tone: Tone = "friendly"
    # network → hashtags that did well for this account there (best first)
    proven_tags: dict[str, list[str]] = field(default_factory=dict)
    # network → the traits of the variant that won the user's A/B test there (publishing_defaults)
    winning_styles: dict[str, dict[str, Any]] = field(default_factory=dict)

    def source_text(self) -> str:
        """The words a hashtag may come from (and is checked against)."""
        parts = (self.description, self.brief, self.campaign, self.brand, self.prompt, self.filename_words)
        return "\n".join(p for p in parts if p)


@dataclass
class Draft:
    """One platform's suggestion as a writer made it, before the limits are re-checked."""

    platform: str
    caption: str
    hashtags: list[str]
    title: str | None = None
    notes: list[str] = field(default_factory=list)
