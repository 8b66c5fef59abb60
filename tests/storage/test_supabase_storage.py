"""SupabaseStorage specifics: resumable uploads against an independent TUS server (tuspyserver,
at Supabase's path) through a proxy that breaks connections off mid-chunk, and how it fails."""

from __future__ import annotations

import base64
import hashlib
import random
import tracemalloc

import pytest

from shared.storage import StorageError
from shared.storage.supabase import TUS_CHUNK, SupabaseStorage
from tests.storage.conftest import SERVICE_KEY
from tests.support.fault_proxy import FaultProxy
from tests.support.supabase_storage import start_storage_server

MIB = 1024 * 1024


def _settings():
    """The storage settings of the application installed now (the age-out rule's periods)."""
    from shared.app import application

    return application().storage_settings


def _decoded_metadata(header: str) -> dict[str, str]:
    pairs = (item.split(" ", 1) for item in header.split(","))
    return {key: base64.b64decode(value).decode() for key, value in pairs}


def _pseudo_random(size: int, seed: int, piece: int = MIB):
    """`size` bytes in pieces, the same for the same seed, and their sha256 once consumed."""
    generator = random.Random(seed)
    digest = hashlib.sha256()

    def pieces():
        left = size
        while left:
            chunk = generator.randbytes(min(piece, left))
            digest.update(chunk)
            left -= len(chunk)
            yield chunk

    return pieces(), digest


@pytest.fixture
def faulty(supabase_server):
    """A proxy in front of the stand-in; set `cut_at` before uploading."""
    proxy = FaultProxy(supabase_server.port)
    yield proxy
    proxy.stop()


def test_resumable_upload_speaks_supabases_protocol(supabase_server, supabase_storage):
    size = 15 * MIB + 7
    chunks, digest = _pseudo_random(size, seed=1)
    stored = supabase_storage.put("u1/v1/original.mp4", chunks, "video/mp4")
    assert stored.sha256 == digest.hexdigest() == supabase_server.standin.sha256("videos", "u1/v1/original.mp4")

    requests = supabase_server.standin.traffic.tus_requests
    creation = [headers for method, headers in requests if method == "POST"]
    assert len(creation) == 1
    headers = creation[0]
    assert headers["tus-resumable"] == "1.0.0"
    assert headers["x-upsert"] == "true"
    assert headers["authorization"] == f"Bearer {SERVICE_KEY}" and headers["apikey"] == SERVICE_KEY
    assert headers["upload-length"] == str(size)
    assert _decoded_metadata(headers["upload-metadata"]) == {
        "bucketName": "videos", "objectName": "u1/v1/original.mp4", "contentType": "video/mp4",
        "cacheControl": "3600"}
    parts = [headers for method, headers in requests if method == "PATCH"]
    assert [int(h["content-length"]) for h in parts] == [TUS_CHUNK, TUS_CHUNK, size - 2 * TUS_CHUNK]
    assert [int(h["upload-offset"]) for h in parts] == [0, TUS_CHUNK, 2 * TUS_CHUNK]
    assert {h["content-type"] for h in parts} == {"application/offset+octet-stream"}


def test_dropped_connections_resume_from_the_servers_offset(supabase_server, faulty):
    size = 20 * MIB + 3
    faulty.cut_at = [2_500_000, 9_000_001, 15_999_999]  # inside the first, second and third part
    storage = SupabaseStorage(faulty.url, SERVICE_KEY, tus_retry_delay=0.05)
    chunks, digest = _pseudo_random(size, seed=2)
    stored = storage.put("u1/v2/original.mp4", chunks, "video/mp4")

    assert faulty.cuts == 3
    assert stored.sha256 == digest.hexdigest() == supabase_server.standin.sha256("videos", "u1/v2/original.mp4")
    requests = supabase_server.standin.traffic.tus_requests
    assert [m for m, _ in requests].count("HEAD") >= 3  # asked the server where to go on
    offsets = [int(h["upload-offset"]) for m, h in requests if m == "PATCH"]
    # After each drop the next part starts where the server says it got to, not at a part boundary.
    assert any(offset % TUS_CHUNK for offset in offsets), offsets
    assert offsets == sorted(offsets)


@pytest.mark.slow
def test_200_mb_with_drops_arrives_byte_identical_in_flat_memory(supabase_server, faulty):
    size = 200 * 1000 * 1000
    faulty.cut_at = [31_000_000, 97_654_321, 150_000_017, 199_000_000]
    storage = SupabaseStorage(faulty.url, SERVICE_KEY, tus_retry_delay=0.05)
    chunks, digest = _pseudo_random(size, seed=3)
    tracemalloc.start()
    try:
        stored = storage.put("u1/v3/original.mp4", chunks, "video/mp4")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert faulty.cuts == 4
    assert stored.size == size
    assert stored.sha256 == digest.hexdigest() == supabase_server.standin.sha256("videos", "u1/v3/original.mp4")
    # Client, proxy and server share this process: all of it holds a few parts at most, never the file.
    assert peak < 48 * MIB, f"peak traced memory {peak / MIB:.0f} MiB"


def test_an_unreachable_storage_is_a_plain_error_not_a_hang(tmp_path):
    storage = SupabaseStorage("http://127.0.0.1:9", SERVICE_KEY, tus_retries=2, tus_retry_delay=0.01)
    for size in (10, 7 * MIB):
        with pytest.raises(StorageError) as failed:
            storage.put("u1/v4/original.mp4", [b"x" * size], "video/mp4")
        assert "not answering" in str(failed.value)


def test_the_buckets_size_limit_is_reported_and_nothing_is_kept(tmp_path):
    server = start_storage_server(tmp_path / "limited", service_key=SERVICE_KEY, file_size_limit=10 * MIB)
    try:
        storage = SupabaseStorage(server.url, SERVICE_KEY, tus_retry_delay=0.01)
        with pytest.raises(StorageError) as refused:
            storage.put("u1/v5/original.mp4", [b"x" * (12 * MIB)], "video/mp4")
        assert "too large" in str(refused.value)
        assert storage.list("") == []
    finally:
        server.stop()


def test_a_wrong_key_is_an_error_never_a_missing_file(supabase_server, supabase_storage):
    supabase_storage.put("u1/v6/original.mp4", [b"kept"], "video/mp4")
    wrong = SupabaseStorage(supabase_server.url, "not-the-service-key", tus_retry_delay=0.01)
    for call in (lambda: wrong.exists("u1/v6/original.mp4"), lambda: wrong.signed_url("u1/v6/original.mp4"),
                 lambda: wrong.delete("u1/v6/original.mp4"), lambda: wrong.list("u1"),
                 lambda: wrong.put("u1/v6/other.mp4", [b"x"], "video/mp4")):
        with pytest.raises(StorageError) as failed:
            call()
        assert "not answering" in str(failed.value)
    assert supabase_storage.exists("u1/v6/original.mp4")


def test_retention_keeps_the_row_when_storage_refuses_the_delete(db, user_a, supabase_server, supabase_storage):
    """A delete that fails must not mark the video deleted (its file would be orphaned)."""
    import uuid
    from datetime import UTC, datetime, timedelta

    from shared.media.retention import run_retention

    video_id = str(uuid.uuid4())
    path = f"{user_a['sub']}/{video_id}/original.mp4"
    supabase_storage.put(path, [b"video bytes"], "video/mp4")
    with db.service() as conn:
        conn.execute("insert into videos (id, user_id, storage_path, size_bytes, created_at) "
                     "values (%s, %s, %s, 11, %s)",
                     (video_id, user_a["sub"], path, datetime.now(UTC) - timedelta(days=30)))
    refusing = SupabaseStorage(supabase_server.url, "not-the-service-key")
    report = run_retention(db, refusing, datetime.now(UTC), settings=_settings(),
                           retention_days=7, unpublished_days=7, notice_days=0)
    assert video_id in report.failed and video_id not in report.deleted_videos
    with db.service() as conn:
        row = conn.execute("select deleted_at from videos where id = %s", (video_id,)).fetchone()
    assert row["deleted_at"] is None
    assert supabase_storage.exists(path)
    assert video_id in run_retention(db, supabase_storage, datetime.now(UTC), settings=_settings(),
                                     retention_days=7, unpublished_days=7,
                                     notice_days=0).deleted_videos
    assert not supabase_storage.exists(path)
