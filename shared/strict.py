"""What every request body and query string must be, whichever route takes it.

The edge (shared/http.py) runs these checks for every model it parses, so a route
added later gets them without doing anything:

- unknown fields are refused with a hint at the closest known one ("did you mean
  publish_at?"), nested models included: a misspelt `publish_at` must never mean
  "publish now";
- text with a NUL character is refused (PostgreSQL cannot store it) wherever it is.

Request models also derive from `StrictModel`, so the OpenAPI document says
`additionalProperties: false` and clients see the rule before they call.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Iterator, Mapping
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict

NUL_MESSAGE = "text contains a NUL character"


class StrictModel(BaseModel):
    """A model that takes input: unknown fields are an error, never silently dropped."""

    model_config = ConfigDict(extra="forbid")


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError(NUL_MESSAGE)
    return value


# One string type for text a user types; the edge applies the same rule to every string anyway.
UserText = Annotated[str, AfterValidator(_no_nul)]


def nul_fields(value: Any, path: str = "") -> Iterator[str]:
    """Where a parsed JSON value (or query string) holds a NUL character, as dotted paths."""
    if isinstance(value, str):
        if "\x00" in value:
            yield path or "request"
    elif isinstance(value, Mapping):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if "\x00" in str(key):
                yield where
            yield from nul_fields(item, where)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from nul_fields(item, f"{path}.{index}" if path else str(index))


def _field_names(model: type[BaseModel]) -> dict[str, str]:
    """Every name a field may be sent under (its alias, or its own name) → the field's name."""
    names = {}
    for name, info in model.model_fields.items():
        names[info.alias or name] = name
        if info.alias and model.model_config.get("populate_by_name"):
            names[name] = name
    return names


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The models a field's value may be (a model, a list of models, an optional model...)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        base, *metadata = typing.get_args(annotation)
        # A union read when it is used (the publish request's targets: every platform registered then).
        live = [meta.models() for meta in metadata if callable(getattr(meta, "models", None))]
        return list(live[0]) if live else _models_in(base)
    if origin in (list, tuple, set, frozenset, typing.Union, types.UnionType):
        found: list[type[BaseModel]] = []
        for arg in typing.get_args(annotation):
            found += _models_in(arg)
        return found
    return []


# Names other scheduling APIs use for our fields: a client ported from one of them gets pointed at ours.
KNOWN_ALIASES = {
    "scheduled_at": "publish_at", "schedule_at": "publish_at", "scheduled_time": "publish_at",
    "scheduledtime": "publish_at", "publish_time": "publish_at", "publishat": "publish_at", "post_at": "publish_at",
    "scheduled_for": "publish_at", "tz": "timezone", "time_zone": "timezone", "text": "caption",
    "privacy": "privacy_level", "privacylevel": "privacy_level", "tags": "hashtags", "videoid": "video_id",
    "platforms": "targets",
}


def suggestion(name: str, known: list[str]) -> str:
    alias = KNOWN_ALIASES.get(name.lower())
    close = [alias] if alias in known else difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    return f"; did you mean {close[0]}?" if close else ""


def _matching(models: list[type[BaseModel]], data: Any) -> type[BaseModel] | None:
    """The one model `data` is meant for: the only candidate, or the one whose literal tag it carries."""
    if len(models) == 1:
        return models[0]
    if not isinstance(data, Mapping):
        return None
    fitting = []
    for model in models:
        tags = {name: typing.get_args(info.annotation) for name, info in model.model_fields.items()
                if typing.get_origin(info.annotation) is Literal}
        if tags and all(data.get(name) in values for name, values in tags.items()):
            fitting.append(model)
    return fitting[0] if len(fitting) == 1 else None


def unknown_fields(model: type[BaseModel], data: Any, path: str = "") -> Iterator[dict[str, str]]:
    """Fields in `data` that `model` does not have, each with a hint when one is close.

    Only walks into nested models when their place is unambiguous (one model type);
    pydantic's own extra="forbid" covers the rest.
    """
    if not isinstance(data, Mapping):
        return
    names = _field_names(model)
    known = sorted(names)
    for key, value in data.items():
        where = f"{path}.{key}" if path else str(key)
        if key not in names:
            if model.model_config.get("extra") != "allow":
                yield {"field": where, "problem": f"unknown field{suggestion(str(key), known)}"}
            continue
        nested = _models_in(model.model_fields[names[key]].annotation)
        for index, item in enumerate(value) if isinstance(value, list) else [(None, value)]:
            chosen = _matching(nested, item)
            if chosen is not None:
                yield from unknown_fields(chosen, item, where if index is None else f"{where}.{index}")


def forbids_unknown_fields(model: type[BaseModel], seen: set[type[BaseModel]] | None = None) -> list[str]:
    """The models (this one and those inside it) that would drop unknown fields: should be empty."""
    seen = seen if seen is not None else set()
    if model in seen:
        return []
    seen.add(model)
    lax = [] if model.model_config.get("extra") == "forbid" else [model.__name__]
    for info in model.model_fields.values():
        for nested in _models_in(info.annotation):
            lax += forbids_unknown_fields(nested, seen)
    return lax
