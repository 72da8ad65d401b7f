"""Gzip- and bzip2-compressed CSV/TSV input: streamed, value for value; bad input is a clear
INGEST-FILE error naming the file, and nothing is published."""

from __future__ import annotations

import bz2
import gzip
from pathlib import Path

import pytest
from sqlalchemy import text

from catalogs.ingest import IngestRequest, ingest
from catalogs.ingest.readers import open_reader
from vo.errors import IngestError

ROWS = 30_000  # about 1.5 MB of text: more than one 1 MiB block of the streaming reader


def _row(i: int) -> tuple:
    """id, ra, dec, mag (NULL every 7th row), name (non-ASCII, quotes, delimiters)."""
    mag = None if i % 7 == 0 else round(10 + (i % 1000) / 97, 6)
    name = f"β Ori {i}" if i % 5 == 0 else f'q"{i}, x' if i % 5 == 1 else f"s{i}"
    return i, (i * 0.0123) % 360, -89.5 + (i * 0.0061) % 179, mag, name


def _text(delimiter: str) -> str:
    def field(v: object) -> str:
        if v is None:
            return ""
        s = str(v)
        if any(ch in s for ch in (delimiter, '"', "\n")):
            s = '"' + s.replace('"', '""') + '"'
        return s

    head = delimiter.join(("id", "ra", "dec", "mag", "name"))
    return head + "\n" + "".join(delimiter.join(field(v) for v in _row(i)) + "\n"
                                 for i in range(ROWS))


COMPRESSORS = {"gzip": gzip.compress, "bz2": bz2.compress}


@pytest.mark.parametrize("name,codec,fmt", [
    ("cat.csv.gz", "gzip", None),
    ("cat.tsv.gz", "gzip", None),
    ("cat.csv.bz2", "bz2", None),
    ("cat.tsv.bz2", "bz2", None),
    ("cat.dat", "gzip", "csv"),  # no suffix: the gzip signature decides
])
def test_compressed_csv_is_ingested_value_for_value(engine, tmp_path: Path, name, codec, fmt):
    delimiter = "\t" if ".tsv" in name else ","
    path = tmp_path / name
    path.write_bytes(COMPRESSORS[codec](_text(delimiter).encode()))

    reader = open_reader(path, fmt)  # streamed in blocks, not read whole
    assert sum(1 for _ in reader.batches()) > 1

    res = ingest(engine, IngestRequest([path], "cmp.cat", fmt=fmt))
    assert res.rows == ROWS
    assert res.table.position is not None  # ra/dec found: rows went through the pixel sort
    with engine.connect() as c:
        got = c.execute(text("SELECT id, ra, dec, mag, name FROM cmp.cat ORDER BY id")).all()
    assert len(got) == ROWS
    for i in (0, 1, 2, 5, 7, 4999, ROWS - 1):
        want = _row(i)
        row = tuple(got[i])
        assert row[0] == want[0] and row[4] == want[4], (row, want)
        assert row[1] == pytest.approx(want[1], rel=1e-12)
        assert row[2] == pytest.approx(want[2], rel=1e-12)
        assert (row[3] is None) if want[3] is None else row[3] == pytest.approx(want[3])
    assert sum(r[0] for r in got) == ROWS * (ROWS - 1) // 2
    assert sum(r[3] is None for r in got) == len(range(0, ROWS, 7))


def _big_csv() -> bytes:
    """Over 8 MiB of text, so types come from the first 8 MiB and the rest is streamed."""
    lines = [f"{i},{i % 360}.25,{i % 90}.5,{i % 17}" for i in range(800_000)]
    return ("id,ra,dec,mag\n" + "\n".join(lines) + "\n").encode()


def _truncated(codec: str) -> bytes:
    data = COMPRESSORS[codec](_big_csv())
    return data[: len(data) * 3 // 4]


def _bad_crc() -> bytes:
    data = bytearray(gzip.compress(_text(",").encode()))
    data[-6] ^= 1  # the CRC-32 of the trailer (RFC 1952 sec. 2.3.1)
    return bytes(data)


def _flipped_bz2() -> bytes:
    data = bytearray(bz2.compress(_text(",").encode()))
    data[len(data) // 2] ^= 0x10
    return bytes(data)


@pytest.mark.parametrize("name,make,words", [
    ("late.csv.gz", lambda: _truncated("gzip"), ["corrupt or truncated gzip data", "after row"]),
    ("late.csv.bz2", lambda: _truncated("bz2"), ["corrupt or truncated bz2 data", "after row"]),
    ("crc.csv.gz", _bad_crc, ["corrupt or truncated gzip data"]),
    ("flip.csv.bz2", _flipped_bz2, ["corrupt or truncated bz2 data"]),
    ("plain.csv.gz", lambda: b"id,ra,dec\n1,2,3\n", ["named .gz", "gzip data"]),
    ("empty.tsv.gz", lambda: b"", ["named .gz but is empty"]),
    ("swapped.csv.bz2", lambda: gzip.compress(b"id,ra,dec\n1,2,3\n"), ["named .bz2"]),
])
def test_bad_compressed_input_is_a_clear_error(engine, tmp_path: Path, name, make, words):
    path = tmp_path / name
    path.write_bytes(make())
    with pytest.raises(IngestError) as err:
        ingest(engine, IngestRequest([path], "cmp.bad"))
    assert err.value.code == "INGEST-FILE"
    assert str(path) in err.value.message
    for w in words:
        assert w in err.value.message, err.value.message
    with engine.connect() as c:  # nothing published, no staging table left
        assert c.execute(text("SELECT to_regclass('cmp.bad')")).scalar_one() is None
        assert c.execute(text("SELECT count(*) FROM pg_class WHERE relname LIKE '_vo_load_%'"
                              )).scalar_one() == 0
