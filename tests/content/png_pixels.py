"""A small PNG reader (zlib + struct) for checking colours in browser screenshots.

Reads 8-bit RGB/RGBA, non-interlaced PNGs, as Chromium writes them, and un-filters the rows
(None, Sub, Up, Average, Paeth), stopping after the last row that is asked for.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

__all__ = ["Png", "read_png"]

_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class Png:
    width: int
    height: int
    channels: int
    _data: bytes

    def rows(self, first: int = 0, last: int | None = None) -> list[bytes]:
        """Un-filtered rows ``first..last`` (inclusive), each ``width * channels`` bytes."""
        last = self.height - 1 if last is None else min(last, self.height - 1)
        stride = self.width * self.channels
        bpp = self.channels
        prev = bytearray(stride)
        out: list[bytes] = []
        for y in range(last + 1):
            offset = y * (stride + 1)
            kind = self._data[offset]
            line = bytearray(self._data[offset + 1 : offset + 1 + stride])
            _unfilter(kind, line, prev, bpp)
            if y >= first:
                out.append(bytes(line))
            prev = line
        return out

    def count(self, rgb: tuple[int, int, int], box: tuple[int, int, int, int]) -> int:
        """Pixels of exactly this colour inside ``box`` = (left, top, right, bottom), exclusive."""
        left, top, right, bottom = box
        target = bytes(rgb)
        found = 0
        for row in self.rows(max(top, 0), bottom - 1):
            for x in range(max(left, 0), min(right, self.width)):
                at = x * self.channels
                if row[at : at + 3] == target:
                    found += 1
        return found


def _unfilter(kind: int, line: bytearray, prev: bytearray, bpp: int) -> None:
    n = len(line)
    if kind == 0:
        return
    if kind == 1:
        for i in range(bpp, n):
            line[i] = (line[i] + line[i - bpp]) & 0xFF
    elif kind == 2:
        for i in range(n):
            line[i] = (line[i] + prev[i]) & 0xFF
    elif kind == 3:
        for i in range(n):
            left = line[i - bpp] if i >= bpp else 0
            line[i] = (line[i] + ((left + prev[i]) >> 1)) & 0xFF
    elif kind == 4:
        for i in range(n):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
            line[i] = (line[i] + pred) & 0xFF
    else:
        raise ValueError(f"unknown PNG filter type {kind}")


def read_png(data: bytes) -> Png:
    if not data.startswith(_SIGNATURE):
        raise ValueError("not a PNG file")
    pos = len(_SIGNATURE)
    header: tuple[int, ...] | None = None
    chunks: list[bytes] = []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            chunks.append(body)
        elif kind == b"IEND":
            break
    if header is None:
        raise ValueError("PNG without IHDR")
    width, height, depth, colour, _, _, interlace = header
    if depth != 8 or colour not in (2, 6) or interlace != 0:
        raise ValueError(
            f"unsupported PNG: depth {depth}, colour type {colour}, interlace {interlace}"
        )
    return Png(width, height, 3 if colour == 2 else 4, zlib.decompress(b"".join(chunks)))
