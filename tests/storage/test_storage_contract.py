"""What every storage backend must do, run against LocalStorage and SupabaseStorage alike.

SupabaseStorage talks over HTTP to the stand-in in tests/support/supabase_storage.py,
whose TUS endpoint is tuspyserver, not code of ours.
"""

from __future__ import annotations

import hashlib
import os
import urllib.parse

import httpx
import pytest

from shared.storage import ObjectNotFound, ObjectTooLarge, StorageError

MIB = 1024 * 1024


def test_put_read_list_delete_and_usage(backend):
    data = os.urandom(300_000)
    stored = backend.put("u1/v1/original.mp4", [data[:100_000], data[100_000:]], "video/mp4")
    assert stored.size == len(data)
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert b"".join(backend.read_chunks("u1/v1/original.mp4", start=1000, chunk_size=4096)) == data[1000:]
    backend.put("u1/v1/cover-youtube.jpg", [b"jpeg"], "image/jpeg")
    backend.put("u2/v7/original.mp4", [b"other user"], "video/mp4")
    assert [o.path for o in backend.list("u1")] == ["u1/v1/cover-youtube.jpg", "u1/v1/original.mp4"]
    assert [(o.path, o.size) for o in backend.list("u1/v1/original.mp4")] == [("u1/v1/original.mp4", len(data))]
    assert backend.list("nobody") == []
    assert backend.usage() == (len(data) + 4 + 10, 3)
    assert backend.size("u1/v1/original.mp4") == len(data)
    backend.delete("u1/v1/original.mp4")
    backend.delete("u1/v1/original.mp4")  # deleting twice is fine
    assert not backend.exists("u1/v1/original.mp4")
    assert backend.exists("u1/v1/cover-youtube.jpg")
    with pytest.raises(ObjectNotFound):
        backend.size("u1/v1/original.mp4")
    with pytest.raises(ObjectNotFound):
        b"".join(backend.read_chunks("u1/v1/original.mp4"))


def test_large_object_round_trip_in_uneven_chunks(backend):
    """Above one 6 MiB part: Supabase takes the TUS path; the bytes must come back identical."""
    data = os.urandom(20 * MIB + 12_345)
    pieces = [data[i: i + 999_983] for i in range(0, len(data), 999_983)]
    stored = backend.put("u1/big/original.mp4", iter(pieces), "video/mp4")
    assert (stored.size, stored.sha256) == (len(data), hashlib.sha256(data).hexdigest())
    digest = hashlib.sha256()
    for chunk in backend.read_chunks("u1/big/original.mp4"):
        digest.update(chunk)
    assert digest.hexdigest() == stored.sha256


def test_overwrite_replaces_and_a_failed_upload_keeps_the_old_object(backend):
    backend.put("u1/v1/original.mp4", [b"first version"], "video/mp4")
    backend.put("u1/v1/original.mp4", [b"second"], "video/mp4")
    assert b"".join(backend.read_chunks("u1/v1/original.mp4")) == b"second"

    def broken():
        yield os.urandom(7 * MIB)
        raise ConnectionError("the client went away")

    with pytest.raises(ConnectionError):
        backend.put("u1/v1/original.mp4", broken(), "video/mp4")
    assert b"".join(backend.read_chunks("u1/v1/original.mp4")) == b"second"
    assert [o.path for o in backend.list("u1")] == ["u1/v1/original.mp4"]


def test_too_large_upload_leaves_nothing_behind(backend):
    chunks = (b"x" * 1000 for _ in range(10))
    with pytest.raises(ObjectTooLarge) as refused:
        backend.put("u1/v2/original.mp4", chunks, "video/mp4", max_bytes=5000)
    assert "larger than" in str(refused.value)
    assert backend.list("") == []


def test_paths_cannot_leave_the_bucket(backend):
    for path in ("../escape.mp4", "/../../etc/passwd", "u1/../../x"):
        with pytest.raises(StorageError):
            backend.put(path, [b"x"], "video/mp4")


def test_put_file_and_open_read_only_what_is_asked(backend, tmp_path):
    data = os.urandom(7 * MIB)
    source = tmp_path / "clip.mp4"
    source.write_bytes(data)
    stored = backend.put_file("u1/v3/converted.mp4", str(source), "video/mp4")
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    with backend.open("u1/v3/converted.mp4") as handle:
        handle.seek(5 * MIB)
        assert handle.read(16) == data[5 * MIB: 5 * MIB + 16]
        handle.seek(-8, os.SEEK_END)
        assert handle.read() == data[-8:]
    target = tmp_path / "copy.mp4"
    backend.download_to("u1/v3/converted.mp4", str(target))
    assert target.read_bytes() == data


def test_signed_url_downloads_until_expiry(backend, clock):
    data = os.urandom(50_000)
    backend.put("u1/v1/original.mp4", [data], "video/mp4")
    url = backend.signed_url("u1/v1/original.mp4", ttl_seconds=3600)
    response = httpx.get(url)
    assert response.status_code == 200
    assert response.content == data
    assert response.headers["accept-ranges"] == "bytes"

    clock.now += 3599
    assert httpx.get(url).status_code == 200
    clock.now += 2
    expired = httpx.get(url)
    assert expired.status_code in (400, 403)
    assert "expired" in expired.text
    assert data not in expired.content


def test_default_ttl_is_24_hours(backend, clock):
    backend.put("u1/v1/a.mp4", [b"abc"], "video/mp4")
    url = backend.signed_url("u1/v1/a.mp4")
    clock.now += 24 * 3600 - 5
    assert httpx.get(url).content == b"abc"
    clock.now += 10
    assert httpx.get(url).status_code in (400, 403)


def test_tampered_signed_urls_are_refused(backend):
    backend.put("u1/v1/original.mp4", [b"secret video"], "video/mp4")
    backend.put("u2/v9/original.mp4", [b"someone else"], "video/mp4")
    url = backend.signed_url("u1/v1/original.mp4", ttl_seconds=60)
    parts = urllib.parse.urlsplit(url)
    other_path = url.replace("u1/v1", "u2/v9")
    flipped = url[:-3] + ("AAA" if url[-3:] != "AAA" else "BBB")
    unsigned = urllib.parse.urlunsplit(parts._replace(query=""))
    for bad in (other_path, flipped, unsigned):
        response = httpx.get(bad)
        assert response.status_code in (400, 403), bad
        assert b"someone else" not in response.content and b"secret video" not in response.content


def test_range_requests_on_signed_urls(backend):
    data = bytes(range(256)) * 100
    backend.put("u1/v1/original.mp4", [data], "video/mp4")
    url = backend.signed_url("u1/v1/original.mp4", ttl_seconds=60)

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


def test_media_source_hides_its_url(backend):
    backend.put("u1/v1/original.mp4", [b"0123456789"], "video/mp4")
    source = backend.media_source("u1/v1/original.mp4", 60)
    assert source.size == 10 and source.filename == "original.mp4"
    assert b"".join(source.read_chunks(start=4)) == b"456789"
    query = urllib.parse.urlsplit(source.url).query
    assert query and query not in repr(source)
    assert httpx.get(source.url).content == b"0123456789"
