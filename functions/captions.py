"""Caption suggestions: the /captions route of shared/api/routes.py.

POST /captions   {"video_id", "platforms": [...], "brief"?, "language"?, "tone"?, "campaign"?}
                 → per platform a caption (and a YouTube title), 3-5 hashtags and their counts
"""

from __future__ import annotations

from shared.api.dispatch import dispatch
from shared.app import application
from shared.captions.models import CaptionRequest
from shared.captions.service import suggest

captions = dispatch("captions", {
    "POST /captions": lambda call: suggest(application().database, call.user, call.body(CaptionRequest),
                                           settings=application().caption_settings),
})
