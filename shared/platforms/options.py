"""Each platform's publish options as a typed model, declared next to its adapter.

`shared/platforms/<key>/options.py` defines `Options` (a `PlatformOptions`), named by
the platform's descriptor: which options exist, their allowed values and defaults.
The publish request, the edit, the OpenAPI document and the platform catalog (GET /platforms) all read these
declarations, so an option is checked when the post is created or edited, never
first when the step runs (for a scheduled post, up to 30 days later).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, ClassVar

from pydantic import Field

from shared.strict import StrictModel

# A moment in the video (seconds), for the cover frame: finite, never negative.
CoverOffset = Annotated[float, Field(ge=0, le=24 * 3600, allow_inf_nan=False,
                                     description="Seconds into the video for the cover frame")]


class PlatformOptions(StrictModel):
    """Options shared by every platform model."""

    # Options the catalog marks as needed to post though the schema lets them be empty.
    REQUIRED_TO_POST: ClassVar[tuple[str, ...]] = ()
    # How the publish request (shared/publishing/requests.py) names and describes this platform's
    # target: its model's name (default: "<Key>Target"), the model's description, and the
    # description of its `options` field.
    TARGET_NAME: ClassVar[str | None] = None
    TARGET_DESCRIPTION: ClassVar[str | None] = None
    OPTIONS_DESCRIPTION: ClassVar[str | None] = None

    def cover_offset(self) -> float | None:
        """Where the cover frame is, in seconds, when the options choose one."""
        return getattr(self, "cover_offset_seconds", None)

    def problems(self, context: Mapping[str, Any]) -> list[str]:
        """Problems only visible with the account's live settings (`context`); empty when fine."""
        return []


def stored(options: PlatformOptions) -> dict[str, Any]:
    """What is stored with the target: the options the user set, with the declared defaults filled in."""
    return options.model_dump(mode="json", exclude_none=True)
