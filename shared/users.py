"""The signed-in user a service acts for: who the edge (shared/http.py) verified the request to come from.

Below every service, so services take a `User` without importing the HTTP edge.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class User:
    id: str
    email: str | None
    claims: dict[str, Any] = field(default_factory=dict)
