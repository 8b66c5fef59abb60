"""One interface for every platform's publisher.

A platform's publisher is a subclass of `PlatformAdapter` in its own package under
`shared/platforms/`, named by the package's `Platform` descriptor (platform.py). It
declares its limits and quotas as data, and publishes in resumable steps: the
pipeline runs one step per task delivery and persists the step data between them,
so a crash never loses where a publish got to.

Each step is either irreversible (creates something on the platform and must
never be blindly repeated) or read-only (retried freely). For every
irreversible step, `reconcile` answers, read-only, whether it already took
effect, so the pipeline can recover from a timeout or crash without posting twice.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar, Generic, Literal, Protocol, TypeVar

import httpx

from shared.config import environment_of, load
from shared.platforms.errors import PermanentError

# ---------------------------------------------------------------------------- limits


@dataclass(frozen=True)
class TextRule:
    """How long a caption, title or description may be, and how the platform counts."""

    max_length: int
    unit: Literal["chars", "utf16", "bytes"] = "chars"
    max_hashtags: int | None = None
    max_mentions: int | None = None
    forbidden_chars: str = ""
    required: bool = False


@dataclass(frozen=True)
class CoverSpec:
    width: int
    height: int
    max_bytes: int
    formats: tuple[str, ...] = ("image/jpeg", "image/png")


@dataclass(frozen=True)
class MediaRules:
    """What a video must be for the platform to accept it."""

    min_duration_s: float
    max_duration_s: float
    max_size_bytes: int
    # Width / height. Vertical 9:16 is 0.5625; square is 1.0.
    min_aspect: float
    max_aspect: float
    min_width: int = 0
    min_height: int = 0
    max_width: int | None = None
    max_height: int | None = None
    containers: tuple[str, ...] = ("mp4", "mov")
    video_codecs: tuple[str, ...] = ("h264", "hevc")
    audio_codecs: tuple[str, ...] = ("aac",)
    min_fps: float = 23.0
    max_fps: float = 60.0
    max_bitrate_bps: int | None = None
    requires_faststart: bool = False


@dataclass(frozen=True)
class QuotaRule:
    """A budget the platform enforces; the pipeline counts usage before calling.

    scope: "project" (our whole app), "account" (one connected account/page/channel),
           "user" (one shortpub user's share of a project budget).
    window: "rolling_24h", "daily_pacific" (resets at midnight America/Los_Angeles),
            "per_minute".
    steps: for a per-minute rate, the steps that make the call it limits: every run of one
           of them spends a unit (daily budgets spend one unit per target instead).
    reconcile_steps: for a per-minute rate, the steps whose reconcile (asking whether the
           step took effect) makes the call it limits (TikTok reads status/fetch then).
    """

    name: str
    limit: int
    scope: Literal["project", "account", "user"]
    window: Literal["rolling_24h", "daily_pacific", "per_minute"]
    user_message: str
    steps: tuple[str, ...] = ()
    reconcile_steps: tuple[str, ...] = ()


@dataclass(frozen=True)
class PlatformLimits:
    caption: TextRule
    media: MediaRules
    title: TextRule | None = None
    tags_total_chars: int | None = None
    cover: CoverSpec | None = None


# ------------------------------------------------------------------------- publishing


class MediaSource(Protocol):
    """A stored video the adapter can hand over by URL (pull) or stream (push)."""

    url: str            # signed URL the platform may fetch; never logged in full
    size: int
    content_type: str
    filename: str

    def read_chunks(self, start: int = 0, chunk_size: int = 8 * 1024 * 1024) -> Iterator[bytes]: ...


@dataclass(frozen=True)
class Credentials:
    access_token: str
    account_id: str                       # platform account / page / channel id
    account_info: Mapping[str, Any] = field(default_factory=dict)
    username: str | None = None


_HASHTAG = re.compile(r"(?<![\w#])#(\w+)", re.UNICODE)


def caption_with_hashtags(caption: str, hashtags: Iterable[str]) -> str:
    """The caption as posted: the text, then the hashtags it does not already contain."""
    present = {tag.lower() for tag in _HASHTAG.findall(caption)}
    extra = [f"#{tag.lstrip('#')}" for tag in hashtags if tag.lstrip("#").lower() not in present]
    return " ".join(part for part in (caption.strip(), " ".join(extra)) if part)


@dataclass(frozen=True)
class PublishJob:
    """Everything a platform needs to publish one target."""

    target_id: str                        # also our marker to find the post again
    credentials: Credentials
    video: MediaSource
    caption: str = ""
    title: str | None = None
    hashtags: tuple[str, ...] = ()
    options: Mapping[str, Any] = field(default_factory=dict)
    cover: MediaSource | None = None
    # Set while a scheduled target is staged ahead of its slot: the time it must go live.
    # Platforms that schedule themselves get it (YouTube's publishAt, Facebook's
    # scheduled_publish_time, Blotato's scheduledTime); the others wait for `slot_step`.
    slot: datetime | None = None
    # While reconciling: when the irreversible call whose outcome is unknown was sent (the wall
    # clock, to compare with the platform's own timestamps when looking for the post).
    call_sent_at: datetime | None = None
    # The pipeline's clock when the step started (the worker's injected clock; a test's clock when a
    # test drives an adapter): the time for an adapter's decisions (how long it waited, when a
    # confirmation window ends, how far ahead `slot` is, the 24-hour window of a quota) and for its
    # error classifiers (when a refused call may be tried again). HTTP timeouts and the sleeps
    # between retries of one call stay on real time on purpose: they measure the network, not a
    # decision about the post.
    now: datetime = field(kw_only=True)

    @property
    def full_caption(self) -> str:
        """Caption plus hashtags, for platforms that read hashtags from the caption text."""
        return caption_with_hashtags(self.caption, self.hashtags)


@dataclass(frozen=True)
class Step:
    name: str
    irreversible: bool
    # The target state shown to users while this step runs.
    phase: Literal["uploading", "processing", "publishing"]
    # Read-only and run after the irreversible call went through, while the platform decides
    # (processing, moderation): the video may go live. Reads that keep failing here are not
    # a failure of the post; the pipeline keeps asking, as for an unknown outcome.
    may_be_live: bool = False


@dataclass
class StepOutcome:
    """What a step did. `next_step=None` with `published` set means done.

    `published` set together with a `next_step` means: the platform confirmed the video
    is live, but its id or link is still to be read. The target is shown published at
    once and `next_step` (read-only) fills in the link later; its failures never undo it.
    """

    next_step: str | None
    data: dict[str, Any] = field(default_factory=dict)   # merged into the target's step data
    wait_seconds: float = 0.0                            # delay before the next step runs
    published: PublishedPost | None = None


@dataclass(frozen=True)
class PublishedPost:
    # None only while a live post's id is still being looked up (see StepOutcome).
    platform_post_id: str | None
    url: str | None


@dataclass(frozen=True)
class PostMetrics:
    views: int | None = None
    likes: int | None = None
    comments: int | None = None
    shares: int | None = None
    saves: int | None = None
    watch_time_seconds: float | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)


D = TypeVar("D")


class SettingsDerived(Generic[D]):
    """A class attribute derived from the platform's settings, read when first asked for, never at import.

    `limits = SettingsDerived(limits_from)` on an adapter: `Adapter.limits` is `limits_from(settings)`
    with the adapter's `settings_class` read from the environment. The value depends on nothing
    but the variables that class reads, so it is remembered per set of their values: asking again
    costs a scan of the environment (`environment_of`, tens of microseconds) instead of reading the
    settings (~1.5 ms), and a changed variable is seen at once. Nothing here needs resetting, and no
    module below the composition root has to reach for the process's application.
    """

    _REMEMBERED = 16  # distinct environments kept per attribute (a test run sets a handful)

    def __init__(self, build: Callable[[Any], D]) -> None:
        self.build = build
        self._by_environment: dict[tuple[Any, ...], D] = {}

    def __get__(self, instance: object, owner: type[PlatformAdapter]) -> D:
        settings_class = owner.settings_class
        if settings_class is None:
            raise TypeError(f"{owner.__name__} derives from settings but names no settings_class")
        key = (settings_class, environment_of(settings_class))
        try:
            return self._by_environment[key]
        except KeyError:
            pass
        value = self.build(load(settings_class))
        if len(self._by_environment) >= self._REMEMBERED:
            self._by_environment.clear()
        self._by_environment[key] = value
        return value


class PlatformAdapter(ABC):
    """Subclass once per platform. Class attributes are the platform's data."""

    key: ClassVar[str]                  # "youtube", "tiktok", "blotato", "instagram", "facebook"
    network: ClassVar[str]              # where the video appears: blotato publishes to "tiktok"
    display_name: ClassVar[str]         # for users: "YouTube Shorts"
    limits: ClassVar[PlatformLimits]
    quotas: ClassVar[tuple[QuotaRule, ...]] = ()
    steps: ClassVar[Mapping[str, Step]]
    first_step: ClassVar[str]

    # Staging ahead of a scheduled slot (see shared/publishing/staging.py). `slot_step` is the
    # step that must not run before the slot (the going-live step, or the read-only check that
    # the platform published on its own); every step before it runs `stage_lead()` ahead.
    # None: the platform is not staged, its first step starts at the slot.
    slot_step: ClassVar[str | None] = None
    # The step that removes a staged object from the platform after a cancel (None: nothing to remove).
    unstage_step: ClassVar[str | None] = None
    # The step that updates a staged object in place after the user edits its time or text (YouTube:
    # videos.update). None: an edit of a staged target removes the object (`unstage_step`) and
    # stages it again from `first_step`.
    restage_step: ClassVar[str | None] = None
    # Scopes of which a connection needs one to undo a staged object (delete or update it). A connection
    # granted none of them is not staged: its first step starts at the slot. Empty: every connection stages.
    undo_scopes: ClassVar[tuple[str, ...]] = ()

    # The pydantic-settings class the adapter reads (base URLs, credentials, limits) when none is given.
    settings_class: ClassVar[type[Any] | None] = None

    @classmethod
    def sent_text(cls, job: PublishJob) -> dict[str, str]:
        """The text fields this platform receives for `job`, built as the publish steps build them.

        A preview shows exactly these; platforms that send more than the caption override it.
        """
        return {"caption": job.full_caption}

    def __init__(self, settings: Any = None, http: httpx.Client | None = None) -> None:
        self.http = http or httpx.Client(timeout=httpx.Timeout(30.0, read=120.0))
        if settings is None and self.settings_class is not None:
            from shared.config import load

            settings = load(self.settings_class)
        self.settings = settings

    def run_step(self, step: str, job: PublishJob, data: Mapping[str, Any]) -> StepOutcome:
        """Run one step: the adapter's method `_<step>`. Raise a `PlatformError` subclass on failure."""
        if step not in self.steps:
            raise ValueError(f"{self.display_name} has no step {step!r}")
        handler = getattr(self, f"_{step}")
        return handler(job, data)  # type: ignore[no-any-return]

    def stage_lead(self) -> timedelta:
        """How long before its slot a scheduled target starts (its `<PLATFORM>_STAGE_LEAD_MINUTES`)."""
        if self.slot_step is None:
            return timedelta(0)
        return timedelta(minutes=float(getattr(self.settings, "stage_lead_minutes", 0.0) or 0.0))

    def holds_for_slot(self, step: str) -> bool:
        """Whether `step` must wait for the slot when a staged target reaches it before."""
        return step == self.slot_step

    def usage_holds(self, now: datetime) -> dict[str, timedelta]:
        """Holds the platform's usage reports asked for since the last step ("app" or an account id
        -> how long no call should be made from `now`, the pipeline's clock); the pipeline shares them
        with every instance."""
        return {}

    def usage_hold_message(self) -> str:
        """What the user reads while a target waits for such a hold."""
        return f"{self.display_name} asked us to slow down. We'll continue automatically."

    def staged_object(self, data: Mapping[str, Any]) -> bool:
        """Whether the step data shows an object left on the platform by staging (cancel removes it)."""
        return False

    @abstractmethod
    def reconcile(self, step: str, job: PublishJob, data: Mapping[str, Any]) -> StepOutcome | None:
        """Read-only: did irreversible `step` take effect?

        Return the outcome the step would have returned if it did, or None if it
        did not (so it is safe to run it again).
        """

    def fetch_metrics(self, credentials: Credentials, platform_post_id: str, *, now: datetime) -> PostMetrics:
        """The post's numbers (`now`: the collector's clock, for a refusal's retry time). Platforms without a
        metrics API (Blotato) keep this answer."""
        raise PermanentError(f"{self.display_name} does not report how posts did.", platform=self.key,
                             code="no_metrics_api")
