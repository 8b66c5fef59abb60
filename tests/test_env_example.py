"""Every setting the code reads is listed in .env.example (with a comment)."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

from pydantic import AliasChoices
from pydantic_settings import BaseSettings

import shared

ROOT = Path(__file__).resolve().parents[1]


def _settings_classes() -> set[type[BaseSettings]]:
    for module in pkgutil.walk_packages(shared.__path__, prefix="shared."):
        if module.name.startswith("shared.local") or module.name.endswith("__main__"):
            continue  # the local stack generates its own values
        importlib.import_module(module.name)
    found: set[type[BaseSettings]] = set()
    pending = list(BaseSettings.__subclasses__())
    while pending:
        cls = pending.pop()
        if cls.__module__.startswith("shared."):
            found.add(cls)
        pending.extend(cls.__subclasses__())
    return found


def _env_names(cls: type[BaseSettings]) -> list[tuple[str, list[str]]]:
    """The env names of the fields a class itself declares (inherited template fields are the parent's)."""
    prefix = str(cls.model_config.get("env_prefix") or "")
    own = set(cls.__dict__.get("__annotations__", {}))
    names = []
    for field_name, info in cls.model_fields.items():
        alias = info.validation_alias
        if field_name not in own and alias is None:
            continue
        if isinstance(alias, AliasChoices):
            choices = [c for c in alias.choices if isinstance(c, str)]
            candidates = [c.upper() for c in choices] + [(prefix + c).upper() for c in choices]
        elif isinstance(alias, str):
            candidates = [alias.upper()]
        else:
            candidates = [(prefix + field_name).upper()]
        names.append((f"{cls.__name__}.{field_name}", candidates))
    return names


def test_every_setting_is_documented_in_env_example() -> None:
    text = (ROOT / ".env.example").read_text()
    documented = set(re.findall(r"^([A-Z][A-Z0-9_]*)=", text, flags=re.M))
    missing = [
        f"{where} ({' or '.join(candidates)})"
        for cls in _settings_classes()
        for where, candidates in _env_names(cls)
        if not documented.intersection(candidates)
    ]
    assert not missing, "settings missing from .env.example:\n" + "\n".join(sorted(missing))


def test_each_documented_setting_has_a_comment_and_appears_once() -> None:
    lines = (ROOT / ".env.example").read_text().splitlines()
    names = [line.split("=", 1)[0] for line in lines if re.match(r"^[A-Z][A-Z0-9_]*=", line)]
    assert len(names) == len(set(names)), sorted({n for n in names if names.count(n) > 1})
    for index, line in enumerate(lines):
        if re.match(r"^[A-Z][A-Z0-9_]*=", line):
            previous = [entry for entry in lines[:index] if entry.strip()][-1]
            assert previous.startswith("#") or re.match(r"^[A-Z][A-Z0-9_]*=", previous), line
