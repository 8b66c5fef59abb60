"""Every notification mail, in plain language: what happened and what to do next.

Each function returns (subject, body). Links go to the frontend (FRONTEND_URL):
`/posts/<id>` to see or retry a post, `/connections` to reconnect an account.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

# Mail kinds, stored in notifications.kind.
POST_PUBLISHED = "post_published"
POST_FAILED = "post_failed"
CONNECTION_EXPIRING = "connection_expiring"
CONNECTION_EXPIRED = "connection_expired"
POST_DEFERRED = "post_deferred"
WEBHOOK_DISABLED = "webhook_disabled"
RECONNECT_FOR_EXACT_TIME = "reconnect_for_exact_time"

_SIGNATURE = "\n\n— shortpub"
_CAPTION_PREVIEW = 60


def platform_name(platform: str) -> str:
    """What users call the platform: the descriptor's display name; a name already (or unknown) stays as given."""
    from shared.platforms.registry import registry

    found = registry().get(platform)
    return found.display_name if found is not None else platform


def _frontend(frontend_url: str) -> str:
    return frontend_url.rstrip("/")


def post_link(post_id: str, frontend_url: str) -> str:
    return f"{_frontend(frontend_url)}/posts/{post_id}"


def reconnect_link(frontend_url: str) -> str:
    return f"{_frontend(frontend_url)}/connections"


def _which_video(caption: str | None) -> str:
    text = " ".join((caption or "").split())
    if not text:
        return "Your video"
    if len(text) > _CAPTION_PREVIEW:
        text = text[: _CAPTION_PREVIEW - 1].rstrip() + "…"
    return f"Your video \"{text}\""


def post_published(*, platform: str, post_url: str | None, caption: str | None = None) -> tuple[str, str]:
    return posts_published(items=[(platform, post_url)], caption=caption)


def _names(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def posts_published(
    *, items: list[tuple[str, str | None]], caption: str | None = None, post_id: str | None = None,
    poster_url: str | None = None, post_summary: str | None = None, frontend_url: str | None = None,
) -> tuple[str, str]:
    """One mail for a post's platforms that went live close together: [(platform, link or None), ...]."""
    names = [platform_name(platform) for platform, _ in items]
    if len(items) == 1:
        url = items[0][1]
        where = f"See it here: {url}" if url else f"You can find it on your {names[0]} profile."
        text = f"{_which_video(caption)} was published on {names[0]}.\n\n{where}"
    else:
        lines = [f"- {name}: {url or f'on your {name} profile'}" for name, (_, url) in zip(names, items, strict=True)]
        text = f"{_which_video(caption)} was published on {_names(names)}.\n\n" + "\n".join(lines)
    if post_summary:
        text += f"\n\nThis post so far: {post_summary}"
    if poster_url:
        text += f"\n\nPoster frame: {poster_url}"
    if post_id and frontend_url:
        text += f"\n\nAll platforms of this post: {post_link(post_id, frontend_url)}"
    return f"Your video is live on {_names(names)}", f"Hi,\n\n{text}{_SIGNATURE}"


def post_failed(
    *, platform: str, reason: str, post_id: str, caption: str | None = None, frontend_url: str
) -> tuple[str, str]:
    name = platform_name(platform)
    return (
        f"We could not publish your video on {name}",
        f"Hi,\n\n{_which_video(caption)} could not be published on {name}, even after several tries.\n\n"
        f"What went wrong: {reason.strip()}\n\n"
        f"Your other platforms are not affected. To try {name} again, open this page and click \"Retry\":\n"
        f"{post_link(post_id, frontend_url)}{_SIGNATURE}",
    )


def post_deferred(
    *, platform: str, message: str, post_id: str, caption: str | None = None, frontend_url: str
) -> tuple[str, str]:
    """A budget is used up (EC-4): the platform's message already says when it will publish."""
    name = platform_name(platform)
    return (
        f"Your video will publish later on {name}",
        f"Hi,\n\n{_which_video(caption)} is waiting to publish on {name}.\n\n{message.strip()}\n\n"
        f"Nothing to do: it goes out by itself. To see or cancel it:\n{post_link(post_id, frontend_url)}{_SIGNATURE}",
    )


def webhook_disabled(*, url: str, reason: str, frontend_url: str) -> tuple[str, str]:
    return (
        "We turned off one of your webhooks",
        f"Hi,\n\nWe stopped sending events to {url} because it kept failing. {reason}\n\n"
        "Events that happen while it is off are not sent to it. When the address works again, turn it back on "
        f"(PATCH /webhooks/<id> with {{\"enabled\": true}}) or under Settings:\n"
        f"{_frontend(frontend_url)}/settings/webhooks{_SIGNATURE}",
    )


def _day(moment: datetime, timezone: str) -> str:
    local = moment.astimezone(ZoneInfo(timezone))
    return f"{local:%A} {local.day} {local:%B %Y}"


def connection_expiring(
    *, platform: str, account: str, expires_at: datetime, timezone: str = "UTC", frontend_url: str
) -> tuple[str, str]:
    name = platform_name(platform)
    return (
        f"Your {name} connection stops working in 7 days",
        f"Hi,\n\nYour {name} connection ({account}) will stop working on {_day(expires_at, timezone)}. "
        f"{name} does not let us renew it without you.\n\n"
        f"To keep your scheduled videos publishing, reconnect it now (it takes less than a minute):\n"
        f"{reconnect_link(frontend_url)}{_SIGNATURE}",
    )


def connection_expired(*, platform: str, account: str, frontend_url: str) -> tuple[str, str]:
    name = platform_name(platform)
    return (
        f"Your {name} connection expired",
        f"Hi,\n\nYour {name} connection ({account}) expired or was removed, so we cannot publish there "
        f"right now.\n\nReconnect it here:\n{reconnect_link(frontend_url)}\n\n"
        f"Videos waiting for this account will publish automatically after you reconnect.{_SIGNATURE}",
    )


def reconnect_for_exact_time(*, platform: str, account: str, frontend_url: str) -> tuple[str, str]:
    name = platform_name(platform)
    return (
        f"Reconnect {name} so scheduled videos go live exactly on time",
        f"Hi,\n\nYour {name} connection ({account}) was made before we could schedule videos on {name} "
        f"itself, so your scheduled videos there start uploading at their time and go live a few minutes "
        f"later.\n\nReconnect it once (it takes less than a minute), and scheduled videos will go live "
        f"exactly on time:\n{reconnect_link(frontend_url)}{_SIGNATURE}",
    )


def dedupe_key(kind: str, *parts: object) -> str:
    """One key per event, e.g. dedupe_key(POST_PUBLISHED, target_id)."""
    return ":".join([kind, *(str(part) for part in parts)])
