"""How suggested Facebook captions sound: our own register, far inside Facebook's limits."""

from __future__ import annotations

from shared.platforms.platform import CaptionRegister

CAPTION_REGISTER = CaptionRegister("conversational, like talking to neighbours, may end with a question", 250, 3,
                                   voice="conversational")
