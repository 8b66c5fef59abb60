"""What a publish request may contain, checked before anything is stored."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BeforeValidator, Field, TypeAdapter, create_model, model_validator
from pydantic_core import core_schema

from shared.platforms.options import PlatformOptions
from shared.platforms.platform import Platform as PlatformDescriptor
from shared.platforms.registry import registry
from shared.responses import TargetState
from shared.strict import StrictModel, UserText

if TYPE_CHECKING:
    from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
    from pydantic.json_schema import JsonSchemaValue

MAX_SCHEDULE_AHEAD = timedelta(days=30)
PAST_GRACE = timedelta(minutes=1)


# Where a video can be published: a network, or an integration key (Blotato publishes to TikTok):
# every registered platform, in the registry's order.
PLATFORMS: tuple[str, ...] = tuple(registry().keys())
if TYPE_CHECKING:
    Platform = str
else:
    Platform = Literal[PLATFORMS]
STATES: tuple[str, ...] = TargetState.__args__  # type: ignore[attr-defined]
# IANA names are at most a few dozen characters; longer is a mistake (and an OS error to look up).
MAX_ZONE_LENGTH = 64


def _zone(name: str) -> str:
    shown = name if len(name) <= MAX_ZONE_LENGTH else name[:MAX_ZONE_LENGTH] + "…"
    problem = f"'{shown}' is not a time zone we know; use a name like 'Europe/Berlin'."
    if len(name) > MAX_ZONE_LENGTH or "\x00" in name:
        raise ValueError(problem)
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(problem) from None
    return name


TimeZone = Annotated[str, AfterValidator(_zone)]


def _iso_time(value: Any) -> Any:
    # pydantic would read a bare number as seconds since 1970: "to=0.5" must be a mistake, not 1970.
    if isinstance(value, datetime):
        return value
    problem = "use an ISO 8601 time such as 2026-12-01T09:00:00+01:00"
    if not isinstance(value, str) or value.strip().replace(".", "", 1).isdigit():
        raise ValueError(problem)
    try:
        return datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(problem) from None


IsoTime = Annotated[datetime, BeforeValidator(_iso_time)]
Hashtag = Annotated[UserText, Field(max_length=200)]


def _tags(value: list[str] | None) -> list[str] | None:
    if value is None:
        return None
    cleaned = [tag.strip().lstrip("#") for tag in value if tag.strip().lstrip("#")]
    for tag in cleaned:
        if any(ch.isspace() for ch in tag):
            raise ValueError(f"hashtag '#{tag}' has a space in it; hashtags are single words.")
    return cleaned


Hashtags = Annotated[list[Hashtag], Field(max_length=100), AfterValidator(_tags)]


def resolve_time(publish_at: datetime | None, timezone: str) -> datetime | None:
    """A wall-clock time in the user's zone (or an explicit offset) as an instant."""
    if publish_at is None:
        return None
    if publish_at.tzinfo is None:
        publish_at = publish_at.replace(tzinfo=ZoneInfo(timezone))
    return publish_at.astimezone(UTC)


def check_schedule(at: datetime | None, now: datetime) -> str | None:
    if at is None:
        return None
    if at < now - PAST_GRACE:
        return "The chosen time is in the past. Pick a time from now on, or publish now."
    if at > now + MAX_SCHEDULE_AHEAD:
        return "Posts can be scheduled at most 30 days ahead."
    return None


class _Target(StrictModel):
    connection_id: UUID | None = Field(default=None, description="Which connected account, when there are several")
    caption: UserText | None = Field(default=None, max_length=20000,
                                     description="Overrides the post caption for this platform")
    title: UserText | None = Field(default=None, max_length=1000, description="Title (YouTube)")
    hashtags: Hashtags | None = None
    publish_at: IsoTime | Literal["best"] | None = Field(
        default=None, description="When to publish; without an offset it is read in `timezone`. Empty: now. "
                                  "\"best\": the next slot your own results recommend that fits the budgets "
                                  "(GET /analytics/recommendations)."
    )
    timezone: TimeZone | None = None
    if TYPE_CHECKING:
        # Declared per platform by `_target_model`: the key and that platform's options.
        platform: str
        options: PlatformOptions


def _target_model(platform: PlatformDescriptor) -> type[_Target]:
    """The publish request's target for one registered platform: `platform` names it, `options` are its own."""
    options = platform.options
    # Options a post needs (TikTok's privacy choice and consent) make the options object required.
    required = bool(options.REQUIRED_TO_POST)
    field = (Field(description=options.OPTIONS_DESCRIPTION) if required
             else Field(default_factory=options, description=options.OPTIONS_DESCRIPTION))
    model: type[_Target] = create_model(
        options.TARGET_NAME or f"{platform.key.title()}Target", __base__=_Target, __module__=__name__,
        __doc__=options.TARGET_DESCRIPTION, platform=(Literal[platform.key], ...), options=(options, field))  # type: ignore[arg-type]
    return model


def _target_model_of(platform: PlatformDescriptor) -> type[_Target]:
    return registry().derived(("publish target model", platform), lambda: _target_model(platform))


def target_models() -> tuple[type[_Target], ...]:
    """One target model per platform registered now, in the registry's order."""
    return tuple(_target_model_of(platform) for platform in registry())


def _union_of_targets() -> TypeAdapter[Any]:
    union: Any = Annotated[Union[target_models()], Field(discriminator="platform")]  # noqa: UP007 - a runtime tuple
    return TypeAdapter(union)


def _targets_adapter() -> TypeAdapter[Any]:
    """The targets of every platform registered now, told apart by `platform` (built once per registry)."""
    return registry().derived(("publish targets", tuple(registry())), _union_of_targets)


def _validate_targets(value: Any, info: core_schema.ValidationInfo) -> Any:
    # A request body is read from JSON strictly (shared/http.py): a 0 is not a boolean there. The
    # union is validated in the same mode, as JSON, since the outer strictness does not reach it.
    if info.mode == "json":
        return _targets_adapter().validate_json(json.dumps(value), strict=True)
    return _targets_adapter().validate_python(value)


class _RegisteredTarget:
    """A target of any platform registered when a request is read, not when this module was imported.

    A platform registered later (a test's) is published through the same request models; validation
    errors keep their locations (`targets.0.options...`) and the schema is the discriminated union
    of the target models, as if written out here.
    """

    def models(self) -> tuple[type[_Target], ...]:
        """The target models a target may be now (shared/strict.py walks them for unknown fields)."""
        return target_models()

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.with_info_plain_validator_function(_validate_targets)

    def __get_pydantic_json_schema__(self, schema: core_schema.CoreSchema,
                                     handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        return handler(_targets_adapter().core_schema)


if TYPE_CHECKING:
    TargetRequest = _Target
else:
    TargetRequest = Annotated[_Target, _RegisteredTarget()]


class PublishRequest(StrictModel):
    video_id: UUID
    caption: UserText = Field(default="", max_length=20000)
    hashtags: Hashtags = Field(default_factory=list)
    campaign: UserText | None = Field(default=None, max_length=200)
    timezone: TimeZone = Field(default="UTC", description="The user's time zone, e.g. 'America/New_York'")
    publish_at: IsoTime | None = Field(default=None, description="Default time for every target; empty: now")
    targets: list[TargetRequest] = Field(min_length=1, max_length=10)
    wait: float = Field(default=0, ge=0, le=30, allow_inf_nan=False,
                        description="Seconds to wait for final results before answering")

    @model_validator(mode="after")
    def _distinct(self) -> PublishRequest:
        seen = set()
        for target in self.targets:
            key = (target.platform, target.connection_id)
            if key in seen:
                raise ValueError(f"{target.platform} is listed twice; each account gets the video once.")
            seen.add(key)
        return self


class BulkItem(StrictModel):
    video_id: UUID
    caption: UserText | None = Field(default=None, max_length=20000)
    hashtags: Hashtags | None = None


class BulkPublishRequest(StrictModel):
    items: list[BulkItem] = Field(min_length=1, max_length=500)
    caption: UserText = Field(default="", max_length=20000)
    hashtags: Hashtags = Field(default_factory=list)
    campaign: UserText | None = Field(default=None, max_length=200)
    timezone: TimeZone = "UTC"
    publish_at: IsoTime | None = None
    targets: list[TargetRequest] = Field(min_length=1, max_length=10)

    def request_for(self, item: BulkItem) -> PublishRequest:
        return PublishRequest(
            video_id=item.video_id,
            caption=item.caption if item.caption is not None else self.caption,
            hashtags=item.hashtags if item.hashtags is not None else self.hashtags,
            campaign=self.campaign,
            timezone=self.timezone,
            publish_at=self.publish_at,
            targets=self.targets,
        )


class TargetEdit(StrictModel):
    """Only the fields sent change; `options` replaces the platform options as a whole."""

    caption: UserText | None = Field(default=None, max_length=20000)
    title: UserText | None = Field(default=None, max_length=1000)
    hashtags: Hashtags | None = None
    options: dict[str, Any] | None = Field(
        default=None, description="The platform's options, as in the publish request (see GET /platforms)")
    publish_at: IsoTime | None = Field(default=None, description="Move a scheduled post to this time")
    publish_now: bool | None = Field(
        default=None, description="true: publish this scheduled post now (send publish_at to schedule it instead)")
    timezone: TimeZone | None = None

    @model_validator(mode="after")
    def _one_time(self) -> TargetEdit:
        if self.publish_now and self.publish_at is not None:
            raise ValueError("send either publish_now or publish_at, not both.")
        return self


class AddTargets(StrictModel):
    """Platforms to add to an existing post: its video, caption and hashtags, checked as a new post's."""

    targets: list[TargetRequest] = Field(min_length=1, max_length=10)
    timezone: TimeZone = Field(default="UTC", description="The user's time zone, e.g. 'America/New_York'")
    publish_at: IsoTime | None = Field(default=None, description="Default time for the new targets; empty: now")


class PostQuery(StrictModel):
    start: IsoTime | None = Field(default=None, alias="from")
    end: IsoTime | None = Field(default=None, alias="to")
    platform: Platform | None = Field(
        default=None, description="A network covers every integration that publishes there: tiktok is TikTok "
                                  "direct and through Blotato; blotato is Blotato only")
    account: UUID | None = Field(default=None, description="Only this connected account (connection id)")
    campaign: UserText | None = Field(default=None, max_length=200)
    state: TargetState | None = None
    limit: int = Field(default=100, ge=1, le=500)
    cursor: str | None = Field(default=None, max_length=200,
                               description="next_cursor of the previous page; the same filters must be sent")
