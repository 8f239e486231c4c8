"""Opening order files: gzip detected by its magic bytes, UTF-8 decoded line by line.

Reading is streamed: a file is never held in memory whole. Decoding happens per line so that
one line in another encoding is one bad row, not the end of the file; a cut-off gzip file
ends the file with one bad row that says so.
"""

from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import Iterator
from typing import IO, TextIO, cast

from ...core.errors import AftersaleKitError
from ..history import BadRow, BadRowSink

__all__ = ["LineSource", "ReaderError", "damage", "open_binary", "open_text"]

_GZIP_MAGIC = b"\x1f\x8b"
_BOM = "\ufeff"
#: Compressed bytes fed at a time: small, so that damage loses little of what precedes it.
_READ = 1 << 12
_OUT = 1 << 20

#: What a broken stream raises while it is read (the gunzip below reports instead of raising).
_STREAM_ERRORS = (EOFError, zlib.error, gzip.BadGzipFile)

CUT_OFF = (
    "the compressed file is cut off or damaged here; the rest of the file was not read "
    "(download or compress it again)"
)


class ReaderError(AftersaleKitError):
    """A whole input cannot be read (missing, unreadable, unknown format): one message, no rows."""


def _is_gzip(path: str) -> bool:
    try:
        with open(path, "rb") as raw:
            return raw.read(2) == _GZIP_MAGIC
    except OSError as exc:
        raise ReaderError(f"{path}: cannot open the file ({exc.strerror or exc})") from None


class _Gunzip(io.RawIOBase):
    """Gzip members decompressed as they are read. Unlike :mod:`gzip`, which loses the last
    block it was decompressing when the file is cut off, this hands out every byte that could
    be decompressed, then ends and sets ``damaged``. Output is made :data:`_OUT` bytes at a
    time, so a small file that inflates hugely does not fill the memory."""

    def __init__(self, path: str) -> None:
        self.file = open(path, "rb")  # noqa: SIM115 - closed in close()
        self.inflate = zlib.decompressobj(wbits=31)
        self.out = b""
        self.at = 0
        self.damaged = False
        self.done = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        while self.at >= len(self.out) and not self.done:
            self._inflate()
        n = min(len(buffer), len(self.out) - self.at)
        buffer[:n] = self.out[self.at : self.at + n]
        self.at += n
        return n

    def _inflate(self) -> None:
        d = self.inflate
        if d.eof:  # the next gzip member, or the end (trailing zeros are allowed)
            data = d.unused_data or self.file.read(_READ)
            if not data.strip(b"\x00"):
                self.done = True
                return
            d = self.inflate = zlib.decompressobj(wbits=31)
        else:
            data = d.unconsumed_tail or self.file.read(_READ)
            if not data:  # the file ends inside a member: cut off
                self.done = self.damaged = True
                return
        try:
            self.out = d.decompress(data, _OUT)
        except zlib.error:
            self.done = self.damaged = True
            return
        self.at = 0

    def close(self) -> None:
        self.file.close()
        super().close()


def damage(stream: IO[bytes]) -> bool:
    """Whether ``stream`` (from :func:`open_binary`) ended because its compression is broken."""
    raw = getattr(stream, "raw", None)
    return isinstance(raw, _Gunzip) and raw.damaged


def open_binary(path: str) -> IO[bytes]:
    """The file's bytes, decompressed when it is gzip (by its magic bytes, whatever its name)."""
    if _is_gzip(path):
        return cast(IO[bytes], io.BufferedReader(_Gunzip(path), buffer_size=1 << 16))
    try:
        return open(path, "rb")
    except OSError as exc:
        raise ReaderError(f"{path}: cannot open the file ({exc.strerror or exc})") from None


def open_text(path: str) -> TextIO:
    """The file as UTF-8 text (a leading byte-order mark is dropped), gunzipped when it is gzip.

    Decoding errors surface while reading; the readers use :class:`LineSource`, which reports
    them per line instead."""
    return io.TextIOWrapper(open_binary(path), encoding="utf-8-sig", newline="")


class LineSource:
    """The decoded lines of one file with their 1-based numbers, bad lines reported and skipped.

    ``line`` is the number of the last line handed out. A line that is not UTF-8 goes to
    ``on_bad``; a compressed file that ends early or is corrupt ends the iteration with one bad
    row (``truncated`` is then true).

    With ``lenient`` a line that is not UTF-8 is handed out anyway (its bad bytes as lone
    surrogates) and its number noted in ``undecodable`` instead: the CSV reader then skips the
    whole order the line belongs to, where dropping the line alone would leave an order with a
    line missing."""

    def __init__(self, path: str, on_bad: BadRowSink, *, lenient: bool = False) -> None:
        self.path = path
        self.on_bad = on_bad
        self.lenient = lenient
        self.line = 0
        self.truncated = False
        self.undecodable: set[int] = set()

    def __iter__(self) -> Iterator[str]:
        with open_binary(self.path) as raw:
            for chunk in self._chunks(raw):
                self.line += 1
                try:
                    text = chunk.decode("utf-8")
                except UnicodeDecodeError as exc:
                    if self.lenient:
                        self.undecodable.add(self.line)
                        yield chunk.decode("utf-8", errors="surrogateescape")
                        continue
                    self.on_bad(
                        BadRow(
                            self.path,
                            self.line,
                            f"not UTF-8 text (byte {exc.start + 1} of the line); save the file "
                            "as UTF-8 and read it again",
                        )
                    )
                    continue
                if self.line == 1 and text.startswith(_BOM):
                    text = text[1:]
                yield text

    def _chunks(self, raw: IO[bytes]) -> Iterator[bytes]:
        """The raw lines; a last line without its newline in a cut-off file is not handed out
        (it is cut short), and the cut is reported at it."""
        lines = iter(raw)
        while True:
            try:
                chunk = next(lines)
            except StopIteration:
                if damage(raw):
                    self._cut_off()
                return
            except _STREAM_ERRORS:
                self._cut_off()
                return
            if not chunk.endswith(b"\n") and damage(raw):
                self.line += 1
                self._cut_off()
                return
            yield chunk

    def _cut_off(self) -> None:
        self.truncated = True
        self.on_bad(BadRow(self.path, max(self.line, 1), CUT_OFF))
