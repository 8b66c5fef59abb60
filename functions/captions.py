"""Caption suggestions.

POST /captions   {"video_id", "platforms": [...], "brief"?, "language"?, "tone"?, "campaign"?}
                 → per platform a caption (and a YouTube title), 3-5 hashtags and their counts
"""

from __future__ import annotations

from typing import Any

import flask

from shared.app import application
from shared.captions.models import CaptionRequest
from shared.captions.service import suggest
from shared.http import ApiError, User, json_body, user_endpoint


@user_endpoint
def captions(request: flask.Request, user: User) -> Any:
    if request.method != "POST" or request.path.strip("/") not in ("", "captions"):
        raise ApiError(404, "not_found", "There is nothing at this address.")
    app = application()
    return suggest(app.database, user, json_body(request, CaptionRequest), settings=app.caption_settings)
