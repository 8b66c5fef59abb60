"""Google's resumable upload protocol, streamed from a MediaSource.

The session URI is the only state: asking it `bytes */<total>` tells how much it
holds (308 + Range), or that the upload is complete (200/201 + the video). So a
dropped connection, a 5xx or a crash anywhere resumes from what Google has,
never from what we think we sent. Memory stays at one read buffer whatever the
file size: request bodies are generators over `read_chunks`.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import httpx

from shared.log import get_logger
from shared.platforms.base import MediaSource
from shared.platforms.errors import PermanentError, PlatformError, TransientError
from shared.platforms.youtube import errors
from shared.platforms.youtube.settings import YouTubeSettings

log = get_logger(__name__)

_RANGE = re.compile(r"bytes=0-(\d+)")
_DONE = (200, 201)
_GONE = (404, 410)
_RETRY_STATUSES = (429, 500, 502, 503, 504)


class SessionGone(Exception):
    """The session expired or never existed: nothing was created, start a new one."""


class _Retryable(Exception):
    """A failure worth resuming after: a dropped connection or a 5xx."""

    def __init__(self, error: PlatformError, retry_after: float | None = None) -> None:
        super().__init__(error.code)
        self.error = error
        self.retry_after = retry_after


def redacted(session_uri: str) -> str:
    """A session URI is a credential for the upload: log only where it points."""
    return session_uri.split("?", 1)[0]


class ResumableUpload:
    def __init__(self, http: httpx.Client, settings: YouTubeSettings, access_token: str, *, now: datetime) -> None:
        self.http = http
        self.now = now  # the step's clock (`job.now`): a refusal's retry time is counted from it
        self.settings = settings
        self.auth = {"Authorization": f"Bearer {access_token}"}
        self._confirmed = -1   # the most bytes Google has confirmed holding (308 + Range)

    def status(self, session_uri: str, total: int) -> int | dict[str, Any]:
        """How far the session got: the next byte to send, or the video resource when complete.

        Raises SessionGone, or the classified error when Google could not be asked.
        """
        try:
            return self._status(session_uri, total)
        except _Retryable as exc:
            raise exc.error from exc

    def _status(self, session_uri: str, total: int) -> int | dict[str, Any]:
        try:
            response = self.http.put(
                session_uri,
                headers={**self.auth, "Content-Length": "0", "Content-Range": f"bytes */{total}"},
            )
        except httpx.TransportError as exc:
            raise _Retryable(errors.network_error(exc)) from exc
        return self._progress(response)

    def upload(self, session_uri: str, source: MediaSource, total: int) -> dict[str, Any] | int:
        """Send what the session lacks, resuming after drops and 5xx; return the video resource.

        Stalls are counted, not faults: a failed attempt after which Google confirms more
        bytes than before costs nothing, so a flaky link that keeps moving forward never
        runs out of retries. The step is bounded by time instead (`upload_step_seconds`):
        when it runs out after progress, the offset Google confirmed is returned and the
        next task delivery continues from there.

        Raises SessionGone (start a new session), TransientError (`upload_retry_attempts`
        attempts in a row moved nothing; the session stays valid for the next delivery)
        or the classified platform error.
        """
        settings = self.settings
        deadline = time.monotonic() + settings.upload_step_seconds
        stalls = 0                       # tries in a row that moved nothing
        error: _Retryable | None = None
        start: int | None = None         # what Google had when this step began
        sent_from: int | None = None     # where the last failed send started
        send_error: _Retryable | None = None
        backoff: _Retryable | None = None   # a failed send to wait after before the next one
        self._confirmed = -1
        while True:
            progress: int | dict[str, Any] | None = None
            try:
                # The status query is read-only: when it fails it is retried like any read.
                progress = self._status(session_uri, total)
            except _Retryable as exc:
                error = exc
            if isinstance(progress, dict):
                return progress
            if start is None and self._confirmed >= 0:
                start = self._confirmed
            if sent_from is not None and self._confirmed > sent_from:
                stalls, sent_from = 0, None   # the failed send moved the upload forward: not a stall
            if progress is None:
                stalls += 1
            # The time bound stops retrying, never a send that is streaming.
            if stalls >= settings.upload_retry_attempts or (error is not None and time.monotonic() >= deadline):
                # After a failed send the last bytes may have created the video: whatever the
                # status query said, the outcome is unknown (a transient error, reconciled).
                return self._give_up(session_uri, start, send_error or error)
            # Back off only before trying again, never before giving up.
            if progress is None:
                assert error is not None
                self._wait(stalls, error)
                continue
            if backoff is not None:
                self._wait(max(stalls, 1), backoff)
                backoff = None
            sent_from = progress
            try:
                return self._send_rest(session_uri, source, total, progress)
            except _Retryable as exc:
                error = send_error = backoff = exc
                stalls += 1

    def _give_up(self, session_uri: str, start: int | None, error: _Retryable | None) -> int:
        """After progress: the offset Google confirmed (the next delivery goes on). Else the error."""
        if (start is not None and self._confirmed > start) or error is None:
            log.info("youtube_upload_paused", session=redacted(session_uri), offset=self._confirmed)
            return max(self._confirmed, 0)
        log.warning("youtube_upload_stalled", session=redacted(session_uri), code=error.error.code)
        raise error.error from error

    def _wait(self, stalls: int, exc: _Retryable) -> None:
        settings = self.settings
        if exc.retry_after is not None:
            delay = min(exc.retry_after, settings.upload_retry_wait_max)
        else:
            delay = min(settings.upload_retry_wait_initial * 2 ** max(0, stalls - 1), settings.upload_retry_wait_max)
            delay += random.uniform(0, settings.upload_retry_wait_initial)  # noqa: S311 - jitter, not crypto
        time.sleep(delay)

    # ---------------------------------------------------------------- internals

    def _send_rest(self, session_uri: str, source: MediaSource, total: int, progress: int | dict[str, Any]
                   ) -> dict[str, Any]:
        while isinstance(progress, int):
            offset = progress
            end = total if not self.settings.upload_chunk_bytes else min(
                total, offset + self.settings.upload_chunk_bytes)
            headers = {
                **self.auth,
                "Content-Type": source.content_type or "video/*",
                "Content-Length": str(end - offset),
                "Content-Range": f"bytes {offset}-{end - 1}/{total}",
            }
            try:
                response = self.http.put(
                    session_uri, headers=headers, content=self._body(source, offset, end - offset)
                )
            except httpx.TransportError as exc:
                log.info("youtube_upload_interrupted", session=redacted(session_uri), offset=offset,
                         error=type(exc).__name__)
                raise _Retryable(errors.network_error(exc)) from exc
            progress = self._progress(response)
            if isinstance(progress, int) and progress <= offset:
                # The server kept nothing of a whole request: a failure to back off from, not a loop.
                raise _Retryable(TransientError(errors.RETRYING, platform=errors.PLATFORM, code="noProgress"))
        return progress

    def _progress(self, response: httpx.Response) -> int | dict[str, Any]:
        if response.status_code == 308:
            match = _RANGE.match(response.headers.get("Range", ""))
            offset = int(match.group(1)) + 1 if match else 0
            self._confirmed = max(self._confirmed, offset)
            return offset
        if response.status_code in _DONE:
            return dict(response.json())
        if response.status_code in _GONE:
            raise SessionGone(response.status_code)
        error = errors.classify(response, now=self.now)
        if response.status_code in _RETRY_STATUSES:
            wait = errors.retry_after_seconds(response, timedelta(0), self.now).total_seconds()
            raise _Retryable(error, retry_after=wait or None)
        raise error

    def _body(self, source: MediaSource, start: int, length: int) -> Iterator[bytes]:
        remaining = length
        pieces = source.read_chunks(start, self.settings.upload_read_bytes)
        try:
            for piece in pieces:
                if len(piece) > remaining:
                    piece = piece[:remaining]
                remaining -= len(piece)
                yield piece
                if remaining <= 0:
                    return
        finally:
            close = getattr(pieces, "close", None)
            if close is not None:
                close()
        if remaining > 0:
            raise PermanentError(
                "The stored video is shorter than expected, so it could not be sent to YouTube. "
                "Upload the video again, then publish.",
                platform=errors.PLATFORM, code="sourceTruncated", detail={"missing_bytes": remaining},
            )
