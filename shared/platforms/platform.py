"""One platform, described once: what its package gives the rest of shortpub.

Each platform package (`shared/platforms/<key>/__init__.py`) builds one `Platform`;
`shared/platforms/registry.py` lists them. Generic code (queues, connections,
validation, the catalog) asks the descriptor, never compares platform keys.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from shared.platforms.base import PlatformAdapter, PlatformLimits, QuotaRule
from shared.platforms.oauth import ApiKeyProvider, OAuthProvider, Provider
from shared.platforms.options import PlatformOptions
from shared.platforms.profiles import DEFAULT_ENCODE_PROFILE, UNKNOWN_FEED_CUTOFF, CoverFrame, EncodeProfile, FeedCutoff

# What a composer screen shows live for one connected account (TikTok's creator_info):
# (connection row, a function returning a valid access token) -> fields for the catalog.
LiveAccountInfo = Callable[[Mapping[str, Any], Callable[[], str]], dict[str, Any]]
# The account's settings a post's options are checked against when it is published (TikTok's
# creator_info: the privacy levels offered now): (connection row, access token) -> settings.
LiveSettings = Callable[[Mapping[str, Any], Callable[[], str]], dict[str, Any]]


@dataclass(frozen=True)
class CaptionRegister:
    """How suggested captions sound on a network: our own style choice, always inside the platform's limits."""

    style: str             # told to the writer: how captions sound on this platform
    caption_budget: int    # our target length of the caption body (characters), far under the limit
    hashtag_count: int     # 3-5
    # How the local writer composes the caption (shared/captions/local.py): a hook then the subject,
    # a visual headline in short lines, a searchable description, or a conversational sentence.
    voice: Literal["hook", "visual", "description", "conversational"] = "conversational"
    wants_title: bool = False
    title_budget: int = 0


@dataclass(frozen=True)
class Platform:
    """A platform: its publisher, how accounts connect, its errors, settings, limits and options."""

    adapter: type[PlatformAdapter]            # publishes: steps, limits, quotas, display name ("YouTube Shorts")
    provider: type[Provider]                  # connects accounts: OAuth or an API key
    options: type[PlatformOptions]            # the typed publish options users may set
    # Cloud Tasks: a step that pushes a whole file may need Cloud Tasks' full 30 minutes, and
    # long uploads hold memory and bandwidth, so fewer run at once.
    dispatch_deadline_s: int = 600
    concurrent_dispatches: int = 20
    # Extra checks of a probed video beyond the limits (see shared/media/validate.py EXTRA_CHECKS).
    video_checks: tuple[str, ...] = ()
    # Fields of the catalog read live per connected account (None: nothing live).
    live_account_info: LiveAccountInfo | None = None
    # account_info field shared by every account one sign-in connects (Facebook Pages of one user):
    # revoking the grant of one would cut the others, so disconnect revokes only the last one.
    shared_grant_field: str | None = None
    # Presentation and encode facts with their sources (shared/platforms/profiles.py): the package's
    # feed.py and media_profile.py.
    feed_cutoff: FeedCutoff = UNKNOWN_FEED_CUTOFF
    encode_profile: EncodeProfile = DEFAULT_ENCODE_PROFILE
    cover_frame: CoverFrame = None
    # How suggested captions sound there (the package's caption_register.py); None: no suggestions.
    caption_register: CaptionRegister | None = None
    # Settings read live from the account when a post is created (None: the options alone decide).
    live_settings: LiveSettings | None = None

    @property
    def key(self) -> str:
        return self.adapter.key

    @property
    def network(self) -> str:
        """Where the video appears (Blotato publishes to "tiktok")."""
        return self.adapter.network

    @property
    def display_name(self) -> str:
        """The publisher's name for users: "YouTube Shorts"."""
        return self.adapter.display_name

    @property
    def name(self) -> str:
        """The platform's name in connection sentences: "YouTube"."""
        return self.provider.display_name

    @property
    def asks_consent(self) -> bool:
        """A post needs the user's own privacy choice and consent (TikTok's UX rules): no default is sent."""
        return "consent" in self.options.REQUIRED_TO_POST

    @property
    def project_daily_quotas(self) -> tuple[QuotaRule, ...]:
        """The project-wide daily budgets (YouTube's units): what the ops gauge watches."""
        return tuple(rule for rule in self.quotas if rule.scope == "project" and rule.window == "daily_pacific")

    @property
    def errors(self) -> Any:
        """The platform's error table (its errors.py): publishing and OAuth answers are classified by it."""
        return self.provider.ERRORS

    @property
    def settings(self) -> type[Any] | None:
        return self.adapter.settings_class

    @property
    def limits(self) -> PlatformLimits:
        return self.adapter.limits

    @property
    def quotas(self) -> tuple[QuotaRule, ...]:
        return self.adapter.quotas

    @property
    def signs_in(self) -> bool:
        """Connected through an OAuth sign-in (else with an API key the user pastes)."""
        return issubclass(self.provider, OAuthProvider)

    @property
    def uses_api_key(self) -> bool:
        return issubclass(self.provider, ApiKeyProvider)

    def check(self) -> None:
        """The parts must agree: one key, one settings class."""
        if self.provider.key != self.key:
            raise ValueError(f"{self.key}: provider key {self.provider.key!r}")
        if getattr(self.provider, "SETTINGS", None) is not self.settings:
            raise ValueError(f"{self.key}: the provider reads other settings than the publisher")
