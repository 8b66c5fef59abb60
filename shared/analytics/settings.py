"""Analytics settings: how often a published post's metrics are read, and for how long."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class AnalyticsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ANALYTICS_", env_file=None, extra="ignore", case_sensitive=False)

    # Hours between two snapshots of the same post (the PRD asks for daily numbers).
    snapshot_interval_hours: float = Field(default=24.0, gt=0)
    # Posts published longer ago than this get no more snapshots.
    window_days: int = Field(default=90, ge=1)
    # Posts read per tick at most; the rest wait for the next tick.
    batch_size: int = Field(default=200, ge=1)
    # When a read failed for a passing reason (network, 5xx), try again after this many minutes.
    retry_minutes: float = Field(default=60.0, gt=0)
    # Recommendations: posts with numbers before any is made, posts behind a winning choice,
    # and the significance level of every test (recommendations, "best platform", A/B defaults).
    recommend_min_posts: int = Field(default=20, ge=2)
    recommend_min_group_posts: int = Field(default=4, ge=2)
    significance: float = Field(default=0.05, gt=0, le=0.2)
    # "Best platform" of one video: views every compared platform needs first.
    compare_min_views: int = Field(default=200, ge=1)
