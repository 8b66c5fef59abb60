"""Just enough MP4/MOV box parsing to answer two questions without reading the media data:
is the `moov` index in front of `mdat` (fast start), and what rotation does the video track
declare in its `tkhd` matrix (phones record portrait video as rotated landscape)."""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from typing import BinaryIO

_CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts"}
_MAX_MOOV = 64 * 1024 * 1024


@dataclass(frozen=True)
class Layout:
    faststart: bool | None      # None: not an MP4/MOV we could read
    rotation: int               # degrees clockwise the player turns the picture: 0, 90, 180, 270
    has_edit_list: bool


def _top_level(handle: BinaryIO, file_size: int) -> list[tuple[bytes, int, int]]:
    """(type, offset of payload, payload size) for every top-level box."""
    boxes: list[tuple[bytes, int, int]] = []
    offset = 0
    while offset + 8 <= file_size and len(boxes) < 1000:
        handle.seek(offset)
        header = handle.read(16)
        if len(header) < 8:
            break
        size, kind = struct.unpack(">I4s", header[:8])
        header_len = 8
        if size == 1:
            if len(header) < 16:
                break
            size = struct.unpack(">Q", header[8:16])[0]
            header_len = 16
        elif size == 0:
            size = file_size - offset
        if size < header_len or not kind.isascii():
            break
        boxes.append((kind, offset + header_len, size - header_len))
        offset += size
    return boxes


def _children(data: bytes) -> list[tuple[bytes, bytes]]:
    found = []
    offset = 0
    while offset + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        header_len = 8
        if size == 1 and offset + 16 <= len(data):
            size = struct.unpack(">Q", data[offset + 8 : offset + 16])[0]
            header_len = 16
        elif size == 0:
            size = len(data) - offset
        if size < header_len:
            break
        found.append((kind, data[offset + header_len : offset + size]))
        offset += size
    return found


def _rotation(matrix: tuple[int, ...]) -> int:
    a, b = matrix[0] / 65536, matrix[1] / 65536
    degrees = round(math.degrees(math.atan2(b, a))) % 360
    return int(round(degrees / 90) * 90) % 360


def _video_track_info(moov: bytes) -> tuple[int, bool]:
    for kind, trak in _children(moov):
        if kind != b"trak":
            continue
        parts = dict(_children(trak))
        tkhd = parts.get(b"tkhd")
        if tkhd is None:
            continue
        version = tkhd[0]
        matrix_at = 4 + (32 if version == 1 else 20) + 8 + 8
        if len(tkhd) < matrix_at + 44:
            continue
        matrix = struct.unpack(">9i", tkhd[matrix_at : matrix_at + 36])
        width, height = struct.unpack(">II", tkhd[matrix_at + 36 : matrix_at + 44])
        if width and height:  # audio tracks have no size
            has_edits = b"edts" in parts and any(k == b"elst" for k, _ in _children(parts[b"edts"]))
            return _rotation(matrix), has_edits
    return 0, False


def read_layout(handle: BinaryIO, file_size: int) -> Layout:
    boxes = _top_level(handle, file_size)
    kinds = [kind for kind, _, _ in boxes]
    if b"moov" not in kinds:
        return Layout(faststart=None, rotation=0, has_edit_list=False)
    moov_index = kinds.index(b"moov")
    faststart = b"mdat" not in kinds or moov_index < kinds.index(b"mdat")
    _, moov_offset, moov_size = boxes[moov_index]
    rotation, edits = 0, False
    if moov_size <= _MAX_MOOV:
        handle.seek(moov_offset)
        rotation, edits = _video_track_info(handle.read(moov_size))
    return Layout(faststart=faststart, rotation=rotation, has_edit_list=edits)
