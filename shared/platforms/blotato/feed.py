"""Blotato posts to TikTok: TikTok's feed decides where the caption is cut."""

from __future__ import annotations

from shared.platforms.tiktok.feed import FEED_CUTOFF

__all__ = ["FEED_CUTOFF"]
