"""Response bodies of the user-facing API, as the services return them today.

The services build plain dicts; these models describe those dicts exactly (extra keys
are refused), so tests/test_openapi.py notices when a service's answer changes shape.
Timestamps that services pass through as Python datetimes reach the client in Flask's
HTTP-date form ("Tue, 04 Mar 2031 17:30:00 GMT"); the ones they format themselves are
ISO 8601. Both are documented as strings.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel

HTTP_DATE = "Timestamp as an HTTP-date, e.g. 'Tue, 04 Mar 2031 17:30:00 GMT'"
ISO_DATE = "Timestamp in ISO 8601 with offset"
TargetState = Literal["scheduled", "queued", "uploading", "processing", "publishing", "published", "failed",
                      "needs_reconnect", "deferred", "reconciling", "canceled"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorBody(Strict):
    """Every error, from every route."""

    code: str = Field(description="Stable machine-readable reason, e.g. 'post_not_found'")
    message: str = Field(description="What happened and what to do, in plain language; show it to the user")
    detail: Any = Field(default=None, description="For developers: field problems, limits, ids; never secrets")
    request_id: str | None = Field(default=None, description="Quote this when asking for help")


# ------------------------------------------------------------------------------ publishing


class TargetCreated(Strict):
    target_id: str
    platform: str
    state: TargetState


class PublishAccepted(Strict):
    """The post was stored; targets due now are queued."""

    post_id: str
    targets: list[TargetCreated]


class TargetView(Strict):
    """One platform post of a post."""

    id: str
    post_id: str
    platform: str
    connection_id: str
    state: TargetState
    scheduled_at: str | None = Field(description=HTTP_DATE + "; null: publish now")
    timezone: str
    attempts: int
    next_attempt_at: str | None = Field(description=HTTP_DATE)
    platform_post_id: str | None
    platform_url: str | None = Field(description="The published post, once it is public")
    error_code: str | None
    error_class: Literal["transient", "auth", "quota", "permanent"] | None
    user_message: str | None = Field(description="Why it failed or waits, in plain language")
    published_at: str | None = Field(description=HTTP_DATE)
    caption: str | None
    title: str | None
    hashtags: list[str] | None
    options: dict[str, Any]
    created_at: str = Field(description=HTTP_DATE)
    updated_at: str = Field(description=HTTP_DATE)
    can_edit: bool
    can_cancel: bool
    can_retry: bool


class PostView(Strict):
    post_id: str
    video_id: str
    caption: str
    hashtags: list[str]
    campaign: str | None
    created_at: str = Field(description=ISO_DATE)
    summary: str = Field(description="One line for the user, e.g. 'Published to 3 of 4 platforms, 1 failed.'")
    done: bool = Field(description="True when no target will change without the user (published, failed, ...)")
    targets: list[TargetView]


class PublishResult(RootModel[PostView | PublishAccepted]):
    """200: the final post (with `wait`) or the first answer to a repeated Idempotency-Key."""


class CalendarItem(Strict):
    id: str
    post_id: str
    video_id: str
    platform: str
    state: TargetState
    scheduled_at: str | None = Field(description=HTTP_DATE)
    timezone: str
    platform_url: str | None
    user_message: str | None
    published_at: str | None = Field(description=HTTP_DATE)
    created_at: str = Field(description=HTTP_DATE)
    caption: str
    campaign: str | None


class PostList(Strict):
    items: list[CalendarItem]


class BatchAccepted(Strict):
    """A large batch is expanded in the background; follow it at /publish-video/batches/{batch_id}."""

    batch_id: str
    total: int
    status: Literal["accepted"]


class TargetCounts(Strict):
    done: int
    failed: int
    pending: int
    by_state: dict[str, int]


class RejectedVideo(Strict):
    index: int
    video_id: str
    message: str


class BatchProgress(Strict):
    batch_id: str
    status: str
    videos: int
    posts: list[str]
    targets: TargetCounts
    rejected_videos: list[RejectedVideo]
    summary: str


# ------------------------------------------------------------------------------ videos


class VideoView(Strict):
    video_id: str
    filename: str | None
    size_bytes: int | None
    storage_path: str | None
    created_at: str | None = Field(description=ISO_DATE)
    probe: dict[str, Any] | None = Field(description="What the file is: container, codecs, size, duration, ...")
    verdicts: dict[str, Any] = Field(description="Per platform: publishable as is, after conversion, or not (why)")


class Rendition(Strict):
    kind: str
    content_type: str | None
    size_bytes: int | None


class VideoDetail(VideoView):
    renditions: list[Rendition]


class VideoList(Strict):
    videos: list[VideoView]


class ConvertResult(Strict):
    video_id: str
    kind: str
    probe: dict[str, Any] | None


class CoverResult(Strict):
    video_id: str
    covers: list[str] = Field(description="Platforms that now have a cover")


# ------------------------------------------------------------------------------ analytics


class MetricTotals(Strict):
    """Counts summed over platforms; null when no platform reported that count."""

    views: int | None
    likes: int | None
    comments: int | None
    shares: int | None
    saves: int | None
    watch_time_seconds: float | None = Field(description="Total time watched, where the platform reports it")
    engagement_rate: float | None = Field(description="(likes + comments + shares) / views; null without views")


class PlatformMetrics(MetricTotals):
    """The latest numbers of one platform post (a daily snapshot)."""

    target_id: str
    platform: str
    platform_url: str | None
    published_at: str | None = Field(description=ISO_DATE)
    fetched_at: str | None = Field(description=ISO_DATE + "; null: no numbers yet")


class PostMetricsView(Strict):
    post_id: str
    caption: str
    campaign: str | None
    message: str = Field(description="One line for the user, e.g. 'Numbers from 3 of 4 platforms.'")
    platforms: list[PlatformMetrics]
    totals: MetricTotals


class AnalyticsItem(PlatformMetrics):
    post_id: str
    caption: str
    campaign: str | None


class PlatformTotals(MetricTotals):
    posts: int


class AnalyticsOverview(Strict):
    items: list[AnalyticsItem]
    totals: MetricTotals
    by_platform: dict[str, PlatformTotals]


# ------------------------------------------------------------------------------ connections


class Connection(Strict):
    id: str
    user_id: str
    platform: str
    display_platform: str
    platform_account_id: str
    username: str | None
    display_name: str | None
    avatar_url: str | None
    account_type: str | None
    follower_count: int | None
    account_info: dict[str, Any]
    scopes: list[str]
    access_token_expires_at: str | None = Field(description=ISO_DATE)
    refresh_token_expires_at: str | None = Field(description=ISO_DATE)
    status: Literal["connected", "expired", "error", "disconnected"]
    status_reason: str | None
    last_refreshed_at: str | None = Field(description=ISO_DATE)
    created_at: str = Field(description=ISO_DATE)
    updated_at: str = Field(description=ISO_DATE)
    reconnect_url: str = Field(description="Not a page to open: POST to it with the user's bearer token; the "
                                           "answer's authorization_url is where the browser goes to reconnect")
    user_message: str | None


class ConnectionList(Strict):
    connections: list[Connection]


class BlotatoAccount(Strict):
    id: str
    username: str | None
    name: str | None


class BlotatoAccounts(Strict):
    accounts: list[BlotatoAccount]


class Connected(Strict):
    platform: str
    connection_ids: list[str]
    resumed_target_ids: list[str] = Field(description="Posts that were waiting for this reconnect and now go on")


class OAuthCompleted(Connected):
    reconnected_ids: list[str]


class AuthorizationStart(Strict):
    platform: str
    authorization_url: str = Field(description="Send the browser here")


class Health(Strict):
    ok: bool
    database: str


# ------------------------------------------------------------------------------ platform catalog


class TextLimit(Strict):
    max_length: int
    unit: Literal["chars", "utf16", "bytes"]
    counted_as: str = Field(description="How the platform counts, in words")
    max_hashtags: int | None
    max_mentions: int | None
    forbidden_chars: list[str]
    required: bool


class TextLimits(Strict):
    caption: TextLimit
    title: TextLimit | None
    tags_total_chars: int | None


class HowToConnect(Strict):
    method: Literal["oauth", "api_key"]
    start: str = Field(description="The call that starts connecting")
    note: str


class Budget(Strict):
    name: str
    limit: int
    window: str
    scope: Literal["project", "account"]
    used_or_planned: int
    left: int


class ConsentText(Strict):
    default: str
    branded_content: str


class CreatorInfo(Strict):
    """TikTok's current settings for this creator (creator_info), read live and cached for a minute."""

    privacy_level_options: list[str] = Field(default_factory=list,
                                             description="The only privacy_level values this account can post with")
    max_video_post_duration_sec: int | None = None
    comment_disabled: bool | None = None
    duet_disabled: bool | None = None
    stitch_disabled: bool | None = None
    creator_nickname: str | None = None
    creator_username: str | None = None
    creator_avatar_url: str | None = None
    live: bool = Field(description="false: TikTok could not be reached; these are the values from connect time")
    consent_text: ConsentText = Field(description="Show this before posting; the user's agreement is `consent`")


class CatalogAccount(Strict):
    connection_id: str
    username: str | None
    display_name: str | None
    status: str
    budgets: list[Budget] = Field(description="Daily budgets of the platform left for this account")
    creator_info: CreatorInfo | None = None


class PlatformEntry(Strict):
    key: str = Field(description="The `platform` of a publish target")
    network: str = Field(description="Where the video appears (blotato publishes to tiktok)")
    display_name: str
    connects: HowToConnect
    connections: list[CatalogAccount]
    text: TextLimits
    media: dict[str, Any] = Field(description="Duration, size, aspect (width/height), resolution, codecs, frame rate")
    cover: dict[str, Any] | None
    options: dict[str, Any] = Field(description="The options model as JSON Schema: names, allowed values, defaults")


class PlatformCatalog(Strict):
    """Every platform and integration: limits, media rules, options and the user's accounts."""

    platforms: list[PlatformEntry]
