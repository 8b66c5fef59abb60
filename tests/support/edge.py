"""A service called directly in a test, answered as the HTTP edge answers it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from shared.errors import DomainError
from shared.http import as_api_error


@contextmanager
def as_answered() -> Iterator[None]:
    """A domain error a service raises becomes the ApiError (status, code, message) the edge sends."""
    try:
        yield
    except DomainError as exc:
        answer = as_api_error(exc)
        assert answer is not None
        raise answer from exc
