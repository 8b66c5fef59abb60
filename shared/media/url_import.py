"""Fetch a video from a user-supplied URL without letting the URL reach our own network (SSRF).

Every hop is checked before anything is sent: the scheme (https only outside local
mode), the host name, and every address it resolves to. We resolve DNS ourselves and
connect to the address we checked (the certificate is still verified against the host
name), so a name cannot resolve to a public address for the check and a private one
for the connection. Redirects are followed by hand and checked the same way. The body
is streamed with a size limit and an overall deadline.

Refused: loopback, private (RFC 1918, ULA), link-local (incl. 169.254.169.254 cloud
metadata), CGNAT 100.64/10, multicast, reserved, unspecified and any other non-global
address, in IPv4 and IPv6, including IPv4 inside IPv6 (mapped, NAT64, 6to4, Teredo).
"""

from __future__ import annotations

import ipaddress
import posixpath
import socket
import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx

from shared.log import get_logger
from shared.storage.base import human_size

log = get_logger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]

_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_BLOCKED_NAMES = {"metadata.google.internal", "metadata", "instance-data", "localhost"}
_REDIRECTS = {301, 302, 303, 307, 308}
_IMPORT_HEADERS = {"User-Agent": "shortpub-import/1.0", "Accept": "video/*, */*"}


class ImportRefused(ValueError):
    """The URL can't be imported; the message is for the user."""

    def __init__(self, message: str, reason: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason or message


_NOT_PUBLIC = "We can only import videos from public internet addresses. Please use a public link to the video."


@dataclass(frozen=True)
class UrlPolicy:
    allow_http: bool = False
    # Networks let through despite the rules (the local stack's own file server, tests).
    allowed_networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    max_bytes: int = 1024 * 1024 * 1024
    timeout_seconds: float = 600.0          # whole download
    connect_timeout_seconds: float = 10.0
    read_timeout_seconds: float = 30.0      # silence between two pieces of the body
    max_redirects: int = 5
    blocked_names: frozenset[str] = field(default_factory=lambda: frozenset(_BLOCKED_NAMES))


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def forbidden_reason(ip: IPAddress) -> str | None:
    """Why this address is off limits, or None when it is a public unicast address."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:  # ::ffff:a.b.c.d is the IPv4 address itself
            return forbidden_reason(ip.ipv4_mapped)
        embedded = ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            inner = forbidden_reason(embedded)
            if inner:
                return f"{inner} (inside IPv6)"
    if isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT:
        return "shared address space (CGNAT)"
    for check, name in (
        ("is_unspecified", "unspecified"),
        ("is_loopback", "loopback"),
        ("is_link_local", "link-local (incl. cloud metadata)"),
        ("is_multicast", "multicast"),
        ("is_private", "private"),
        ("is_reserved", "reserved"),
    ):
        if getattr(ip, check):
            return name
    if not ip.is_global:
        return "not a public address"
    return None


@dataclass(frozen=True)
class Hop:
    url: str
    host: str
    port: int
    address: str


def check_url(url: str, policy: UrlPolicy, resolver: Resolver) -> Hop:
    """Refuse unless the URL's scheme, name and every resolved address are allowed."""
    parts = urllib.parse.urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme != "https" and not (scheme == "http" and policy.allow_http):
        raise ImportRefused("Please use a secure https:// link to the video.", f"scheme {scheme!r}")
    host = (parts.hostname or "").rstrip(".").lower()
    if not host or parts.username or parts.password:
        raise ImportRefused("That link is not a valid web address.", "no host or credentials in URL")
    port = parts.port or (443 if scheme == "https" else 80)
    try:
        literal: IPAddress | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is None and (host in policy.blocked_names or host.endswith((".localhost", ".internal"))):
        raise ImportRefused(_NOT_PUBLIC, f"blocked name {host}")
    try:
        addresses = [literal] if literal else [ipaddress.ip_address(a.split("%")[0]) for a in resolver(host, port)]
    except (OSError, ValueError, UnicodeError):
        raise ImportRefused("We couldn't find the server in that link. Please check the address.",
                            f"dns failed for {host}") from None
    if not addresses:
        raise ImportRefused("We couldn't find the server in that link. Please check the address.", "no address")
    for address in addresses:
        if any(address in network for network in policy.allowed_networks):
            continue
        reason = forbidden_reason(address)
        if reason:
            raise ImportRefused(_NOT_PUBLIC, f"{host} -> {address}: {reason}")
    return Hop(url=url, host=host, port=port, address=str(addresses[0]))


def pinned_request(client: httpx.Client, hop: Hop, *, method: str = "GET", headers: dict[str, str] | None = None,
                   content: bytes | None = None) -> httpx.Request:
    """A request to the checked address; Host header and TLS name stay the original host."""
    parts = urllib.parse.urlsplit(hop.url)
    address = f"[{hop.address}]" if ":" in hop.address else hop.address
    netloc = f"{address}:{hop.port}"
    pinned = urllib.parse.urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
    host_header = hop.host if parts.port is None else f"{hop.host}:{hop.port}"
    return client.build_request(
        method, pinned, headers={"Host": host_header, **(headers or {})}, content=content,
        extensions={"sni_hostname": hop.host},
    )


@dataclass
class Download:
    chunks: Iterator[bytes]
    content_length: int | None
    content_type: str
    filename: str
    final_url: str


@contextmanager
def open_url(url: str, policy: UrlPolicy, *, resolver: Resolver = system_resolver) -> Iterator[Download]:
    """Open `url` safely; iterate `download.chunks` to stream the body (limits enforced as it flows)."""
    deadline = time.monotonic() + policy.timeout_seconds
    timeout = httpx.Timeout(policy.read_timeout_seconds, connect=policy.connect_timeout_seconds)
    with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as client:
        current = url
        for _ in range(policy.max_redirects + 1):
            hop = check_url(current, policy, resolver)
            try:
                response = client.send(pinned_request(client, hop, headers=_IMPORT_HEADERS), stream=True)
            except httpx.TimeoutException:
                raise ImportRefused("The server of that link took too long to answer. Please try again later.",
                                    "timeout") from None
            except httpx.HTTPError as exc:
                raise ImportRefused("We couldn't connect to the server in that link. Please check the address.",
                                    type(exc).__name__) from None
            if response.status_code in _REDIRECTS and "location" in response.headers:
                response.close()
                current = urllib.parse.urljoin(current, response.headers["location"])
                continue
            break
        else:
            raise ImportRefused("That link redirects too many times. Please use a direct link to the video.",
                                "too many redirects")
        try:
            if response.status_code != 200:
                raise ImportRefused(
                    f"The server of that link answered with an error ({response.status_code}). "
                    "Please check the link works in a browser and is public.", f"status {response.status_code}")
            length_header = response.headers.get("content-length")
            length = int(length_header) if length_header and length_header.isdigit() else None
            if length is not None and length > policy.max_bytes:
                raise _too_large(policy.max_bytes)
            name = posixpath.basename(urllib.parse.urlsplit(current).path) or "video.mp4"
            yield Download(
                chunks=_guarded_chunks(response, policy, deadline),
                content_length=length,
                content_type=response.headers.get("content-type", "application/octet-stream").split(";")[0],
                filename=urllib.parse.unquote(name),
                final_url=current,
            )
        finally:
            response.close()


def _too_large(limit: int) -> ImportRefused:
    return ImportRefused(f"That video is larger than {human_size(limit)}, the most we can import. "
                         "Please use a shorter or smaller version.", "too large")


def _guarded_chunks(response: httpx.Response, policy: UrlPolicy, deadline: float) -> Iterator[bytes]:
    total = 0
    try:
        for chunk in response.iter_bytes(1024 * 1024):
            total += len(chunk)
            if total > policy.max_bytes:
                raise _too_large(policy.max_bytes)
            if time.monotonic() > deadline:
                raise ImportRefused("Downloading that video took too long. Please try a smaller file or another "
                                    "link.", "deadline")
            yield chunk
    except httpx.TimeoutException:
        raise ImportRefused("The server of that link stopped sending the video. Please try again later.",
                            "read timeout") from None
    except httpx.HTTPError as exc:
        raise ImportRefused("The download of that video broke off. Please try again.", type(exc).__name__) from None
