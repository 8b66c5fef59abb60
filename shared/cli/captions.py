"""Caption suggestions in the terminal: ask for them, show them with their counts, use them to publish."""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text

from shared.cli.client import ApiClient

UNIT_WORDS = {"chars": "characters", "utf16": "characters", "bytes": "bytes"}


def ask(client: ApiClient, video_id: str, platforms: list[str], *, brief: str | None = None,
        language: str | None = None, tone: str | None = None, campaign: str | None = None) -> dict[str, Any]:
    body = {"video_id": video_id, "platforms": platforms, "brief": brief or None, "language": language,
            "tone": tone, "campaign": campaign}
    return dict(client.post("/captions", {k: v for k, v in body.items() if v is not None}))


def count_text(count: dict[str, Any]) -> Text:
    words = f"{count['field']}: {count['length']} / {count['max_length']} {UNIT_WORDS.get(count['unit'], '')}"
    return Text(words, style="green" if count["fits"] else "red")


def suggestions_table(answer: dict[str, Any]) -> Table:
    source = "Gemini" if answer.get("source") == "gemini" else "the built-in writer"
    table = Table(title=f"Suggestions by {source} ({answer.get('language')}, {answer.get('tone')})",
                  title_justify="left", show_lines=True)
    for column in ("Platform", "Caption", "Hashtags", "Length"):
        table.add_column(column, overflow="fold")
    for item in answer.get("suggestions", []):
        caption = Text()
        if item.get("title"):
            caption.append(item["title"] + "\n", style="bold")
        caption.append(item["caption"])
        for note in item.get("notes", []):
            caption.append("\n" + note, style="italic cyan")
        counts = Text("\n").join(count_text(c) for c in item.get("counts", []))
        table.add_row(item["display_name"], caption, " ".join(f"#{t}" for t in item["hashtags"]), counts)
    return table


def targets_from(answer: dict[str, Any], title: str | None = None) -> dict[str, dict[str, Any]]:
    """Platform → the publish target fields (caption, title, hashtags) a suggestion fills."""
    found = {}
    for item in answer.get("suggestions", []):
        found[item["platform"]] = {"caption": item["caption"], "hashtags": item["hashtags"],
                                   "title": title or item.get("title")}
    return found
