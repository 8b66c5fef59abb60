from __future__ import annotations

import ipaddress
import time

import pytest

from shared.media.url_import import ImportRefused, UrlPolicy, forbidden_reason, open_url
from tests.support.http_server import QuietHandler, serve_handler

LOOPBACK_ALLOWED = (ipaddress.ip_network("127.0.0.1/32"),)


class Handler(QuietHandler):
    routes: dict = {}

    def do_GET(self):  # noqa: N802
        action = self.routes.get(self.path.split("?")[0], ("status", 404))
        if action[0] == "redirect":
            self.send_response(302)
            self.send_header("Location", action[1])
            self.end_headers()
        elif action[0] == "body":
            self.send_response(200)
            self.send_header("Content-Type", "video/mp4")
            if action[2]:
                self.send_header("Content-Length", str(len(action[1])))
            self.end_headers()
            self.wfile.write(action[1])
        elif action[0] == "stall":
            time.sleep(action[1])
            self.send_response(200)
            self.end_headers()
        else:
            self.send_response(action[1])
            self.end_headers()


@pytest.fixture
def origin():
    Handler.routes = {}
    running = serve_handler(Handler, name="origin")
    yield running.server, running.url
    running.stop()


def fetch(url, policy, resolver=None):
    kwargs = {"resolver": resolver} if resolver else {}
    with open_url(url, policy, **kwargs) as download:
        return b"".join(download.chunks)


STRICT = UrlPolicy(allow_http=True, timeout_seconds=5, read_timeout_seconds=2, connect_timeout_seconds=2)


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "10.1.2.3", "172.16.0.5", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0",  # noqa: S104
     "224.0.0.1", "240.0.0.1", "255.255.255.255", "::1", "::", "fe80::1", "fc00::1", "fd00:ec2::254", "ff02::1",
     "::ffff:127.0.0.1", "::ffff:169.254.169.254", "64:ff9b::a9fe:a9fe", "2002:7f00:0001::1"],
)
def test_every_forbidden_address_class_is_refused(address):
    assert forbidden_reason(ipaddress.ip_address(address)) is not None
    host = f"[{address}]" if ":" in address else address
    with pytest.raises(ImportRefused) as refused:
        fetch(f"http://{host}/video.mp4", STRICT)
    assert "public internet addresses" in refused.value.message


def test_public_addresses_pass_the_check():
    for address in ("8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8"):
        assert forbidden_reason(ipaddress.ip_address(address)) is None


def test_names_that_resolve_to_loopback_are_refused(origin):
    _, base = origin
    port = base.rsplit(":", 1)[1]
    with pytest.raises(ImportRefused):
        fetch(f"http://localhost:{port}/video.mp4", STRICT)
    with pytest.raises(ImportRefused) as refused:
        fetch(f"http://videos.example.com:{port}/v.mp4", STRICT, resolver=lambda host, p: ["127.0.0.1"])
    assert "127.0.0.1" in refused.value.reason
    # One bad answer among good ones is enough to refuse (DNS can return both).
    with pytest.raises(ImportRefused):
        fetch("http://mixed.example.com/v.mp4", STRICT, resolver=lambda host, p: ["8.8.8.8", "10.0.0.1"])


def test_https_only_outside_local_mode():
    with pytest.raises(ImportRefused) as refused:
        fetch("http://example.com/v.mp4", UrlPolicy(allow_http=False), resolver=lambda h, p: ["93.184.216.34"])
    assert "https://" in refused.value.message
    with pytest.raises(ImportRefused):
        fetch("file:///etc/passwd", STRICT)


def test_allowed_server_downloads_and_connects_to_the_checked_address(origin):
    _, base = origin
    Handler.routes["/video.mp4"] = ("body", b"x" * 5000, True)
    policy = UrlPolicy(allow_http=True, allowed_networks=LOOPBACK_ALLOWED, timeout_seconds=5)
    port = base.rsplit(":", 1)[1]
    # The name is resolved by our resolver only; the connection goes to the address it returned.
    body = fetch(f"http://cdn.example.test:{port}/video.mp4", policy, resolver=lambda h, p: ["127.0.0.1"])
    assert body == b"x" * 5000


@pytest.mark.parametrize("location", ["http://10.0.0.7/v.mp4", "http://[::ffff:127.0.0.2]/v.mp4",
                                      "http://169.254.169.254/latest/meta-data/", "http://localhost/v.mp4"])
def test_redirects_are_checked_at_every_hop(origin, location):
    _, base = origin
    Handler.routes["/start"] = ("redirect", "/hop")
    Handler.routes["/hop"] = ("redirect", location)
    policy = UrlPolicy(allow_http=True, allowed_networks=LOOPBACK_ALLOWED, timeout_seconds=5)
    with pytest.raises(ImportRefused) as refused:
        fetch(f"{base}/start", policy)
    assert "public internet addresses" in refused.value.message


def test_size_limit_by_header_and_while_streaming(origin):
    _, base = origin
    Handler.routes["/declared"] = ("body", b"y" * 20_000, True)
    Handler.routes["/undeclared"] = ("body", b"y" * 20_000, False)
    policy = UrlPolicy(allow_http=True, allowed_networks=LOOPBACK_ALLOWED, max_bytes=10_000, timeout_seconds=5)
    for path in ("/declared", "/undeclared"):
        with pytest.raises(ImportRefused) as refused:
            fetch(f"{base}{path}", policy)
        assert refused.value.reason == "too large"
        assert "larger than" in refused.value.message


def test_a_server_that_never_answers_times_out(origin):
    _, base = origin
    Handler.routes["/slow"] = ("stall", 3)
    policy = UrlPolicy(allow_http=True, allowed_networks=LOOPBACK_ALLOWED, read_timeout_seconds=0.3,
                       timeout_seconds=1)
    with pytest.raises(ImportRefused) as refused:
        fetch(f"{base}/slow", policy)
    assert "too long" in refused.value.message
