"""What every platform simulator shares: accounts, tokens, fault injection, records.

One `Sandbox` holds the state of all simulated platforms in a server process.
Platform modules (`sandbox/<platform>.py`) each define `register(app, sandbox)`
and add their routes under their own URL prefix; `sandbox.server` mounts every
module it finds, so adding a platform means adding one module.

Faults are asked for per request: `POST /_sandbox/faults` with
`{"platform": "youtube", "operation": "upload", "kind": "reset", "times": 1}`.
Generic kinds handled here: `timeout` (hang, then 504), `reset` (drop the
connection, optionally after reading `after_bytes` of the body), `status`
(any status and body) and `slow` (the request succeeds on the platform, but the
answer comes `delay_s` later: a worker that dies or times out meanwhile does not
know that its call took effect). Any fault may wait for the n-th matching request
(`skip`: that many pass first) or hit a random share of them (`rate`, drawn from
`Sandbox.random`, which a test may seed), and several faults on one operation apply in the
order they were added, so a test can script "429, then 401, then 5xx" for one read.
Platform modules add their own kinds (`server_error`, `rate_limited`, `expired_token`,
`quota`, `processing_error`, `rejected_codec`, ...) and answer them with the platform's
real error bodies.
"""

from __future__ import annotations

import hashlib
import random
import secrets
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import httpx
from flask import Flask, Response, g, has_request_context, jsonify, request


class ConnectionDropped(Exception):
    """Raised after the sandbox closed the client's connection on purpose."""


@dataclass
class Fault:
    platform: str
    operation: str = "*"          # an operation name the platform module uses, or "*"
    kind: str = "server_error"
    times: int = 1                # how many matching requests get it (-1: all)
    skip: int = 0                 # let this many matching requests through first (fault the n-th call)
    rate: float | None = None     # hit only this share of matching requests, at random (chaos runs)
    delay_s: float = 5.0          # for "timeout"
    after_bytes: int | None = None  # for "reset" during an upload
    status: int | None = None     # for "status"
    body: Any = None              # for "status"
    params: dict[str, Any] = field(default_factory=dict)
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])


@dataclass
class Token:
    value: str
    platform: str
    account_id: str
    kind: str = "access"          # or "refresh"
    expires_at: float = 0.0
    scopes: tuple[str, ...] = ()
    revoked: bool = False


class TokenProblem(Exception):
    def __init__(self, reason: str) -> None:  # "missing", "invalid", "expired", "revoked"
        super().__init__(reason)
        self.reason = reason


class Sandbox:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.faults: list[Fault] = []
            self.published: list[dict[str, Any]] = []
            self.tokens: dict[str, Token] = {}
            self.accounts: dict[tuple[str, str], dict[str, Any]] = {}
            self.config: dict[str, Any] = {"processing_seconds": 0.2}
            self.stores: dict[str, dict[str, Any]] = {}
            self.requests: list[dict[str, Any]] = []
            self.calls_faulted: list[tuple[str, str, str]] = []
            # Decides which requests a `rate` fault hits; seed it (`seed`) to replay a chaos run.
            self.random = random.Random()
            # A test that drives time sets this (a callable answering unix time); see `now`.
            self.clock_source: Callable[[], float] | None = None

    def now(self, platform: str | None = None) -> float:
        """The sandbox's time for scheduled publishing and processing: the wall clock, unless a
        test drives time (`clock_source`, or the `clock` setting as a unix time)."""
        source = self.clock_source
        if source is not None:
            return source()
        return float(self.setting("clock", platform) or time.time())

    def processing_clock(self) -> float:
        """The clock processing times run on: the driven clock when a test drives one, else the wall."""
        source = self.clock_source
        return source() if source is not None else time.time()

    def processing_seconds(self, platform: str, key: str) -> float:
        """How long the platform processes one object: `<platform>.processing_range` ([low, high]
        seconds, drawn once per object, for realistic spreads), else `processing_seconds`."""
        spread = self.setting("processing_range", platform)
        if not spread:
            return float(self.setting("processing_seconds", platform, 0.2))
        with self.lock:
            drawn = self.store(platform).setdefault("_processing", {})
            if key not in drawn:
                drawn[key] = self.random.uniform(float(spread[0]), float(spread[1]))
            return float(drawn[key])

    # -- state each platform module keeps for itself
    def store(self, platform: str) -> dict[str, Any]:
        with self.lock:
            return self.stores.setdefault(platform, {})

    def setting(self, name: str, platform: str | None = None, default: Any = None) -> Any:
        with self.lock:
            if platform and f"{platform}.{name}" in self.config:
                return self.config[f"{platform}.{name}"]
            return self.config.get(name, default)

    # -- accounts and tokens
    def add_account(self, platform: str, account_id: str | None = None, **attrs: Any) -> dict[str, Any]:
        account_id = account_id or str(secrets.randbelow(10**15) + 10**15)
        with self.lock:
            account = {"id": account_id, "platform": platform, **attrs}
            self.accounts[(platform, account_id)] = account
            return account

    def account(self, platform: str, account_id: str) -> dict[str, Any] | None:
        with self.lock:
            return self.accounts.get((platform, account_id))

    def mint_token(
        self, platform: str, account_id: str, *, kind: str = "access", ttl: float = 3600, scopes: tuple[str, ...] = ()
    ) -> Token:
        token = Token(
            value=f"sbx-{platform}-{kind}-{secrets.token_urlsafe(24)}",
            platform=platform,
            account_id=account_id,
            kind=kind,
            expires_at=time.time() + ttl,
            scopes=scopes,
        )
        with self.lock:
            self.tokens[token.value] = token
        return token

    def check_token(self, platform: str, value: str | None, kind: str = "access") -> Token:
        if not value:
            raise TokenProblem("missing")
        with self.lock:
            token = self.tokens.get(value)
        if token is None or token.platform != platform or token.kind != kind:
            raise TokenProblem("invalid")
        if token.revoked:
            raise TokenProblem("revoked")
        if token.expires_at < time.time():
            raise TokenProblem("expired")
        return token

    def revoke_account_tokens(self, platform: str, account_id: str) -> None:
        with self.lock:
            for token in self.tokens.values():
                if token.platform == platform and token.account_id == account_id:
                    token.revoked = True

    # -- faults
    def add_fault(self, fault: Fault) -> Fault:
        with self.lock:
            self.faults.append(fault)
        return fault

    def take_fault(self, platform: str, operation: str,
                   applies: Callable[[Fault], bool] | None = None) -> Fault | None:
        """The first live fault for this request, used up by one; None when there is none.

        `applies` lets a platform module narrow a fault further (an offset, a chunk).
        """
        with self.lock:
            for fault in self.faults:
                if fault.platform != platform or fault.operation not in ("*", operation) or fault.times == 0:
                    continue
                if applies is not None and not applies(fault):
                    continue
                if fault.rate is not None and self.random.random() >= fault.rate:
                    continue
                if fault.skip > 0:
                    # This request passes untouched; the fault (and any added after it for the
                    # same calls) waits for a later one.
                    fault.skip -= 1
                    return None
                if fault.times > 0:
                    fault.times -= 1
                self.calls_faulted.append((platform, operation, fault.kind))
                if fault.kind == "slow":
                    # Handled after the platform did its work: see register_control.
                    if has_request_context():
                        g.delay_response = fault.delay_s
                    return None
                return fault
        return None

    # -- what was published (tests assert "exactly one post")
    def record_publish(self, platform: str, account_id: str, post_id: str, **info: Any) -> dict[str, Any]:
        entry = {"platform": platform, "account_id": account_id, "post_id": post_id, "at": self.processing_clock(),
                 **info}
        with self.lock:
            self.published.append(entry)
        return entry

    def published_for(self, platform: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(p) for p in self.published if platform is None or p["platform"] == platform]


# ------------------------------------------------------------------------ request helpers


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    for scheme in ("Bearer ", "OAuth "):
        if header.startswith(scheme):
            return header[len(scheme):].strip()
    return request.args.get("access_token") or request.form.get("access_token")


def drop_connection() -> None:
    """Close the client's TCP connection without an answer, as a network failure would."""
    sock = request.environ.get("werkzeug.socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        sock.close()
    raise ConnectionDropped()


def generic_fault(fault: Fault, read_body: Callable[[int], int] | None = None) -> Response | None:
    """Carry out the kinds every platform shares; None means the caller handles the kind."""
    if fault.kind == "timeout":
        time.sleep(fault.delay_s)
        return Response("gateway timeout", status=504)
    if fault.kind == "reset":
        if fault.after_bytes and read_body is not None:
            read_body(fault.after_bytes)
        drop_connection()
    if fault.kind == "status":
        body = fault.body if fault.body is not None else {}
        return Response(
            body if isinstance(body, str) else __import__("json").dumps(body),
            status=fault.status or 500,
            content_type="application/json" if not isinstance(body, str) else "text/plain",
        )
    return None


def fetch_video(url: str, timeout: float = 60.0) -> dict[str, Any]:
    """Download a video the way a platform does (follows no redirects), hashing as it goes."""
    digest = hashlib.sha256()
    size = 0
    with httpx.stream("GET", url, timeout=timeout, follow_redirects=False) as response:
        if response.status_code != 200:
            return {"ok": False, "status": response.status_code, "size": 0, "sha256": None}
        for chunk in response.iter_bytes(1024 * 1024):
            digest.update(chunk)
            size += len(chunk)
    return {"ok": True, "status": 200, "size": size, "sha256": digest.hexdigest()}


# ------------------------------------------------------------------------- control API


def register_control(app: Flask, sb: Sandbox) -> None:
    @app.post("/_sandbox/reset")
    def _reset() -> Response:
        sb.reset()
        return jsonify(ok=True)

    @app.post("/_sandbox/faults")
    def _add_fault() -> Response:
        fault = sb.add_fault(Fault(**request.get_json(force=True)))
        return jsonify(asdict(fault))

    @app.delete("/_sandbox/faults")
    def _clear_faults() -> Response:
        with sb.lock:
            sb.faults.clear()
        return jsonify(ok=True)

    @app.get("/_sandbox/published")
    def _published() -> Response:
        return jsonify(items=sb.published_for(request.args.get("platform")))

    @app.post("/_sandbox/config")
    def _config() -> Response:
        with sb.lock:
            sb.config.update(request.get_json(force=True))
            return jsonify(sb.config)

    @app.post("/_sandbox/accounts")
    def _account() -> Response:
        body = dict(request.get_json(force=True))
        platform = body.pop("platform")
        return jsonify(sb.add_account(platform, body.pop("id", None), **body))

    @app.post("/_sandbox/tokens")
    def _token() -> Response:
        body = request.get_json(force=True)
        token = sb.mint_token(
            body["platform"],
            body["account_id"],
            kind=body.get("kind", "access"),
            ttl=float(body.get("ttl", 3600)),
            scopes=tuple(body.get("scopes", ())),
        )
        return jsonify(access_token=token.value, expires_at=token.expires_at)

    @app.after_request
    def _slow_answer(response: Response) -> Response:
        delay = g.pop("delay_response", None)
        if delay:
            time.sleep(float(delay))
        return response

    @app.errorhandler(ConnectionDropped)
    def _dropped(_: ConnectionDropped) -> Response:
        return Response(status=499)
