"""What a publish request may contain, checked before anything is stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, field_validator, model_validator

MAX_SCHEDULE_AHEAD = timedelta(days=30)
PAST_GRACE = timedelta(minutes=1)


def _zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"'{name}' is not a time zone we know; use a name like 'Europe/Berlin'.") from None
    return name


def resolve_time(publish_at: datetime | None, timezone: str) -> datetime | None:
    """A wall-clock time in the user's zone (or an explicit offset) as an instant."""
    if publish_at is None:
        return None
    if publish_at.tzinfo is None:
        publish_at = publish_at.replace(tzinfo=ZoneInfo(timezone))
    return publish_at.astimezone(UTC)


def check_schedule(at: datetime | None, now: datetime) -> str | None:
    if at is None:
        return None
    if at < now - PAST_GRACE:
        return "The chosen time is in the past. Pick a time from now on, or publish now."
    if at > now + MAX_SCHEDULE_AHEAD:
        return "Posts can be scheduled at most 30 days ahead."
    return None


class TargetRequest(BaseModel):
    platform: str = Field(description="tiktok, instagram, youtube or facebook (or an integration key: blotato)")
    connection_id: UUID | None = Field(default=None, description="Which connected account, when there are several")
    caption: str | None = Field(default=None, description="Overrides the post caption for this platform")
    title: str | None = Field(default=None, description="Title (YouTube)")
    hashtags: list[str] | None = None
    options: dict[str, Any] = Field(default_factory=dict, description="Platform options (privacy, toggles, ...)")
    publish_at: datetime | None = Field(
        default=None, description="When to publish; without an offset it is read in `timezone`. Empty: now."
    )
    timezone: str | None = None

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str | None) -> str | None:
        return _zone(value) if value else value


class PublishRequest(BaseModel):
    video_id: UUID
    caption: str = ""
    hashtags: list[str] = Field(default_factory=list)
    campaign: str | None = Field(default=None, max_length=200)
    timezone: str = Field(default="UTC", description="The user's time zone, e.g. 'America/New_York'")
    publish_at: datetime | None = Field(default=None, description="Default time for every target; empty: now")
    targets: list[TargetRequest] = Field(min_length=1, max_length=10)
    wait: float = Field(default=0, ge=0, le=30, description="Seconds to wait for final results before answering")

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        return _zone(value)

    @field_validator("hashtags")
    @classmethod
    def _tags(cls, value: list[str]) -> list[str]:
        cleaned = [tag.strip().lstrip("#") for tag in value if tag.strip().lstrip("#")]
        for tag in cleaned:
            if any(ch.isspace() for ch in tag):
                raise ValueError(f"hashtag '#{tag}' has a space in it; hashtags are single words.")
        return cleaned

    @model_validator(mode="after")
    def _distinct(self) -> PublishRequest:
        seen = set()
        for target in self.targets:
            key = (target.platform, target.connection_id)
            if key in seen:
                raise ValueError(f"{target.platform} is listed twice; each account gets the video once.")
            seen.add(key)
        return self


class BulkItem(BaseModel):
    video_id: UUID
    caption: str | None = None
    hashtags: list[str] | None = None


class BulkPublishRequest(BaseModel):
    items: list[BulkItem] = Field(min_length=1, max_length=500)
    caption: str = ""
    hashtags: list[str] = Field(default_factory=list)
    campaign: str | None = None
    timezone: str = "UTC"
    publish_at: datetime | None = None
    targets: list[TargetRequest] = Field(min_length=1, max_length=10)

    def request_for(self, item: BulkItem) -> PublishRequest:
        return PublishRequest(
            video_id=item.video_id,
            caption=item.caption if item.caption is not None else self.caption,
            hashtags=item.hashtags if item.hashtags is not None else self.hashtags,
            campaign=self.campaign,
            timezone=self.timezone,
            publish_at=self.publish_at,
            targets=self.targets,
        )


class TargetEdit(BaseModel):
    caption: str | None = None
    title: str | None = None
    hashtags: list[str] | None = None
    options: dict[str, Any] | None = None
    publish_at: datetime | None = None
    timezone: str | None = None

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str | None) -> str | None:
        return _zone(value) if value else value


class PostQuery(BaseModel):
    start: datetime | None = Field(default=None, alias="from")
    end: datetime | None = Field(default=None, alias="to")
    platform: str | None = None
    campaign: str | None = None
    state: str | None = None
    limit: int = Field(default=100, ge=1, le=500)
