"""How suggested Instagram captions sound: our own register, far inside Instagram's limits."""

from __future__ import annotations

from shared.platforms.platform import CaptionRegister

CAPTION_REGISTER = CaptionRegister("visual and warm, emoji welcome, short lines separated by line breaks", 400, 5,
                                   voice="visual")
