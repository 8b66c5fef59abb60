"""A TCP proxy on loopback that breaks connections off in the middle of a request body.

    proxy = FaultProxy(upstream_port, cut_at=[10_500_000, 77_300_000])
    ...  # clients talk to proxy.url instead of the server
    proxy.cuts  # how many connections it broke off
    proxy.stop()

`cut_at` are positions in the stream of bytes clients send (counted over all
connections, headers included). When a connection carries the stream past the next
position, the proxy forwards up to it and then closes both sides without a reply: to
the client it is a dropped network, to the server a client that went away mid-chunk.
"""

from __future__ import annotations

import contextlib
import socket
import threading

_BUFFER = 64 * 1024


class FaultProxy:
    def __init__(self, upstream_port: int, *, cut_at: list[int] | None = None,
                 upstream_host: str = "127.0.0.1") -> None:
        self.upstream = (upstream_host, upstream_port)
        self.cut_at = sorted(cut_at or [])
        self.sent = 0
        self.cuts = 0
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._open: set[socket.socket] = set()
        self._stopping = False
        threading.Thread(target=self._accept, name="fault-proxy", daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while not self._stopping:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.upstream)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._open.update((client, server))
            threading.Thread(target=self._upstream, args=(client, server), daemon=True).start()
            threading.Thread(target=self._downstream, args=(server, client), daemon=True).start()

    def _allowance(self, wanted: int) -> tuple[int, bool]:
        """How many of `wanted` bytes may pass before the next cut, and whether to cut after them."""
        with self._lock:
            if self.cut_at and self.sent + wanted >= self.cut_at[0]:
                allowed = max(0, self.cut_at.pop(0) - self.sent)
                self.sent += allowed
                self.cuts += 1
                return allowed, True
            self.sent += wanted
            return wanted, False

    def _upstream(self, client: socket.socket, server: socket.socket) -> None:
        try:
            while data := client.recv(_BUFFER):
                allowed, cut = self._allowance(len(data))
                if allowed:
                    server.sendall(data[:allowed])
                if cut:
                    break
        except OSError:
            pass
        self._close(client, server)

    def _downstream(self, server: socket.socket, client: socket.socket) -> None:
        try:
            while data := server.recv(_BUFFER):
                client.sendall(data)
        except OSError:
            pass
        self._close(client, server)

    def _close(self, *sockets: socket.socket) -> None:
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()
            with self._lock:
                self._open.discard(sock)

    def stop(self) -> None:
        self._stopping = True
        with contextlib.suppress(OSError):
            self._listener.close()
        with self._lock:
            leftover = list(self._open)
        self._close(*leftover)
