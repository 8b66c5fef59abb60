"""Meta's Graph API as Instagram and Facebook both use it: error envelope, rate-limit headers, calls.

Both platforms answer errors as `{"error": {"message", "type", "code",
"error_subcode", "error_user_title", "error_user_msg", "fbtrace_id"}}` and report
rate-limit recovery in `X-Business-Use-Case-Usage`. Each platform keeps its own
classification table (its `errors.py`); this module only reads answers and
applies a table, so a code is classified in exactly one place per platform.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar

import httpx

from shared.platforms.base import PublishJob
from shared.platforms.errors import PlatformError, QuotaError, TransientError


@dataclass(frozen=True)
class GraphErrorBody:
    code: int | None
    subcode: int | None
    message: str
    type: str = ""
    user_title: str = ""
    user_msg: str = ""
    fbtrace_id: str = ""
    is_transient: bool = False

    @property
    def code_text(self) -> str:
        """How we record it: "9/2207042", or "190" when there is no subcode."""
        if self.code is None:
            return str(self.subcode) if self.subcode else "unknown"
        return f"{self.code}/{self.subcode}" if self.subcode else str(self.code)

    def detail(self) -> dict[str, Any]:
        return {
            "message": self.message,
            "type": self.type,
            "code": self.code,
            "error_subcode": self.subcode,
            "error_user_title": self.user_title,
            "error_user_msg": self.user_msg,
            "fbtrace_id": self.fbtrace_id,
        }


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def parse_error(body: Any) -> GraphErrorBody | None:
    """The Graph error in a decoded JSON body, or None when the body is not one."""
    if not isinstance(body, Mapping) or not isinstance(body.get("error"), Mapping):
        return None
    error = body["error"]
    return GraphErrorBody(
        code=_int_or_none(error.get("code")),
        subcode=_int_or_none(error.get("error_subcode")),
        message=str(error.get("message") or ""),
        type=str(error.get("type") or ""),
        user_title=str(error.get("error_user_title") or ""),
        user_msg=str(error.get("error_user_msg") or ""),
        fbtrace_id=str(error.get("fbtrace_id") or ""),
        is_transient=bool(error.get("is_transient")),
    )


def regain_access_at(headers: Mapping[str, str], now: datetime) -> datetime | None:
    """When a Business Use Case rate limit lifts, from `X-Business-Use-Case-Usage`.

    The header maps business ids to lists of usage entries whose
    `estimated_time_to_regain_access` is in minutes; the longest wait wins.
    """
    raw = headers.get("x-business-use-case-usage")
    if not raw:
        return None
    try:
        usage = json.loads(raw)
    except ValueError:
        return None
    minutes = 0.0
    entries = usage.values() if isinstance(usage, Mapping) else []
    for entry_list in entries:
        for entry in entry_list if isinstance(entry_list, list) else [entry_list]:
            if isinstance(entry, Mapping):
                try:
                    minutes = max(minutes, float(entry.get("estimated_time_to_regain_access") or 0))
                except (TypeError, ValueError):
                    continue
    if minutes <= 0:
        return None
    return now + timedelta(minutes=minutes)


@dataclass(frozen=True)
class Rule:
    """How one Graph code (or code/subcode) is classified, with the user's message."""

    error: type[PlatformError]
    message: str
    # Quota errors without a header hint: how long to wait before trying again.
    default_wait: timedelta = timedelta(minutes=15)


class ErrorTable:
    """A platform's classification table: exact (code, subcode) first, then code, then ranges."""

    def __init__(
        self,
        platform: str,
        *,
        by_subcode: Mapping[int, Rule],
        by_code: Mapping[int, Rule],
        by_range: Mapping[tuple[int, int], Rule],
        fallback: Rule,
        server_error: Rule,
    ) -> None:
        self.platform = platform
        self.by_subcode = dict(by_subcode)
        self.by_code = dict(by_code)
        self.by_range = dict(by_range)
        self.fallback = fallback
        self.server_error = server_error

    def rule_for(self, code: int | None, subcode: int | None) -> Rule:
        if subcode is not None and subcode in self.by_subcode:
            return self.by_subcode[subcode]
        if code is not None:
            if code in self.by_code:
                return self.by_code[code]
            for (low, high), rule in self.by_range.items():
                if low <= code <= high:
                    return rule
        return self.fallback

    def error_class(self, code: str) -> type[PlatformError] | None:
        """How a code written as text ("190") is classified; None when the table does not list it."""
        number = _int_or_none(code)
        rule = self.rule_for(number, None) if number is not None else self.fallback
        return None if rule is self.fallback else rule.error

    def error_from(
        self,
        error: GraphErrorBody,
        *,
        status: int | None = None,
        headers: Mapping[str, str] | None = None,
        now: datetime,
    ) -> PlatformError:
        """The classified error; `now` is the step's clock (`job.now`): a quota's retry time is counted from it."""
        rule = self.rule_for(error.code, error.subcode)
        if rule is self.fallback and (error.is_transient or (status or 0) >= 500):
            rule = self.server_error
        retry_at = None
        if rule.error is QuotaError:
            retry_at = regain_access_at(headers or {}, now) or now + rule.default_wait
        return rule.error(
            rule.message,
            platform=self.platform,
            code=error.code_text,
            detail=error.detail(),
            retry_at=retry_at,
            status=status,
        )

    def from_response(self, response: httpx.Response, now: datetime) -> PlatformError:
        """Classify a failed HTTP answer, whatever its body looks like."""
        try:
            body = response.json()
        except ValueError:
            body = None
        error = parse_error(body)
        if error is not None:
            return self.error_from(error, status=response.status_code, headers=response.headers, now=now)
        if response.status_code >= 500 or response.status_code in (408, 429):
            rule = self.server_error
            if response.status_code == 429:
                retry = regain_access_at(response.headers, now) or now + rule.default_wait
                return QuotaError(
                    self.fallback_rate_message(), platform=self.platform, code=str(response.status_code),
                    detail=response.text[:500], retry_at=retry, status=response.status_code,
                )
            return rule.error(
                rule.message, platform=self.platform, code=str(response.status_code),
                detail=response.text[:500], status=response.status_code,
            )
        return self.fallback.error(
            self.fallback.message, platform=self.platform, code=str(response.status_code),
            detail=response.text[:500], status=response.status_code,
        )

    def fallback_rate_message(self) -> str:
        rule = self.by_code.get(4)
        return rule.message if rule else self.server_error.message

    def network_error(self, exc: Exception) -> TransientError:
        """A timeout or dropped connection: the platform may or may not have acted."""
        return TransientError(
            self.server_error.message,
            platform=self.platform,
            code="network",
            detail=f"{type(exc).__name__}: {exc}"[:300],
        )


# Meta reports how much of its rate limits an app (X-App-Usage) and a Page or account
# (X-Business-Use-Case-Usage) used, as percentages, and throttles at 100.
# https://developers.facebook.com/docs/graph-api/overview/rate-limiting
USAGE_THRESHOLD_PERCENT = 90.0
USAGE_HOLD = timedelta(minutes=5)


def usage_percent(headers: Mapping[str, str]) -> float:
    """The highest share of a Graph rate limit used, over both usage headers (0 when absent)."""
    highest = 0.0
    entries: list[Any] = []
    for name in ("x-app-usage", "x-business-use-case-usage"):
        raw = headers.get(name)
        if not raw:
            continue
        try:
            usage = json.loads(raw)
        except ValueError:
            continue
        if name == "x-app-usage":
            entries.append(usage)
        elif isinstance(usage, Mapping):
            for value in usage.values():
                entries.extend(value if isinstance(value, list) else [value])
    for entry in entries:
        if not isinstance(entry, Mapping):
            continue
        for field in ("call_count", "total_cputime", "total_time"):
            try:
                highest = max(highest, float(entry.get(field) or 0))
            except (TypeError, ValueError):
                continue
    return highest


class UsageGate:
    """Stops calls for an account once Meta says its usage is near the limit (NFR-6: no throttling).

    Fed by every answer's usage headers; asked before every call. It lives in one adapter
    instance (a worker process); the holds it learns (`fresh`) are handed to the pipeline after
    each step, which records them in the database so every instance defers while Meta says the
    app or the account is near its limit (shared/publishing/usage_holds.py).
    """

    def __init__(self) -> None:
        self.held_until: dict[str, datetime] = {}
        # Holds learnt since the pipeline last took them: scope ("app" or the account) -> until.
        self.fresh: dict[str, datetime] = {}

    def take_fresh(self, now: datetime) -> dict[str, timedelta]:
        """The holds learnt since the last call, as how long each still runs (the pipeline adds that
        to its own clock), for the pipeline to share with every instance."""
        fresh, self.fresh = self.fresh, {}
        return {key: until - now for key, until in fresh.items() if until > now}

    def check(self, table: ErrorTable, account: str, now: datetime) -> None:
        until = max((self.held_until.get(key, now) for key in (account, "app")), default=now)
        if until > now:
            raise QuotaError(table.fallback_rate_message(), platform=table.platform, code="usage_high",
                             detail={"held_until": until.isoformat()}, retry_at=until)

    def observe(self, account: str, headers: Mapping[str, str], now: datetime) -> None:
        regain = regain_access_at(headers, now)
        if regain is None and usage_percent(headers) < USAGE_THRESHOLD_PERCENT:
            return
        until = regain or now + USAGE_HOLD
        app_high = usage_percent({"x-app-usage": headers.get("x-app-usage", "")}) >= USAGE_THRESHOLD_PERCENT
        for key in ("app",) if app_high else (account,):
            self.held_until[key] = max(self.held_until.get(key, until), until)
            self.fresh[key] = self.held_until[key]


def call(
    http: httpx.Client,
    table: ErrorTable,
    method: str,
    url: str,
    *,
    token: str,
    scheme: str = "Bearer",
    gate: UsageGate | None = None,
    account: str = "",
    now: datetime,
    **kwargs: Any,
) -> dict[str, Any]:
    """One Graph request: the token goes in a header (never the URL, which gets logged).

    With a `gate`, the call is not made while Meta's usage for `account` (or the app) is near
    its limit; the answer's usage headers feed the gate. Any failure comes back as the
    platform's classified error. `now` is the caller's clock (`job.now` in a step, the
    collector's when reading metrics): the gate's holds and a refusal's retry time are measured on it.
    """
    if gate is not None:
        gate.check(table, account, now)
    headers = {"Authorization": f"{scheme} {token}", **kwargs.pop("headers", {})}
    try:
        response = http.request(method, url, headers=headers, **kwargs)
    except httpx.TransportError as exc:
        raise table.network_error(exc) from None
    if gate is not None and response.status_code < 400:
        # A refusal carries its own retry time (the worker defers on it); successes say how close we are.
        gate.observe(account, response.headers, now)
    if response.status_code >= 400:
        raise table.from_response(response, now)
    try:
        body = response.json()
    except ValueError:
        raise table.server_error.error(
            table.server_error.message, platform=table.platform, code="bad_json",
            detail=response.text[:300], status=response.status_code,
        ) from None
    error = parse_error(body)
    if error is not None:  # Graph occasionally wraps an error in a 200
        raise table.error_from(error, status=response.status_code, headers=response.headers, now=now)
    if not isinstance(body, dict):
        raise table.server_error.error(
            table.server_error.message, platform=table.platform, code="bad_json",
            detail=str(body)[:300], status=response.status_code,
        )
    return body


def graph_url(base: str, version: str, path: str) -> str:
    """A Graph API URL on a pinned version: `<base>/<version>/<path>`."""
    return f"{base.rstrip('/')}/{version}/{path.lstrip('/')}"


class GraphCalls:
    """For adapters on Meta's Graph API: one request helper with the adapter's error table."""

    error_table: ClassVar[ErrorTable]
    http: httpx.Client
    settings: Any

    @property
    def usage_gate(self) -> UsageGate:
        gate = self.__dict__.get("_usage_gate")
        if gate is None:
            gate = self.__dict__["_usage_gate"] = UsageGate()
        return gate

    def usage_holds(self, now: datetime) -> dict[str, timedelta]:
        """What Meta's usage headers said since the last step: scope ("app" or the account) -> how long
        no call should be made from `now`."""
        return self.usage_gate.take_fresh(now)

    def usage_hold_message(self) -> str:
        return self.error_table.fallback_rate_message()

    def _graph(self, method: str, path: str, job: PublishJob, **kwargs: Any) -> dict[str, Any]:
        return call(self.http, self.error_table, method, self.settings.graph_url(path),
                    token=job.credentials.access_token, gate=self.usage_gate,
                    account=job.credentials.account_id, now=job.now, **kwargs)
