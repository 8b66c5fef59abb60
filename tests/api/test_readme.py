"""The README's OAuth scopes table lists every scope each provider actually requests."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_scopes_table_lists_every_requested_scope() -> None:
    from shared.platforms import providers

    rows = {line.split("|")[2].strip(" `"): line for line in (ROOT / "README.md").read_text().splitlines()
            if line.startswith("| ") and line.count("|") >= 6}
    missing = {}
    for key, provider in providers().items():
        scopes = getattr(provider, "DEFAULT_SCOPES", ())
        if not scopes:
            continue
        row = rows.get(key, "")
        absent = [scope for scope in scopes if f"`{scope.rsplit('/', 1)[-1]}`" not in row]
        if absent:
            missing[key] = absent
    assert missing == {}
