"""A local SMTP server for `make run` and tests: every mail lands in a folder as .eml.

Mails are also kept in memory (`messages()`) so tests can read what was sent.
"""

from __future__ import annotations

import socket
import threading
import time
import uuid
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from types import TracebackType
from typing import Any

from aiosmtpd.controller import Controller

from shared.db.local import local_dir


class _SaveHandler:
    def __init__(self, server: LocalSmtpServer) -> None:
        self.server = server

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        self.server._save(envelope.content)
        return "250 Message accepted for delivery"


class LocalSmtpServer:
    def __init__(self, folder: Path | None = None, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.folder = Path(folder or local_dir() / "mail")
        self.host = host
        self.requested_port = port
        self.port = port
        self._controller: Controller | None = None
        self._messages: list[EmailMessage] = []
        self._lock = threading.Lock()
        self._counter = 0

    def start(self) -> LocalSmtpServer:
        if self._controller is not None:
            return self
        self.folder.mkdir(parents=True, exist_ok=True)
        if not self.port:
            # aiosmtpd's readiness check connects to the configured port, so it cannot be 0.
            with socket.socket() as sock:
                sock.bind((self.host, 0))
                self.port = int(sock.getsockname()[1])
        self._controller = Controller(_SaveHandler(self), hostname=self.host, port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()

    @property
    def running(self) -> bool:
        return self._controller is not None

    def _save(self, content: bytes) -> None:
        # SMTP carries CRLF line ends; files and tests read plain newlines.
        content = content.replace(b"\r\n", b"\n")
        message = message_from_bytes(content, policy=policy.default)
        with self._lock:
            self._counter += 1
            self._messages.append(message)  # type: ignore[arg-type]
            # Time first so a folder listing reads in order; the random part keeps restarts apart.
            name = f"{time.strftime('%Y%m%d-%H%M%S')}-{self._counter:05d}-{uuid.uuid4().hex[:8]}.eml"
        (self.folder / name).write_bytes(content)

    def messages(self) -> list[EmailMessage]:
        with self._lock:
            return list(self._messages)

    def clear(self) -> None:
        with self._lock:
            self._messages.clear()

    def __enter__(self) -> LocalSmtpServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def main() -> None:
    """`python -m shared.notify.local_smtp [port]`: catch mails in .local/mail until Ctrl-C."""
    import sys

    port = int(sys.argv[1]) if len(sys.argv) > 1 else 1025
    with LocalSmtpServer(port=port) as server:
        print(f"Local SMTP on {server.host}:{server.port}, mails saved to {server.folder}")
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
