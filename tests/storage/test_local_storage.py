from __future__ import annotations

import hashlib
import os
import urllib.parse

import httpx
import pytest

from shared.storage import ObjectNotFound, ObjectTooLarge, StorageError


def test_put_read_list_delete_and_usage(local_storage):
    data = os.urandom(300_000)
    stored = local_storage.put("u1/v1/original.mp4", [data[:100_000], data[100_000:]], "video/mp4")
    assert stored.size == len(data)
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert b"".join(local_storage.read_chunks("u1/v1/original.mp4", start=1000, chunk_size=4096)) == data[1000:]
    local_storage.put("u1/v1/cover-youtube.jpg", [b"jpeg"], "image/jpeg")
    assert [o.path for o in local_storage.list("u1")] == ["u1/v1/cover-youtube.jpg", "u1/v1/original.mp4"]
    assert local_storage.usage() == (len(data) + 4, 2)
    local_storage.delete("u1/v1/original.mp4")
    local_storage.delete("u1/v1/original.mp4")  # deleting twice is fine
    assert not local_storage.exists("u1/v1/original.mp4")
    with pytest.raises(ObjectNotFound):
        local_storage.size("u1/v1/original.mp4")


def test_too_large_upload_leaves_nothing_behind(local_storage):
    chunks = (b"x" * 1000 for _ in range(10))
    with pytest.raises(ObjectTooLarge) as refused:
        local_storage.put("u1/v2/original.mp4", chunks, "video/mp4", max_bytes=5000)
    assert "larger than" in str(refused.value)
    assert local_storage.list("") == []


def test_paths_cannot_leave_the_bucket(local_storage):
    for path in ("../escape.mp4", "/../../etc/passwd", "u1/../../x"):
        with pytest.raises(StorageError):
            local_storage.put(path, [b"x"], "video/mp4")


def test_signed_url_downloads_until_expiry(local_storage, clock):
    data = os.urandom(50_000)
    local_storage.put("u1/v1/original.mp4", [data], "video/mp4")
    url = local_storage.signed_url("u1/v1/original.mp4", ttl_seconds=3600)
    response = httpx.get(url)
    assert response.status_code == 200
    assert response.content == data
    assert response.headers["accept-ranges"] == "bytes"

    clock.now += 3599
    assert httpx.get(url).status_code == 200
    clock.now += 2
    expired = httpx.get(url)
    assert expired.status_code == 403
    assert "expired" in expired.text


def test_default_ttl_is_24_hours(local_storage, clock):
    local_storage.put("u1/v1/a.mp4", [b"abc"], "video/mp4")
    url = local_storage.signed_url("u1/v1/a.mp4")
    expires = int(urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["expires"][0])
    assert expires == int(clock.now) + 24 * 3600


def test_tampered_signed_urls_are_refused(local_storage):
    local_storage.put("u1/v1/original.mp4", [b"secret video"], "video/mp4")
    local_storage.put("u2/v9/original.mp4", [b"someone else"], "video/mp4")
    url = local_storage.signed_url("u1/v1/original.mp4", ttl_seconds=60)
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qs(parts.query)

    other_path = url.replace("u1/v1", "u2/v9")
    later = url.replace(f"expires={query['expires'][0]}", f"expires={int(query['expires'][0]) + 10_000}")
    flipped = url[:-1] + ("0" if url[-1] != "0" else "1")
    unsigned = urllib.parse.urlunsplit(parts._replace(query=""))
    for bad in (other_path, later, flipped, unsigned):
        response = httpx.get(bad)
        assert response.status_code == 403, bad
        assert "not valid" in response.text


def test_range_requests(local_storage):
    data = bytes(range(256)) * 100
    local_storage.put("u1/v1/original.mp4", [data], "video/mp4")
    url = local_storage.signed_url("u1/v1/original.mp4", ttl_seconds=60)

    middle = httpx.get(url, headers={"Range": "bytes=10-19"})
    assert middle.status_code == 206
    assert middle.content == data[10:20]
    assert middle.headers["content-range"] == f"bytes 10-19/{len(data)}"

    tail = httpx.get(url, headers={"Range": "bytes=25000-"})
    assert tail.status_code == 206 and tail.content == data[25000:]

    suffix = httpx.get(url, headers={"Range": "bytes=-7"})
    assert suffix.status_code == 206 and suffix.content == data[-7:]

    outside = httpx.get(url, headers={"Range": f"bytes={len(data)}-"})
    assert outside.status_code == 416

    head = httpx.head(url)
    assert head.status_code == 200 and int(head.headers["content-length"]) == len(data)


def test_media_source_hides_its_url(local_storage):
    local_storage.put("u1/v1/original.mp4", [b"0123456789"], "video/mp4")
    source = local_storage.media_source("u1/v1/original.mp4", 60)
    assert source.size == 10 and source.filename == "original.mp4"
    assert b"".join(source.read_chunks(start=4)) == b"456789"
    assert "sig=" not in repr(source)
    assert httpx.get(source.url).content == b"0123456789"
