"""The main job, end to end on the local stack, the way a user and the frontend do it.

A demo user connects TikTok (direct and through Blotato), Instagram, YouTube and
Facebook through the real OAuth flows against the platform sandbox, uploads a
generated vertical video with a description, asks for caption suggestions per
platform, publishes it to four platforms at once with them and schedules it once
more a minute ahead, then watches every platform's state until all are final.
"""

from __future__ import annotations

import os
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.live import Live
from rich.table import Table

from shared.app import application
from shared.auth import mint_local_token
from shared.cli.captions import suggestions_table, targets_from
from shared.db.local import local_dir
from shared.local.stack import LocalStack
from shared.media.samples import make_video

DEMO_EMAIL = "demo+{run}@shortpub.local"
DEMO_CONTEXT = {
    "description": "Spring sale at our boutique: fresh linen shirts and floral summer dresses, all handmade.",
    "brand": "Maple & Thread",
    "language": "en",
}
TIMEOUT_SECONDS = 240


class DemoError(RuntimeError):
    pass


def _demo_user() -> tuple[str, str, str]:
    """A fresh demo user per run: the sandbox's accounts are new each time it starts."""
    email = DEMO_EMAIL.format(run=datetime.now(UTC).strftime("%Y%m%d%H%M%S"))
    with application().database.service() as conn:
        row = conn.execute("insert into auth.users (email) values (%s) returning id", (email,)).fetchone()
    assert row is not None
    user_id = str(row["id"])
    token = mint_local_token(user_id, email, secret=os.environ["SUPABASE_JWT_SECRET"], ttl=4 * 3600)
    return user_id, email, token


def _check(response: httpx.Response, what: str) -> dict[str, Any]:
    if response.status_code >= 400:
        try:
            message = response.json().get("message")
        except ValueError:
            message = response.text[:300]
        raise DemoError(f"{what}: {message}")
    return response.json() if response.content else {}


def _connect_oauth(api: httpx.Client, platform: str) -> None:
    started = _check(api.post(f"/oauth/start/{platform}", json={}), f"start connecting {platform}")
    # The browser's part: the platform's consent page sends it back to our callback.
    consent = httpx.get(started["authorization_url"], follow_redirects=False, timeout=30)
    if consent.status_code != 302:
        raise DemoError(f"{platform} consent page answered {consent.status_code}")
    back = httpx.get(consent.headers["location"], follow_redirects=False, timeout=60)
    location = back.headers.get("location", "")
    if back.status_code != 302 or "connected=" not in location:
        raise DemoError(f"connecting {platform} failed: {location or back.text[:200]}")


def _connect_blotato(api: httpx.Client, sandbox_url: str, user_id: str) -> None:
    owner = f"blotato-demo-{user_id[:8]}"
    httpx.post(f"{sandbox_url}/_sandbox/accounts", json={
        "platform": "blotato", "id": f"acct-{user_id[:8]}", "owner": owner, "network": "tiktok",
        "username": "shortpub_demo", "fullname": "shortpub demo"}, timeout=10).raise_for_status()
    key = httpx.post(f"{sandbox_url}/_sandbox/tokens", json={
        "platform": "blotato", "account_id": owner, "ttl": 365 * 86400}, timeout=10).json()["access_token"]
    _check(api.post("/connections/blotato", json={"api_key": key}), "connect Blotato")


def _connections(api: httpx.Client) -> dict[str, str]:
    listed = _check(api.get("/connections"), "list connections")
    items = listed["connections"] if isinstance(listed, dict) else listed
    return {c["platform"]: c["id"] for c in items if c["status"] == "connected"}


def _upload_video(api: httpx.Client) -> str:
    with tempfile.TemporaryDirectory() as folder:
        path = make_video(Path(folder) / "demo.mp4", seconds=6, width=720, height=1280)
        with path.open("rb") as handle:
            stored = _check(
                api.post("/videos", content=handle.read(), params=DEMO_CONTEXT,
                         headers={"Content-Type": "video/mp4", "X-Filename": "spring-sale.mp4"}),
                "upload the video",
            )
    return str(stored["video_id"])


def _suggestions(api: httpx.Client, video_id: str, console: Console) -> dict[str, dict[str, Any]]:
    """Ask for caption suggestions, show them, and return each platform's target fields."""
    answer = _check(api.post("/captions", json={
        "video_id": video_id, "platforms": ["blotato", "instagram", "youtube", "facebook"],
        "brief": "20% off everything until Sunday",
    }), "suggest captions")
    console.print(suggestions_table(answer))
    for note in answer.get("notes", []):
        console.print(f"[yellow]{note}[/yellow]")
    return targets_from(answer)


def _render(posts: list[dict[str, Any]]) -> Table:
    table = Table(title="Publishing", show_lines=False)
    for column in ("post", "platform", "state", "link or message"):
        table.add_column(column)
    for post in posts:
        for target in post.get("targets", []):
            when = " (scheduled)" if target.get("scheduled_at") else ""
            state = target["state"]
            colour = {"published": "green", "failed": "red", "needs_reconnect": "yellow"}.get(state, "cyan")
            table.add_row(post["post_id"][:8] + when, target["platform"], f"[{colour}]{state}[/{colour}]",
                          target.get("platform_url") or target.get("user_message") or "")
        table.add_row("", "", "", f"[bold]{post.get('summary', '')}[/bold]")
    return table


def run_demo(stack: LocalStack, console: Console) -> bool:
    functions_url = os.environ["FUNCTIONS_BASE_URL"]
    sandbox_url = stack.urls["platform sandbox"]
    user_id, email, token = _demo_user()
    with httpx.Client(base_url=functions_url, headers={"Authorization": f"Bearer {token}"}, timeout=120) as api:
        try:
            for platform in ("tiktok", "instagram", "youtube", "facebook"):
                _connect_oauth(api, platform)
            _connect_blotato(api, sandbox_url, user_id)
            connections = _connections(api)
            console.print(f"Connected: {', '.join(sorted(connections))} (demo user {email})")
            video_id = _upload_video(api)
            console.print(f"Uploaded a generated 720x1280 video: {video_id}")
            suggested = _suggestions(api, video_id, console)
            now_post = _check(api.post("/publish-video", json={
                "video_id": video_id,
                "targets": [
                    {"platform": "blotato", "options": {"privacy_level": "PUBLIC_TO_EVERYONE", "consent": True},
                     **suggested["blotato"]},
                    {"platform": "instagram", **suggested["instagram"]},
                    {"platform": "youtube", **suggested["youtube"]},
                    {"platform": "facebook", **suggested["facebook"]},
                ],
            }, headers={"Idempotency-Key": str(uuid.uuid4())}), "publish now")
            at = (datetime.now(UTC) + timedelta(minutes=1)).replace(microsecond=0)
            later_post = _check(api.post("/publish-video", json={
                "video_id": video_id,
                "caption": "Last call: spring sale ends soon!",
                "hashtags": ["springsale"],
                "timezone": "America/New_York",
                "publish_at": at.isoformat(),
                "targets": [{"platform": "tiktok", "connection_id": connections["tiktok"],
                             "options": {"privacy_level": "PUBLIC_TO_EVERYONE", "consent": True}}],
            }), "schedule")
            console.print(f"Published now: post {now_post['post_id']}; scheduled for {at:%H:%M:%S} UTC: "
                          f"post {later_post['post_id']}")
        except DemoError as exc:
            console.print(f"[red]Demo stopped:[/red] {exc}")
            return False
        post_ids = [now_post["post_id"], later_post["post_id"]]
        deadline = time.monotonic() + TIMEOUT_SECONDS
        views: list[dict[str, Any]] = []
        with Live(_render(views), console=console, refresh_per_second=4) as live:
            while time.monotonic() < deadline:
                views = [_check(api.get(f"/publish-video/posts/{pid}"), "status") for pid in post_ids]
                live.update(_render(views))
                if all(v["done"] for v in views):
                    break
                time.sleep(1)
    ok = bool(views) and all(t["state"] == "published" for v in views for t in v["targets"])
    console.print("[bold green]All platforms published.[/bold green]" if ok
                  else "[bold red]Not every platform published.[/bold red]")
    _show_mail(console, email)
    return ok


def _show_mail(console: Console, email: str) -> None:
    """The scheduled post's confirmation mail goes out with the next scheduler tick."""
    folder = local_dir() / "mail"
    deadline = time.monotonic() + 20
    found: list[Path] = []
    while time.monotonic() < deadline:
        found = [p for p in folder.glob("*.eml") if email in p.read_text(errors="replace")]
        if found:
            break
        time.sleep(0.5)
    if found:
        console.print(f"Confirmation mail for the scheduled post: {found[0]}")
    else:
        console.print(f"No confirmation mail yet; the local outbox is {folder}")
