"""Blotato posts to TikTok: captions are written in TikTok's register."""

from __future__ import annotations

from shared.platforms.tiktok.caption_register import CAPTION_REGISTER

__all__ = ["CAPTION_REGISTER"]
