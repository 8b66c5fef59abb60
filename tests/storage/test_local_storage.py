"""LocalStorage specifics; the behaviour both backends share is in test_storage_contract.py."""

from __future__ import annotations

import urllib.parse

import httpx


def test_default_ttl_is_written_into_the_url(local_storage, clock):
    local_storage.put("u1/v1/a.mp4", [b"abc"], "video/mp4")
    url = local_storage.signed_url("u1/v1/a.mp4")
    expires = int(urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["expires"][0])
    assert expires == int(clock.now) + 24 * 3600


def test_a_later_expiry_written_into_the_url_is_refused(local_storage):
    local_storage.put("u1/v1/original.mp4", [b"secret video"], "video/mp4")
    url = local_storage.signed_url("u1/v1/original.mp4", ttl_seconds=60)
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    later = url.replace(f"expires={query['expires'][0]}", f"expires={int(query['expires'][0]) + 10_000}")
    response = httpx.get(later)
    assert response.status_code == 403
    assert "not valid" in response.text
