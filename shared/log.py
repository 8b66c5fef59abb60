"""JSON logs, one object per line, in Google Cloud Logging's structured format.

Context (request_id, user_id, platform, post_id, target_id) is bound with
`bind_context` and appears on every line logged inside that request. Anything that
looks like a credential is redacted before a line is written.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any


def _import_structlog_without_rich() -> None:
    """Import structlog with `rich` hidden: structlog loads rich (~50 ms CPU, ~4 MB in every
    function's cold start) only to pretty-print console tracebacks, and our lines are JSON.
    Once structlog is loaded, rich is importable again (the CLI uses it)."""
    if "structlog" in sys.modules or "rich" in sys.modules:
        return
    sys.modules["rich"] = None  # type: ignore[assignment]  # makes `import rich` raise ImportError
    try:
        import structlog  # noqa: F401
    finally:
        del sys.modules["rich"]


_import_structlog_without_rich()

import structlog  # noqa: E402
from structlog.contextvars import bind_contextvars, clear_contextvars  # noqa: E402

_SEVERITY = {
    "debug": "DEBUG",
    "info": "INFO",
    "warning": "WARNING",
    "warn": "WARNING",
    "error": "ERROR",
    "critical": "CRITICAL",
    "exception": "ERROR",
}
_SECRET_KEY = re.compile(r"(token|secret|password|authorization|api[_-]?key|cookie|ciphertext|code_verifier)", re.I)
# Signed URLs and OAuth codes carry credentials in the query string.
_SECRET_QUERY = re.compile(
    r"([?&](?:token|access_token|sig|signature|code|client_secret|refresh_token|X-Goog-Signature)=)[^&\s\"']+",
    re.I,
)
_BEARER = re.compile(r"(Bearer|OAuth)\s+[A-Za-z0-9._~+/=-]+")


def redact(value: Any) -> Any:
    if isinstance(value, str):
        return _BEARER.sub(r"\1 [redacted]", _SECRET_QUERY.sub(r"\1[redacted]", value))
    if isinstance(value, dict):
        return {k: ("[redacted]" if _SECRET_KEY.search(str(k)) else redact(v)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    return value


def _redact_processor(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> Mapping[str, Any]:
    return redact(event_dict)  # type: ignore[no-any-return]


def _cloud_logging_fields(_: Any, method: str, event_dict: MutableMapping[str, Any]) -> Mapping[str, Any]:
    event_dict["severity"] = _SEVERITY.get(event_dict.pop("level", method), "DEFAULT")
    event_dict["message"] = event_dict.pop("event", "")
    return event_dict


def configure(level: str = "INFO", stream: Any = None) -> None:
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True, key="time"),
            structlog.processors.format_exc_info,
            _redact_processor,
            _cloud_logging_fields,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelNamesMapping()[level.upper()]),
        logger_factory=structlog.PrintLoggerFactory(file=stream or sys.stdout),
        cache_logger_on_first_use=False,
    )


def get_logger(name: str | None = None) -> Any:
    return structlog.get_logger(name)


def bind_context(**fields: Any) -> None:
    """Attach request-scoped fields (request_id, user_id, platform, post_id, target_id)."""
    bind_contextvars(**{k: str(v) for k, v in fields.items() if v is not None})


def clear_context() -> None:
    clear_contextvars()


def _current_request_id() -> str | None:
    value = structlog.contextvars.get_contextvars().get("request_id")
    return str(value) if value is not None else None


configure()
