"""`shortpub` commands. Each talks to the same HTTP functions the app uses (SHORTPUB_API_URL,
SHORTPUB_TOKEN), except `migrate` and `rotate-keys`, which are operator tasks on the database."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.live import Live
from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

from shared.cli import captions as suggested_captions
from shared.cli import options
from shared.cli.client import ApiClient, CliError
from shared.cli.views import calendar_tables, connections_table, insights_view, targets_table

app = typer.Typer(
    name="shortpub",
    help="Publish vertical videos to TikTok, Instagram, YouTube and Facebook. Set SHORTPUB_API_URL "
    "(default http://127.0.0.1:8080) and SHORTPUB_TOKEN (your Supabase access token; see docs/cli.md).",
    no_args_is_help=True,
    add_completion=False,
)
POLL_SECONDS = 1.0
CHUNK = 1024 * 1024


def _console() -> Console:
    return Console(highlight=False)


def _fail(message: str, code: int = 1) -> typer.Exit:
    _console().print(f"[red]{message}[/red]")
    return typer.Exit(code)


def _client() -> ApiClient:
    try:
        return ApiClient.from_env()
    except Exception as exc:  # a malformed setting: say which
        raise _fail(str(exc)) from None


def _check_id(value: str, what: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise _fail(f"'{value}' is not a {what} id; it looks like 3f2b1c4e-…, as shown by `shortpub schedule`.",
                    2) from None


# ---------------------------------------------------------------------------- publish


def _file_chunks(path: Path, progress: Progress, task: Any) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            progress.advance(task, len(chunk))
            yield chunk


def _upload(client: ApiClient, path: Path, content_type: str, console: Console,
            context: dict[str, str] | None = None) -> dict[str, Any]:
    size = path.stat().st_size
    columns = ("[progress.description]{task.description}", BarColumn(), DownloadColumn(), TransferSpeedColumn())
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task(f"Uploading {path.name}", total=size)
        return dict(client.upload(_file_chunks(path, progress, task), filename=path.name,
                                  content_type=content_type, size=size, context=context))


def follow(client: ApiClient, post_id: str, zone_name: str, console: Console) -> dict[str, Any]:
    """Show the post's targets live until every one is final (or Ctrl-C)."""
    zone = options.zone(zone_name)
    post = client.get(f"/publish-video/posts/{post_id}")
    try:
        with Live(targets_table(post, zone), console=console, refresh_per_second=4) as live:
            while not post.get("done"):
                time.sleep(POLL_SECONDS)
                post = client.get(f"/publish-video/posts/{post_id}")
                live.update(targets_table(post, zone))
    except KeyboardInterrupt:
        console.print(f"Stopped watching; publishing goes on. Check later with: shortpub status {post_id}")
    return dict(post)


@app.command()
def publish(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True, help="The video file"),
    to: str = typer.Option(..., "--to", help="Platforms, comma-separated: tiktok,instagram,youtube,facebook"),
    at: str | None = typer.Option(None, "--at", help="When to publish, e.g. 2026-05-01T18:30 (default: now)"),
    tz: str | None = typer.Option(None, "--tz", help="Zone of --at, e.g. Europe/Berlin (default: this computer's)"),
    caption: str = typer.Option("", "--caption", help="Caption for every platform"),
    hashtags: str = typer.Option("", "--hashtags", help="Hashtags, comma- or space-separated"),
    title: str | None = typer.Option(None, "--title", help="Title (YouTube); default: the caption's first line"),
    wait: bool = typer.Option(True, "--wait/--no-wait", help="Follow progress until every platform is done"),
    suggested: bool = typer.Option(False, "--suggested", help="Use suggested captions and hashtags per platform "
                                   "(see `shortpub captions`); --caption then is the brief"),
    describe: str | None = typer.Option(None, "--describe", help="What the video shows (kept with the video)"),
    prompt: str | None = typer.Option(None, "--prompt", help="The prompt the video was generated from"),
    brand: str | None = typer.Option(None, "--brand", help="The product or brand the video is about"),
    language: str | None = typer.Option(None, "--language", help="Language of the captions, e.g. en, de, es"),
    tone: str | None = typer.Option(None, "--tone", help="friendly, professional, playful or bold (--suggested)"),
    tiktok_privacy: str | None = typer.Option(
        None, "--tiktok-privacy",
        help="TikTok: who can see it (PUBLIC_TO_EVERYONE, MUTUAL_FOLLOW_FRIENDS, FOLLOWER_OF_CREATOR, SELF_ONLY)"),
    tiktok_consent: bool = typer.Option(
        False, "--agree-tiktok-music-usage",
        help="TikTok: you agree to TikTok's Music Usage Confirmation (required to post to TikTok)"),
) -> None:
    """Upload a video and publish it to several platforms, now or at a time."""
    try:
        platforms = options.parse_platforms(to)
        zone_name = tz or options.local_zone_name()
        options.zone(zone_name)
        publish_at = options.parse_time(at).isoformat() if at else None
        content_type = options.video_type(file)
    except options.OptionError as exc:
        raise _fail(str(exc), 2) from None
    tags = [t for t in hashtags.replace(",", " ").split() if t]
    console = _console()
    client = _client()
    context = {k: v for k, v in (("description", describe), ("prompt", prompt), ("brand", brand),
                                 ("language", language)) if v}
    try:
        video = _upload(client, file, content_type, console, context)
        targets: list[dict[str, Any]] = [_target(p, title, tiktok_privacy, tiktok_consent) for p in platforms]
        if suggested:
            answer = suggested_captions.ask(client, video["video_id"], platforms, brief=caption, language=language,
                                            tone=tone)
            console.print(suggested_captions.suggestions_table(answer))
            filled = suggested_captions.targets_from(answer, title)
            targets = [{**_target(p, title, tiktok_privacy, tiktok_consent), **filled[p]} for p in platforms]
            caption = ""
        body = {
            "video_id": video["video_id"], "caption": caption, "hashtags": tags, "timezone": zone_name,
            "publish_at": publish_at, "targets": targets,
        }
        created = client.post("/publish-video", body, headers={"Idempotency-Key": str(uuid.uuid4())})
        post_id = created["post_id"]
        console.print(f"Post {post_id} created.")
        if wait and publish_at is None:
            post = follow(client, post_id, zone_name, console)
        else:
            post = client.get(f"/publish-video/posts/{post_id}")
            console.print(targets_table(post, options.zone(zone_name)))
        console.print(post.get("summary", ""))
    except CliError as exc:
        raise _fail(exc.message) from None
    finally:
        client.close()


@app.command()
def captions(
    video: str = typer.Argument(..., help="The video id (printed by `shortpub publish`, or from GET /videos)"),
    for_: str = typer.Option(..., "--for", help="Platforms, comma-separated: tiktok,instagram,youtube,facebook"),
    brief: str | None = typer.Option(None, "--brief", help="What this post should say, e.g. '20% off this week'"),
    language: str | None = typer.Option(None, "--language", help="Language to write in, e.g. en, de, es"),
    tone: str | None = typer.Option(None, "--tone", help="friendly, professional, playful or bold"),
    campaign: str | None = typer.Option(None, "--campaign", help="The campaign the post belongs to"),
) -> None:
    """Suggest a caption and 3-5 hashtags per platform, with each text's length as the platform counts it."""
    video_id = _check_id(video, "video")
    try:
        platforms = options.parse_platforms(for_)
    except options.OptionError as exc:
        raise _fail(str(exc).replace("--to", "--for"), 2) from None
    client = _client()
    try:
        answer = suggested_captions.ask(client, video_id, platforms, brief=brief, language=language, tone=tone,
                                        campaign=campaign)
    except CliError as exc:
        raise _fail(exc.message) from None
    finally:
        client.close()
    console = _console()
    console.print(suggested_captions.suggestions_table(answer))
    for note in answer.get("notes", []):
        console.print(f"[yellow]{note}[/yellow]")
    console.print(f"Nothing was posted. Publish with them: shortpub publish FILE --to {','.join(platforms)} "
                  "--suggested (or copy and edit the text).")


# ---------------------------------------------------------------------------- reading


def _target(platform: str, title: str | None, privacy: str | None, consent: bool) -> dict[str, object]:
    from shared.platforms.registry import registry  # the platform packages load only when a publish is read

    target: dict[str, object] = {"platform": platform, "title": title}
    described = registry().get(platform)
    if described is not None and described.asks_consent:
        # TikTok takes no default: the server answers with the account's choices when this is missing.
        target["options"] = {"privacy_level": privacy, "consent": consent}
    return target


@app.command()
def status(
    post_id: str = typer.Argument(..., help="The post id shortpub printed when publishing"),
    tz: str | None = typer.Option(None, "--tz", help="Show times in this zone"),
    watch: bool = typer.Option(False, "--watch", help="Keep watching until every platform is done"),
) -> None:
    """Where a post stands on each platform."""
    post_id = _check_id(post_id, "post")
    zone_name = tz or options.local_zone_name()
    console = _console()
    client = _client()
    try:
        zone = options.zone(zone_name)
        if watch:
            follow(client, post_id, zone_name, console)
            return
        post = client.get(f"/publish-video/posts/{post_id}")
        console.print(targets_table(post, zone))
    except options.OptionError as exc:
        raise _fail(str(exc), 2) from None
    except CliError as exc:
        raise _fail(exc.message) from None
    finally:
        client.close()


@app.command()
def connections() -> None:
    """The accounts you have connected, and which need reconnecting."""
    console = _console()
    client = _client()
    try:
        rows = client.get("/connections")["connections"]
    except CliError as exc:
        raise _fail(exc.message) from None
    finally:
        client.close()
    if not rows:
        console.print("No accounts connected yet. Connect TikTok, Instagram, YouTube or Facebook in the app first.")
        return
    console.print(connections_table(rows))


@app.command()
def insights(
    tz: str | None = typer.Option(None, "--tz", help="Give hours in this zone (default: this computer's)"),
    platform: str | None = typer.Option(None, "--platform", help="Only this platform: tiktok, instagram, ..."),
) -> None:
    """What works for you: best platform, hours, weekdays, caption length and hashtags, with the evidence."""
    console = _console()
    client = _client()
    params = {"timezone": tz or options.local_zone_name(), **({"platform": platform} if platform else {})}
    try:
        found = client.get("/analytics/recommendations", **params)
    except CliError as exc:
        raise _fail(exc.message) from None
    finally:
        client.close()
    if found["posts"] == 0:
        console.print("Not enough data yet: recommendations start once your posts are 72 hours old and have "
                      "numbers from the platforms.")
        return
    console.print(insights_view(found))


@app.command()
def schedule(
    tz: str | None = typer.Option(None, "--tz", help="Show times in this zone"),
    platform: str | None = typer.Option(None, "--platform", help="Only this platform"),
    limit: int = typer.Option(100, "--limit", min=1, max=500),
) -> None:
    """Upcoming posts, day by day."""
    console = _console()
    client = _client()
    try:
        zone = options.zone(tz or options.local_zone_name())
        now = datetime.now(UTC).isoformat()
        items = client.get("/publish-video/posts", **{"from": now, "platform": platform, "limit": limit})["items"]
    except options.OptionError as exc:
        raise _fail(str(exc), 2) from None
    except CliError as exc:
        raise _fail(exc.message) from None
    finally:
        client.close()
    if not items:
        console.print("Nothing scheduled from now on.")
        return
    for table in calendar_tables(items, zone):
        console.print(table)


@app.command()
def retry(target_id: str = typer.Argument(..., help="The failed platform post (target) id")) -> None:
    """Try a failed platform post again now."""
    target_id = _check_id(target_id, "target")
    client = _client()
    try:
        target = client.post(f"/publish-video/targets/{target_id}/retry")
    except CliError as exc:
        raise _fail(exc.message) from None
    finally:
        client.close()
    _console().print(f"Trying {target['platform']} again now. Follow it with: shortpub status {target['post_id']}")


@app.command()
def export(
    output: Path = typer.Option(Path("shortpub-export.json"), "--output", "-o",
                                help="Where to write the JSON ('-' for the screen)"),
) -> None:
    """Download everything shortpub keeps about you (posts, accounts without tokens, analytics) as JSON."""
    import json

    client = _client()
    try:
        document = client.get("/publish-video/export")
    except CliError as exc:
        raise _fail(exc.message) from None
    finally:
        client.close()
    text = json.dumps(document, indent=2, ensure_ascii=False)
    if str(output) == "-":
        typer.echo(text)
        return
    output.write_text(text + "\n", encoding="utf-8")
    _console().print(f"Saved {len(document['posts'])} posts, {len(document['targets'])} platform posts and "
                     f"{len(document['connections'])} accounts to {output}.")


# ---------------------------------------------------------------------------- operator tasks


@app.command()
def migrate() -> None:
    """Apply pending database migrations (DATABASE_URL, or the embedded PostgreSQL locally)."""
    from shared.config import CoreSettings, load
    from shared.db import migrate as migrations
    from shared.db.local import admin_url

    settings = load(CoreSettings)
    if not settings.database_url and not settings.is_local:
        raise _fail("DATABASE_URL is not set. Set it to your Supabase database URL and run again.")
    url = settings.database_url or admin_url()
    try:
        applied = migrations.apply(url, local=settings.is_local)
    except migrations.MigrationError as exc:
        raise _fail(str(exc)) from None
    console = _console()
    if applied:
        console.print(f"Applied {len(applied)} migration(s): {', '.join(applied)}.")
    else:
        console.print("The database is up to date; nothing to apply.")


@app.command("rotate-keys")
def rotate_keys() -> None:
    """Re-encrypt every stored token with the active TOKEN_VAULT_KEYS version."""
    from shared.app import application
    from shared.connections.vault import VaultError, rotate_all

    try:
        active = application().vault
        count = rotate_all(application().database, active)
    except VaultError as exc:
        raise _fail(f"Nothing was changed: {exc}") from None
    _console().print(f"Re-encrypted {count} stored secret(s) with key version {active.active_version}.")


@app.command("local-token")
def local_token(
    email: str = typer.Argument("me@example.test", help="The local user's email (created if new)"),
    hours: int = typer.Option(12, "--hours", min=1, max=24 * 7, help="How long the token stays valid"),
) -> None:
    """Print an access token for a user of the LOCAL stack (never works in production)."""
    from shared.auth import mint_local_token
    from shared.config import CoreSettings, load
    from shared.db import local as localdb

    settings = load(CoreSettings)
    if not settings.is_local:
        raise _fail("local-token only works with the local stack. In production, sign in with Supabase Auth.")
    secret = settings.supabase_jwt_secret
    if not secret:
        from shared.local_secrets import local_secrets

        secret = local_secrets()["SUPABASE_JWT_SECRET"]
    url = settings.database_url or localdb.with_dbname(localdb.start_embedded(), "shortpub")
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "insert into auth.users (email) values (%s) on conflict (email) do update set email = excluded.email "
            "returning id", (email,)).fetchone()
    assert row is not None
    typer.echo(mint_local_token(str(row[0]), email, secret=secret, ttl=hours * 3600))


def _service_key() -> str:
    """SUPABASE_SERVICE_ROLE_KEY; on the local stack a short-lived service-role token instead."""
    from shared.config import CoreSettings, load
    from shared.storage.settings import StorageSettings

    key = load(StorageSettings).supabase_service_role_key
    if key:
        return key
    settings = load(CoreSettings)
    if not settings.is_local:
        raise _fail("Set SUPABASE_SERVICE_ROLE_KEY to the project's service-role key to read the operator's numbers.")
    from shared.local_secrets import local_secrets
    from shared.ops.access import mint_service_token

    return mint_service_token(settings.supabase_jwt_secret or local_secrets()["SUPABASE_JWT_SECRET"])


def _shown(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "ratio":
        return f"{value:.1%}"
    if unit == "seconds":
        return f"{value:.0f} s"
    return f"{value / 1e9:.2f} GB"


@app.command()
def ops() -> None:
    """The operator's alerts: each one's current value and limit (GET /ops/metrics, service role only)."""
    from rich.table import Table

    from shared.cli.client import CliSettings
    from shared.config import load
    from shared.ops.alerts import BY_NAME

    settings = load(CliSettings)
    client = ApiClient(settings.shortpub_api_url, _service_key())
    try:
        answer = client.get("/ops/metrics")
    except CliError as exc:
        raise _fail(exc.message) from None
    finally:
        client.close()
    table = Table("alert", "now", "limit", "state")
    for row in answer["alerts"]:
        limit = ("> " if BY_NAME[row["alert"]].above else "< ") + _shown(row["threshold"], row["unit"])
        table.add_row(row["title"], _shown(row["value"], row["unit"]), limit,
                      "[red]ALERT[/red]" if row["breached"] else "ok")
    console = _console()
    console.print(table)
    console.print(f"{len(answer['breached'])} of {len(answer['alerts'])} alerts firing "
                  f"(measured {answer['measured_at']}).")
    if answer["breached"]:
        raise typer.Exit(3)


def main() -> None:
    app()
