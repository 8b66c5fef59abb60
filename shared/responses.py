"""Response bodies of the user-facing API: the one description of every answer.

shared/api/routes.py names, per route and status, the model its answer is. Each service
builds and returns exactly that model; the edge (shared/api/dispatch.py) refuses anything
else (a dict, another model, a subclass) as a 500, and the OpenAPI document is generated
from the same models, so the two cannot drift apart.
Every timestamp is a `Timestamp`: ISO 8601 with its offset, `format: date-time`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, RootModel, WithJsonSchema

from shared.video_context import VideoContext

TIMESTAMP = "ISO 8601 with offset, e.g. '2031-03-04T17:30:00Z'"


def _timestamp(value: object) -> datetime | str:
    """A datetime with its offset, or ISO 8601 text with one (kept as the service wrote it)."""
    parsed = datetime.fromisoformat(value) if isinstance(value, str) else value
    if not isinstance(parsed, datetime) or parsed.tzinfo is None:
        raise ValueError("a timestamp is ISO 8601 with its offset")
    return value  # type: ignore[return-value]


# Every timestamp of every answer: ISO 8601 with its offset (`format: date-time`); a datetime is
# written by pydantic ('2031-03-04T17:30:00Z'), text a service formatted itself goes out unchanged.
Timestamp = Annotated[datetime | str, PlainValidator(_timestamp),
                      WithJsonSchema({"type": "string", "format": "date-time"})]
TargetState = Literal["scheduled", "queued", "uploading", "processing", "publishing", "published", "failed",
                      "needs_reconnect", "deferred", "reconciling", "canceled"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")

    def __getitem__(self, name: str) -> Any:
        """A field by name: Python callers read an answer as they read the dicts services used to return."""
        if name not in type(self).model_fields:
            raise KeyError(name)
        return getattr(self, name)


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


class Problem(Strict):
    """One problem of a platform post; a refused publish (422/409) carries the same objects in `detail`."""

    field: str = Field(description="Where in the publish request, e.g. targets.0.caption")
    code: str
    message: str


class PreviewText(Strict):
    field: str = Field(description="caption, title or description: the platform's own field")
    text: str = Field(description="Exactly what the platform receives")
    length: int = Field(description="Counted the platform's way (unit)")
    unit: Literal["chars", "utf16", "bytes"]
    limit: int | None
    fits: bool
    feed_cutoff: int | None = Field(description="Characters shown in the feed before 'more' (None: not known)")
    feed_cutoff_source: str | None = Field(description="Where feed_cutoff comes from: a URL, or 'not documented: "
                                                       "<why>' when no source gives a number")
    visible_in_feed: str | None


class PreviewAccount(Strict):
    username: str | None
    display_name: str | None
    avatar_url: str | None


class PreviewMedia(Strict):
    verdict: Literal["fits", "will_convert", "refused", "unknown"]
    reasons: list[str]
    rendition_ready: bool


class PreviewCover(Strict):
    url: str | None = Field(description="Signed URL of the cover image: the uploaded cover, else the frame at "
                                        "offset_seconds as this platform will show it (JPEG)")
    offset_seconds: float | None = Field(description="The chosen cover frame time (null: an uploaded cover, none "
                                                     "chosen, or a platform that takes no cover)")


class PreviewSchedule(Strict):
    publish_now: bool
    at_utc: Timestamp
    at_local: Timestamp = Field(description="The same moment with the offset of the post's time zone")
    timezone: str
    fits_budget: bool
    earliest_fit_utc: Timestamp | None = Field(
        description="When it does not fit: the same time on the first later day that has room (null otherwise)")
    budgets: list[dict[str, Any]]


class PreviewTarget(Strict):
    platform: str
    network: str
    platform_name: str
    connection_id: str
    account: PreviewAccount
    texts: list[PreviewText]
    options: dict[str, Any] = Field(description="The options in effect, defaults filled in")
    creator_options: dict[str, Any] | None = Field(description="TikTok: the creator's current choices")
    media: PreviewMedia
    cover: PreviewCover
    schedule: PreviewSchedule
    problems: list[Problem]


class PublishPreview(Strict):
    """What publishing this body would send to each platform, and every problem; nothing is stored."""

    video_id: str
    publishable: bool
    problems: list[Problem]
    targets: list[PreviewTarget]


class TargetView(Strict):
    """One platform post of a post."""

    id: str
    post_id: str
    platform: str
    connection_id: str
    state: TargetState
    scheduled_at: Timestamp | None = Field(description=TIMESTAMP + "; null: publish now")
    timezone: str
    attempts: int
    next_attempt_at: Timestamp | None = Field(description=TIMESTAMP)
    platform_post_id: str | None
    platform_url: str | None = Field(description="The published post, once it is public")
    error_code: str | None
    error_class: Literal["transient", "auth", "quota", "permanent"] | None
    user_message: str | None = Field(description="Why it failed or waits, in plain language")
    published_at: Timestamp | None = Field(description=TIMESTAMP)
    caption: str | None
    title: str | None
    hashtags: list[str] | None
    options: dict[str, Any]
    created_at: Timestamp = Field(description=TIMESTAMP)
    updated_at: Timestamp = Field(description=TIMESTAMP)
    can_edit: bool
    can_cancel: bool
    can_retry: bool


class PostView(Strict):
    post_id: str
    video_id: str
    caption: str
    hashtags: list[str]
    campaign: str | None
    created_at: Timestamp = Field(description=TIMESTAMP)
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
    scheduled_at: Timestamp | None = Field(description=TIMESTAMP)
    timezone: str
    platform_url: str | None
    user_message: str | None
    published_at: Timestamp | None = Field(description=TIMESTAMP)
    created_at: Timestamp = Field(description=TIMESTAMP)
    caption: str
    campaign: str | None
    network: str = Field(description="tiktok for TikTok direct and through Blotato")
    text: str = Field(description="The text this platform receives (caption or description, with hashtags)")
    title: str | None
    account: CalendarAccount
    poster_url: str | None = Field(description="Signed URL of the video's poster frame (JPEG), short-lived")
    local_time: Timestamp = Field(description="The post's time with the offset of its time zone")


class CalendarAccount(Strict):
    connection_id: str | None
    username: str | None
    display_name: str | None
    avatar_url: str | None


class PostList(Strict):
    items: list[CalendarItem]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page")


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


class MediaLink(Strict):
    url: str = Field(description="Signed URL, valid until expires_at")
    size_bytes: int | None
    expires_at: Timestamp = Field(description=TIMESTAMP)


class RenditionLink(MediaLink):
    kind: str = Field(description="converted or converted:vertical")


class CoverLink(MediaLink):
    platform: str


class VideoMedia(Strict):
    video: MediaLink
    renditions: list[RenditionLink]
    covers: list[CoverLink] = Field(description="The fitted cover of each platform that has one")
    poster: MediaLink | None = Field(description="A JPEG frame for lists and calendars")


class VideoDeleted(Strict):
    video_id: str
    deleted: bool
    objects_removed: int


class VideoView(Strict):
    video_id: str
    media: VideoMedia = Field(description="Short-lived signed links to play and show the video")
    filename: str | None
    size_bytes: int | None
    storage_path: str | None
    created_at: Timestamp | None = Field(description=TIMESTAMP)
    probe: dict[str, Any] | None = Field(description="What the file is: container, codecs, size, duration, ...")
    verdicts: dict[str, Any] = Field(description="Per platform: publishable as is, after conversion, or not (why)")
    context: VideoContext = Field(description="What the video is about, as given when it was added (for captions)")
    removal_at: Timestamp | None = Field(default=None, description="When the library will remove the video as things "
                                   "stand (ISO 8601; unpublished videos age out, docs/media.md); null while a post "
                                   "that is not finished needs it, and in upload answers")


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


# ------------------------------------------------------------------------------ captions


class TextCount(Strict):
    field: Literal["caption", "title"]
    length: int = Field(description="Length as the platform counts it (in `unit`)")
    max_length: int
    unit: Literal["chars", "utf16", "bytes"] = Field(description="chars, UTF-16 code units (TikTok) or bytes")
    fits: bool


class PlatformSuggestion(Strict):
    platform: str
    display_name: str
    caption: str = Field(description="The caption (YouTube: the description), without the hashtags")
    title: str | None = Field(description="YouTube's title; null for other platforms")
    hashtags: list[str] = Field(description="3 to 5 single-word hashtags, without '#'")
    text: str = Field(description="The caption as it would be posted: caption, then hashtags")
    counts: list[TextCount]
    notes: list[str] = Field(description="What was changed or preferred, e.g. '#latteart did well for you on ...'")


class CaptionSuggestions(Strict):
    video_id: str
    source: Literal["gemini", "local"] = Field(description="Which writer answered")
    language: str
    tone: str
    notes: list[str] = Field(description="E.g. why the local writer answered instead of Gemini")
    suggestions: list[PlatformSuggestion]
    daily_limit: int
    used_today: int


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
    published_at: Timestamp | None = Field(description=TIMESTAMP)
    fetched_at: Timestamp | None = Field(description=TIMESTAMP + "; null: no numbers yet")


class MetricPoint(Strict):
    """One snapshot: the post's counts as the platform reported them at `fetched_at` (they only grow)."""

    fetched_at: Timestamp = Field(description=TIMESTAMP)
    views: int | None
    likes: int | None
    comments: int | None
    shares: int | None
    saves: int | None
    watch_time_seconds: float | None


class MetricsAtAge(Strict):
    """Counts at a fixed age after publishing, interpolated between the snapshots around it."""

    views: float | None
    likes: float | None
    comments: float | None
    shares: float | None
    saves: float | None
    watch_time_seconds: float | None


class PostPlatformMetrics(PlatformMetrics):
    series: list[MetricPoint] = Field(description="Every snapshot, oldest first: what a chart draws")
    at_age: dict[Literal["24h", "72h", "7d"], MetricsAtAge | None] = Field(
        description="Numbers 24 hours, 72 hours and 7 days after publishing; null: not that old yet")
    no_numbers_reason: str | None = Field(
        description="Why this platform post will have no numbers (Blotato, private TikTok posts); null otherwise")


class PostMetricsView(Strict):
    post_id: str
    caption: str
    campaign: str | None
    message: str = Field(description="One line for the user, e.g. 'Numbers from 3 of 4 platforms.'")
    platforms: list[PostPlatformMetrics]
    totals: MetricTotals


class AnalyticsItem(PlatformMetrics):
    post_id: str
    caption: str
    campaign: str | None


class PlatformTotals(MetricTotals):
    posts: int


class DailyGain(Strict):
    day: str = Field(description="Calendar day in UTC, YYYY-MM-DD")
    views: int | None = Field(description="Views the filtered posts gained that day")
    likes: int | None
    comments: int | None
    shares: int | None


class AnalyticsOverview(Strict):
    items: list[AnalyticsItem]
    totals: MetricTotals
    by_platform: dict[str, PlatformTotals]
    series: list[DailyGain] = Field(description="What the filtered posts gained per day, for charts")


class Evidence(Strict):
    test: str = Field(description="mann-whitney-u, kruskal-wallis or chi-square-2x2")
    posts: int = Field(description="Posts (or, for rates, views) behind the verdict")
    p_value: float
    effect: float | None = Field(default=None, description="Rank-biserial correlation, or relative lift for rates")
    significant: bool | None = None


class Verdict(Strict):
    """A recommendation, or why it is withheld."""

    status: Literal["recommended", "withheld"]
    reason: str | None = Field(default=None, description="Why it is withheld, in plain language")
    value: int | str | None = Field(default=None, description="The recommended choice: an hour (window start), a "
                                                             "weekday number (Monday 0), a bucket or a platform")
    label: str | None = None
    median: float | None = None
    median_rest: float | None = None
    evidence: Evidence | None = None


class HashtagLift(Strict):
    hashtag: str
    posts: int
    median_engagement_rate: float
    lift: float | None


class HashtagVerdict(Strict):
    status: Literal["recommended", "withheld"]
    reason: str | None = None
    median_engagement_rate: float | None = None
    items: list[HashtagLift] = Field(default_factory=list)


class Recommendations(Strict):
    posts: int
    best_hour: Verdict = Field(description="3-hour window with the most views at 72 h, in the requested zone")
    best_weekday: Verdict
    caption_length: Verdict
    hashtag_count: Verdict
    hashtags: HashtagVerdict


class AccountRecommendations(Recommendations):
    platform: str
    connection_id: str
    account: str | None


class RecommendationsView(Strict):
    compared_at_age: str
    timezone: str
    posts: int
    best_platform: Verdict
    platforms: dict[str, Recommendations]
    accounts: list[AccountRecommendations]


class ComparedPlatform(Strict):
    platform: str
    posts: int | None = None
    views: int
    median_views: int | None = None
    engagements: int
    shares: int | None = None
    engagement_rate: float | None
    at_age: str | None = None


class ComparisonView(Strict):
    post_id: str | None = None
    compared_at_age: str
    platforms: list[ComparedPlatform]
    best_platform: Verdict


class ExperimentVariant(Strict):
    variant_id: str
    label: str
    post_id: str
    caption: str
    hashtags: list[str]
    title: str | None
    cover_offset_seconds: float | None = Field(default=None, description="The variant's cover frame, if it set one")
    targets: int
    published: int
    measured: int = Field(description="Targets read at the experiment's age")
    views: int
    engagements: int
    engagement_rate: float | None
    complete: bool


ExperimentStatus = Literal["running", "decided", "no_winner"]
ExperimentMetric = Literal["engagement_rate", "views"]


class ExperimentRule(Strict):
    metric: ExperimentMetric
    age: Literal["24h", "72h", "7d"]
    min_views_per_variant: int
    alpha: float
    decide_by: Timestamp = Field(description=TIMESTAMP)


class ExperimentView(Strict):
    experiment_id: str
    name: str
    design: Literal["split_accounts", "same_account_times"]
    status: ExperimentStatus
    message: str
    rule: ExperimentRule
    auto_apply: bool
    result: dict[str, Any] | None = Field(description="The verdict with each comparison's test, once taken")
    decided_at: Timestamp | None
    variants: list[ExperimentVariant]


class ExperimentSummary(Strict):
    experiment_id: str
    name: str
    status: ExperimentStatus
    metric: ExperimentMetric
    created_at: Timestamp
    decided_at: Timestamp | None


class ExperimentList(Strict):
    items: list[ExperimentSummary]


class PublishingDefault(Strict):
    platform: str
    traits: dict[str, Any] = Field(description="What the winning variant did: caption length, hashtags, emoji, ...")
    enabled: bool
    source_experiment_id: str | None
    updated_at: Timestamp


class PublishingDefaults(Strict):
    items: list[PublishingDefault]


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
    access_token_expires_at: Timestamp | None = Field(description=TIMESTAMP)
    refresh_token_expires_at: Timestamp | None = Field(description=TIMESTAMP)
    status: Literal["connected", "expired", "error", "disconnected"]
    status_reason: str | None
    last_refreshed_at: Timestamp | None = Field(description=TIMESTAMP)
    created_at: Timestamp = Field(description=TIMESTAMP)
    updated_at: Timestamp = Field(description=TIMESTAMP)
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


class ExportedUser(Strict):
    id: str
    email: str | None


Rows = list[dict[str, Any]]


class DataExport(Strict):
    """A user's data export; timestamps in ISO 8601, one list of rows per kind of record."""

    format_version: int
    exported_at: Timestamp = Field(description=TIMESTAMP)
    user: ExportedUser
    videos: Rows
    video_renditions: Rows = Field(description="Converted copies and covers")
    connections: Rows = Field(description="Connected accounts, without tokens")
    batches: Rows
    posts: Rows
    targets: Rows = Field(description="One row per platform post")
    events: Rows = Field(description="Every state change of a platform post")
    analytics: Rows = Field(description="Daily metric snapshots")
    quota_usage: Rows
    notifications: Rows = Field(description="Emails sent to the user")


class Health(Strict):
    ok: bool
    database: str


# ------------------------------------------------------------------------------ webhooks and notifications

NotificationLevel = Literal["all", "failures", "none"]


class WebhookEndpoint(Strict):
    id: str
    url: str
    description: str | None
    events: list[str]
    status: Literal["active", "disabled"]
    disabled_reason: str | None = Field(description="Why it was turned off, in plain language")
    failing_since: Timestamp | None = Field(description=TIMESTAMP + "; first failed attempt since the last success")
    last_success_at: Timestamp | None = Field(description=TIMESTAMP)
    created_at: Timestamp = Field(description=TIMESTAMP)
    updated_at: Timestamp = Field(description=TIMESTAMP)


class WebhookCreated(WebhookEndpoint):
    secret: str = Field(description="The signing secret (whsec_...). Shown only in this answer: store it now")


class WebhookDeleted(WebhookEndpoint):
    deleted: bool


class WebhookList(Strict):
    webhooks: list[WebhookEndpoint]


class WebhookAttempt(Strict):
    id: int
    delivery_id: str
    event_id: str | None = Field(description="The webhook-id header; null for test events")
    event_type: str
    delivery_status: Literal["pending", "succeeded", "failed", "canceled"]
    attempt: int = Field(description="1 for the first attempt of this delivery, up to 8")
    succeeded: bool
    response_status: int | None = Field(description="The endpoint's HTTP status; null when it never answered")
    latency_ms: int
    error: str | None
    attempted_at: Timestamp = Field(description=TIMESTAMP)
    next_attempt_at: Timestamp | None = Field(description=TIMESTAMP + "; when the delivery is tried again")


class WebhookAttempts(Strict):
    deliveries: list[WebhookAttempt]


class WebhookTestResult(Strict):
    delivery_id: str
    outcome: Literal["succeeded", "failed", "stale", "canceled"]
    succeeded: bool | None = None
    response_status: int | None = None
    latency_ms: int | None = None
    error: str | None = None


class NotificationLevels(Strict):
    publishing: NotificationLevel
    connections: NotificationLevel
    webhooks: NotificationLevel


class NotificationPreferences(Strict):
    preferences: NotificationLevels
    levels: list[NotificationLevel]


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
    scope: Literal["project", "account", "user"] = Field(
        description="project: our whole app; account: this account; user: your share of a project budget")
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
