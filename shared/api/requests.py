"""Request models of the routes whose use case takes no model of its own (videos, connections, OAuth).

The other request models live next to their services (shared/publishing/requests.py,
shared/analytics/..., shared/webhooks/endpoints.py); shared/api/routes.py names them all.
"""

from __future__ import annotations

from pydantic import Field

from shared.errors import InvalidInput
from shared.strict import StrictModel, UserText
from shared.video_context import VideoContext

# ------------------------------------------------------------------------------ videos


class RegisterBody(StrictModel):
    path: UserText = Field(min_length=1, max_length=1024)
    filename: UserText | None = Field(default=None, max_length=255)
    context: VideoContext | None = Field(default=None, description="What the video is about (for captions)")


class ImportBody(StrictModel):
    url: UserText = Field(min_length=8, max_length=4096)
    context: VideoContext | None = Field(default=None, description="What the video is about (for captions)")


class ConvertBody(StrictModel):
    crop_to_vertical: bool = False


class CoverFromFrame(StrictModel):
    offset_seconds: float = Field(default=0.0, ge=0, le=24 * 3600, allow_inf_nan=False,
                                  description="Seconds into the video; must be within the video")


class CoverQuery(StrictModel):
    platforms: UserText | None = Field(default=None, max_length=200, pattern=r"^[a-z,]*$",
                                       description="Comma-separated platforms to make covers for; empty: all")

    def platform_list(self) -> list[str] | None:
        # Imported here (cold start): the publish request models build one model per platform, which the
        # connections and OAuth functions (they use this module's other models) never need.
        from shared.publishing.requests import PLATFORMS as known

        chosen = [p for p in (self.platforms or "").split(",") if p]
        unknown = [p for p in chosen if p not in known]
        if unknown:
            raise InvalidInput(f"Please check your request: platforms: unknown platform {unknown[0]!r}; use "
                               f"{', '.join(known)}",
                               detail=[{"field": "platforms", "problem": f"unknown platform {unknown[0]!r}"}])
        return chosen or None


# ------------------------------------------------------------------------------ connections

# A Blotato key travels in an HTTP header: printable ASCII without spaces, or it is not a key.
_KEY_PATTERN = r"^[!-~]*$"


class BlotatoKey(StrictModel):
    api_key: UserText | None = Field(default=None, max_length=500, pattern=_KEY_PATTERN,
                                     description="The key from Blotato > Settings > API")


class BlotatoConnect(BlotatoKey):
    account_id: UserText | None = Field(default=None, max_length=200, pattern=_KEY_PATTERN)


class StartRequest(StrictModel):
    return_path: UserText | None = Field(default=None, max_length=500, pattern=r"^/",
                                         description="Where in the frontend to return to, e.g. /connections")


class CompleteRequest(StrictModel):
    platform: UserText = Field(min_length=1, max_length=40)
    code: UserText | None = Field(default=None, max_length=2000)
    state: UserText | None = Field(default=None, max_length=500)
    error: UserText | None = Field(default=None, max_length=200)
