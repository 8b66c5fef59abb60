"""Caption suggestions: the /captions route of shared/api/routes.py.

POST /captions   {"video_id", "platforms": [...], "brief"?, "language"?, "tone"?, "campaign"?}
                 → per platform a caption (and a YouTube title), 3-5 hashtags and their counts
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared.api.dispatch import dispatch
from shared.api.lazy import lazy_module
from shared.app import application

if TYPE_CHECKING:
    from shared.captions import models, service
else:
    # Cold start: imported by the first request that uses them.
    models = lazy_module("shared.captions.models")
    service = lazy_module("shared.captions.service")

captions = dispatch("captions", {
    "POST /captions": lambda call: service.suggest(application().database, call.user, call.body(models.CaptionRequest),
                                                   settings=application().caption_settings),
})
