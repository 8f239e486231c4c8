"""Inputs that are not what they claim: each gives bad rows or one clear error, never a
traceback."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pytest

from aftersale_kit.backtest.readers import ReaderError, detect_format, open_text, read_orders
from bench.orders import FORMATS, OUTPUTS, generate, write

from .readers_support import read


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("generated")
    write(generate(count=60, customers=20, seed=5), FORMATS, out, page_size=1000)
    return out


def _file(out: Path, fmt: str) -> Path:
    path = out / OUTPUTS[fmt]
    return path / "orders-00001.json" if fmt == "woo-json" else path


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_cut_off_gzip_file_reads_what_is_whole_and_says_so(
    generated: Path, tmp_path: Path, fmt: str
) -> None:
    packed = gzip.compress(_file(generated, fmt).read_bytes())
    path = tmp_path / "cut.gz"
    path.write_bytes(packed[: len(packed) * 2 // 3])
    orders, bad = read(path, fmt=fmt)
    assert 0 < len(orders) < 60
    assert len(bad) == 1
    assert bad[0].path == str(path)
    assert "cut off" in bad[0].reason


@pytest.mark.parametrize("fmt", FORMATS)
def test_random_bytes_are_bad_rows(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / "noise.bin"
    path.write_bytes(os.urandom(1 << 14))
    orders, bad = read(path, fmt=fmt)
    assert orders == []
    assert bad
    assert all(b.line >= 1 and b.reason for b in bad)


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_empty_file_yields_nothing(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / "empty"
    path.write_bytes(b"")
    orders, bad = read(path, fmt=fmt)
    assert orders == []
    assert len(bad) <= 1


def test_a_gzip_file_is_known_by_its_bytes_not_its_name(generated: Path, tmp_path: Path) -> None:
    path = tmp_path / "orders.jsonl"  # no .gz
    path.write_bytes(gzip.compress(_file(generated, "shopify-bulk").read_bytes()))
    assert detect_format(str(path)) == "shopify-bulk"
    with open_text(str(path)) as text:
        assert text.readline().startswith('{"id":"gid://shopify/Order/')
    orders, bad = read(path)
    assert (len(orders), bad) == (60, [])


def test_files_that_cannot_be_read_at_all_raise_one_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.csv"
    with pytest.raises(ReaderError, match=r"nope\.csv: no such file"):
        read(missing)
    prose = tmp_path / "notes.txt"
    prose.write_text("Dear shop owner,\nthis is not an order export.\n", encoding="utf-8")
    with pytest.raises(ReaderError, match=r"cannot tell the format.*--format"):
        read(prose)
    with pytest.raises(ReaderError, match="unknown order format 'xml'; known: shopify-csv"):
        list(read_orders([str(prose)], shop="s", currency="EUR", on_bad=print, fmt="xml"))


def test_a_directory_reads_its_files_in_name_order(generated: Path) -> None:
    orders, bad = read(generated / "woo-pages")
    assert bad == [] and len(orders) == 60


def test_a_csv_with_only_a_header_and_one_with_no_header_row(tmp_path: Path) -> None:
    header_only = tmp_path / "h.csv"
    header_only.write_text(
        "Name,Email,Created at,Total,Lineitem quantity,Lineitem name,Lineitem price\n",
        encoding="utf-8",
    )
    assert read(header_only) == ([], [])
    nul = tmp_path / "n.csv"
    nul.write_bytes(
        b"Name,Created at,Total,Lineitem quantity,Lineitem name,Lineitem price\n"
        b"#1,2025-01-01 10:00:00 +0100,5.00,1,A\x00B,5.00\n"
    )
    orders, bad = read(nul)
    assert len(orders) + len(bad) == 1


def test_concatenated_gzip_members_read_as_one_file(generated: Path, tmp_path: Path) -> None:
    lines = _file(generated, "woo-jsonl").read_bytes().splitlines(keepends=True)
    path = tmp_path / "joined.jsonl.gz"
    path.write_bytes(gzip.compress(b"".join(lines[:25])) + gzip.compress(b"".join(lines[25:])))
    orders, bad = read(path)
    assert (len(orders), bad) == (60, [])


def test_damaged_compressed_bytes_end_the_file_with_one_bad_row(
    generated: Path, tmp_path: Path
) -> None:
    packed = bytearray(gzip.compress(_file(generated, "woo-jsonl").read_bytes()))
    at = len(packed) * 3 // 4
    packed[at : at + 64] = bytes(64)
    path = tmp_path / "damaged.jsonl.gz"
    path.write_bytes(bytes(packed))
    orders, bad = read(path)
    assert 0 < len(orders) < 60
    assert "cut off or damaged" in bad[-1].reason
    assert all(b.line <= bad[-1].line for b in bad)
    ruined = tmp_path / "ruined.gz"
    ruined.write_bytes(packed[:10] + bytes(len(packed) - 10))
    with pytest.raises(ReaderError, match="damaged or cut off before its first order"):
        read(ruined)
