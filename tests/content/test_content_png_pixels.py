"""The screenshot reader of the browser tests reads what it is given (every filter type)."""

from __future__ import annotations

import struct
import zlib

import pytest
from png_pixels import read_png


def _chunk(kind: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(kind + body) & 0xFFFFFFFF
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


def _filter(kind: int, line: bytes, prev: bytes, bpp: int) -> bytes:
    out = bytearray()
    for i, value in enumerate(line):
        a = line[i - bpp] if i >= bpp else 0
        b = prev[i]
        c = prev[i - bpp] if i >= bpp else 0
        if kind == 0:
            pred = 0
        elif kind == 1:
            pred = a
        elif kind == 2:
            pred = b
        elif kind == 3:
            pred = (a + b) >> 1
        else:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
        out.append((value - pred) & 0xFF)
    return bytes(out)


def _png(rows: list[bytes], width: int, channels: int) -> bytes:
    prev = bytes(width * channels)
    raw = bytearray()
    for y, row in enumerate(rows):
        kind = y % 5  # every filter type in turn
        raw.append(kind)
        raw += _filter(kind, row, prev, channels)
        prev = row
    header = struct.pack(">IIBBBBB", width, len(rows), 8, 2 if channels == 3 else 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(bytes(raw)))
        + _chunk(b"IEND", b"")
    )


@pytest.mark.parametrize("channels", [3, 4])
def test_reads_back_every_filter_type(channels: int) -> None:
    # given a 7x10 image of varied pixels, a 3x2 block of one colour in it
    width, height = 7, 10
    rows = []
    for y in range(height):
        row = bytearray()
        for x in range(width):
            pixel = (
                (255, 247, 224)
                if 2 <= x < 5 and 4 <= y < 6
                else ((x * 37) % 256, (y * 53) % 256, (x * y * 11) % 256)
            )
            row += bytes(pixel) + (b"\xff" if channels == 4 else b"")
        rows.append(bytes(row))
    png = read_png(_png(rows, width, channels))
    # then every row comes back as written, and the block is counted
    assert png.rows() == rows
    assert png.count((255, 247, 224), (0, 0, width, height)) == 6
    assert png.count((255, 247, 224), (0, 0, 3, 5)) == 1


def test_refuses_what_is_not_a_png() -> None:
    with pytest.raises(ValueError, match="not a PNG"):
        read_png(b"GIF89a")
