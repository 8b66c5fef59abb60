"""How suggested YouTube captions sound: a searchable title and a short description."""

from __future__ import annotations

from shared.platforms.platform import CaptionRegister

# YouTube shows about 70 characters of a title in search; the limit is 100.
CAPTION_REGISTER = CaptionRegister("a searchable title with the main keywords first, plus a short description", 300, 3,
                                   voice="description", wants_title=True, title_budget=70)
