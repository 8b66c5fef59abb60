"""TikTok's FILE_UPLOAD chunk rules (Content Posting API, media transfer guide).

- chunk_size is 5-64 MB; a video under 5 MB (or one that fits in one chunk) goes whole.
- total_chunk_count = floor(video_size / chunk_size); the last chunk absorbs the
  remainder and may reach 128 MB.
- 1 to 1,000 chunks, uploaded sequentially with Content-Range.
- a video over 64 MB must be sent in at least two chunks, never whole.
https://developers.tiktok.com/doc/content-posting-api-media-transfer-guide
"""

from __future__ import annotations

from dataclasses import dataclass

MB = 1024 * 1024
MIN_CHUNK = 5 * MB
MAX_CHUNK = 64 * MB
MAX_LAST_CHUNK = 128 * MB
MAX_CHUNKS = 1000


@dataclass(frozen=True)
class ChunkPlan:
    video_size: int
    chunk_size: int
    total_chunk_count: int

    def byte_range(self, index: int) -> tuple[int, int]:
        """First and last byte (inclusive) of chunk `index`; the last chunk runs to the end."""
        first = index * self.chunk_size
        last = self.video_size - 1 if index == self.total_chunk_count - 1 else first + self.chunk_size - 1
        return first, last


def plan_chunks(video_size: int, preferred_chunk: int = 10 * MB) -> ChunkPlan:
    if video_size <= 0:
        raise ValueError("video is empty")
    preferred = min(max(preferred_chunk, MIN_CHUNK), MAX_CHUNK)
    if video_size < MIN_CHUNK or video_size <= preferred:
        return ChunkPlan(video_size, video_size, 1)
    chunk = preferred
    if video_size > MAX_CHUNK and video_size // chunk < 2:
        # floor(size / chunk) would be 1: one whole upload of more than 64 MB, which TikTok refuses.
        chunk = video_size // 2
    if video_size // chunk > MAX_CHUNKS:
        chunk = -(-video_size // MAX_CHUNKS)  # ceil: the fewest bytes per chunk that fit in 1,000 chunks
        if chunk > MAX_CHUNK:
            raise ValueError("video too large for TikTok's chunked upload")
    return ChunkPlan(video_size, chunk, video_size // chunk)
