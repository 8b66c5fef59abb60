"""Stage ahead, publish at the slot.

A scheduled target of a platform that stages (`PlatformAdapter.slot_step`) becomes due
`stage_lead()` before its slot: its reversible or invisible steps (upload, processing, a
platform-side schedule) run then, and the pipeline holds the going-live step (`slot_step`)
until the slot. While it waits the target is `scheduled` again, with `step_data.staged`,
its `next_attempt_at` at the slot; the tick (or the slot's task) picks it up as any other
scheduled target and the worker goes on from the step it recorded.

An edit of a staged target (its time or text) changes the staged object instead of being
refused: a platform that can update it in place runs its `restage_step` at once (YouTube:
videos.update with the new publishAt and snippet); one that cannot runs its `unstage_step` and
stages again from its first step (`restage` in the step data); one with nothing to remove (an
Instagram container, never published and gone after 24 hours) stages again from its first step.
The restaged target waits for its new slot as before, so it goes live once, at the new time.

A problem found while staging (an expired token, a refused video) reaches the user before
the slot, with the slot's time in the message. A cancel after staging removes the staged
object from the platform (`unstage_step`), run by the worker on the canceled target.

A connection that could not undo a staged object (granted none of the adapter's `undo_scopes`:
a YouTube connection made before we asked for youtube.force-ssl) is never staged: at its lead
time the worker moves the target to its slot instead (`starts_at_slot`) and tells the user that
reconnecting lets scheduled posts go live exactly on time. A cancel before the slot then has
nothing to remove, and the post goes out as before staging existed: its upload starts at the slot.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from shared.platforms.base import PlatformAdapter


def due_at(adapter: PlatformAdapter, slot: datetime, now: datetime) -> datetime:
    """When a target scheduled for `slot` starts: its lead time before, never before now."""
    return max(now, slot - adapter.stage_lead()) if adapter.stage_lead() else slot


def can_undo(adapter: type[PlatformAdapter] | PlatformAdapter, scopes: Iterable[str] | None) -> bool:
    """Whether a connection granted `scopes` can delete or update what staging leaves on the platform.

    No scopes recorded (a connection stored without its token answer's scopes) counts as able, as
    before scopes were checked; every OAuth connect records what the platform granted.
    """
    granted = set(scopes or ())
    return not adapter.undo_scopes or not granted or bool(granted & set(adapter.undo_scopes))


def starts_at_slot(adapter: type[PlatformAdapter] | PlatformAdapter, target: dict[str, Any],
                   scopes: Iterable[str] | None, step: str, now: datetime) -> bool:
    """A target due before its slot (its lead time, or re-queued by the tick) whose connection cannot undo
    a staged object: it must not stage, so its first step waits for the slot (at the slot, the step runs)."""
    slot, due = target.get("scheduled_at"), target.get("next_attempt_at")
    return (adapter.slot_step is not None and step == adapter.first_step and slot is not None and slot > now
            and due is not None and due < slot and not can_undo(adapter, scopes))


def waits_for_slot(adapter: PlatformAdapter, next_step: str | None, slot: datetime | None,
                   now: datetime) -> bool:
    """A staged target holds its going-live step until the slot."""
    return next_step is not None and adapter.holds_for_slot(next_step) and slot is not None and slot > now


def restage_data(adapter: PlatformAdapter, data: dict[str, Any]) -> dict[str, Any]:
    """The step data that makes the worker update (or remove and stage again) an edited staged target."""
    kept = {k: v for k, v in data.items() if k != "staged"}
    if adapter.restage_step is not None:
        return kept | {"step": adapter.restage_step}
    if adapter.unstage_step is not None and adapter.staged_object(data):
        return kept | {"step": adapter.unstage_step, "restage": True}
    return {}


def restage_due(adapter: PlatformAdapter, data: dict[str, Any], slot: datetime | None,
                now: datetime) -> datetime | None:
    """When an edited staged target runs: at once when the staged object is updated or removed first;
    otherwise it stages again at its lead time before the new slot (None: "publish now")."""
    if data or slot is None:
        return now
    return due_at(adapter, slot, now)


def slot_for_job(target: dict[str, Any], now: datetime) -> datetime | None:
    """The slot the platform is asked to publish at: only while it is still ahead."""
    slot = target.get("scheduled_at")
    return slot if slot is not None and slot > now else None


def local_time(slot: datetime, timezone: str | None, now: datetime) -> str:
    """"09:00" (or "Dec 1, 09:00" when not today) in the user's time zone."""
    try:
        zone = ZoneInfo(timezone or "UTC")
    except (KeyError, ValueError):
        zone = ZoneInfo("UTC")
    local, today = slot.astimezone(zone), now.astimezone(zone)
    if local.date() == today.date():
        return local.strftime("%H:%M")
    return f"{local.strftime('%b')} {local.day}, {local.strftime('%H:%M')}"


def reconnect_message(platform: str, slot: datetime, timezone: str | None, now: datetime) -> str:
    """What the user reads when staging found the connection expired before the slot."""
    return (f"Your {platform} connection expired. Reconnect {platform} before "
            f"{local_time(slot, timezone, now)} so your video goes out on time.")


def unstage_failed_message(platform: str, slot: datetime | None, timezone: str | None, now: datetime) -> str:
    """A cancel could not remove the staged video: the user must, or it still goes out."""
    when = f" at {local_time(slot, timezone, now)}" if slot is not None else ""
    return (f"Canceled, but we couldn't remove the scheduled video from {platform}. Delete it on "
            f"{platform}, or it will still go out{when}.")




def reconnect_to_stage_message(platform: str) -> str:
    """Why a post of a connection that cannot be staged starts only at its slot, and what helps. No time
    in it: an edit of the post's time leaves the message as it is until the new lead time."""
    return (f"This video starts uploading to {platform} at its scheduled time, so it may go live a few minutes "
            f"later. Reconnect {platform} once, and your scheduled posts will go live exactly on time.")
