"""`ApiError`: an answer only the HTTP edge gives, with its HTTP status.

Its own module, below every service, so that the edge (shared/http.py, shared/api/dispatch.py)
and the few services still raising it need not import each other.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An answer only the edge gives (sign-in, body, content type, address): the status is HTTP's own.

    Services raise domain errors (shared/errors.py) instead; `ERROR_STATUS` turns them into answers.
    """

    def __init__(self, status: int, code: str, message: str, detail: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.detail = detail
