"""How API answers look in the terminal: tables of targets, connections and the calendar."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any
from zoneinfo import ZoneInfo

from rich.table import Table
from rich.text import Text

STATE_STYLE = {
    "published": "green", "failed": "red", "needs_reconnect": "yellow", "canceled": "dim",
    "scheduled": "cyan", "deferred": "yellow",
}
STATE_WORDS = {
    "scheduled": "scheduled", "queued": "waiting to start", "uploading": "uploading", "processing":
    "platform is processing", "publishing": "publishing", "published": "published", "failed": "failed",
    "needs_reconnect": "needs you to reconnect", "deferred": "waiting for the platform's limit",
    "reconciling": "checking with the platform", "canceled": "canceled",
}


def state_text(state: str) -> Text:
    return Text(STATE_WORDS.get(state, state), style=STATE_STYLE.get(state, "blue"))


def parse_instant(value: str) -> datetime:
    """ISO 8601, or the HTTP-date form Flask gives datetimes it serializes itself."""
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return parsedate_to_datetime(value)


def _when(value: str | None, zone: ZoneInfo) -> str:
    if not value:
        return "now"
    return parse_instant(value).astimezone(zone).strftime("%a %d %b %H:%M")


def targets_table(post: dict[str, Any], zone: ZoneInfo) -> Table:
    table = Table(title=post.get("summary"), title_justify="left", expand=False)
    for column in ("Platform", "When", "State", "Link or message"):
        table.add_column(column)
    for target in post.get("targets", []):
        detail = target.get("platform_url") or target.get("user_message") or ""
        if target.get("can_retry"):
            detail += f"  (retry: shortpub retry {target.get('id') or target.get('target_id')})"
        table.add_row(target["platform"], _when(target.get("scheduled_at"), zone), state_text(target["state"]),
                      detail)
    return table


def connections_table(rows: Iterable[dict[str, Any]]) -> Table:
    table = Table(title="Connected accounts", title_justify="left")
    for column in ("Platform", "Account", "Status", "Note", "Id"):
        table.add_column(column)
    for row in rows:
        status = Text(row["status"], style="green" if row["status"] == "connected" else "yellow")
        account = row.get("username") or row.get("display_name") or row.get("platform_account_id") or ""
        table.add_row(row.get("display_platform") or row["platform"], account, status,
                      row.get("user_message") or "", row["id"])
    return table


def calendar_tables(items: list[dict[str, Any]], zone: ZoneInfo) -> list[Table]:
    """One table per day, in the user's time zone."""
    days: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        when = parse_instant(item.get("scheduled_at") or item["created_at"]).astimezone(zone)
        days.setdefault(when.strftime("%A %d %B %Y"), []).append({**item, "_time": when.strftime("%H:%M")})
    tables = []
    for day, entries in days.items():
        table = Table(title=day, title_justify="left")
        for column in ("Time", "Platform", "State", "Caption", "Target id"):
            table.add_column(column)
        for entry in entries:
            caption = (entry.get("caption") or "").replace("\n", " ")
            table.add_row(entry["_time"], entry["platform"], state_text(entry["state"]),
                          caption[:40] + ("…" if len(caption) > 40 else ""), entry["id"])
        tables.append(table)
    return tables


def _verdict(verdict: dict[str, Any]) -> str:
    if verdict["status"] == "recommended":
        evidence = verdict.get("evidence") or {}
        shown = verdict.get("label") or verdict.get("value")
        return f"[green]{shown}[/green] [dim](p={evidence.get('p_value')}, {evidence.get('posts')} posts)[/dim]"
    return f"[dim]{verdict.get('reason') or 'not enough data yet'}[/dim]"


def insights_view(found: dict[str, Any]) -> Table:
    """Recommendations per platform, each with its evidence or why it is withheld."""
    table = Table(title=f"What works for you ({found['posts']} posts compared at {found['compared_at_age']}, "
                        f"times in {found['timezone']})")
    for column in ("platform", "best hours", "best weekday", "caption length", "hashtags", "strong hashtags"):
        table.add_column(column)
    best = found["best_platform"]
    table.add_row("[bold]all[/bold]", "", "", "", "", "best platform: " + _verdict(best))
    for network, rec in found["platforms"].items():
        tags = rec["hashtags"]
        strong = ", ".join(item["hashtag"] for item in tags.get("items", [])[:5]) or f"[dim]{tags.get('reason')}[/dim]"
        table.add_row(network, _verdict(rec["best_hour"]), _verdict(rec["best_weekday"]),
                      _verdict(rec["caption_length"]), _verdict(rec["hashtag_count"]), strong)
    return table
