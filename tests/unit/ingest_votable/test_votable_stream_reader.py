"""The streaming VOTable reader reads what astropy writes, in every serialisation, as astropy
reads it; chunking never changes the result (VOTable 1.4 sec. 5)."""

from __future__ import annotations

import gzip
import warnings
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from astropy.io import votable as vot
from astropy.table import MaskedColumn, Table

from .reading import read_astropy, read_ours

N = 9


def _sample() -> Table:
    rng = np.random.default_rng(7)
    t = Table()
    t["id"] = np.arange(N, dtype=np.int64) * 10**12
    t["ub"] = np.array([0, 1, 2, 3, 255, 128, 7, 8, 9], dtype=np.uint8)
    t["s16"] = MaskedColumn([1, -2, 3, 32767, -32768, 0, 7, 8, 9], dtype=np.int16,
                            mask=[0, 0, 1, 0, 0, 0, 1, 0, 0])
    t["i32"] = np.array([1, -2, 3, 2**31 - 1, -(2**31), 0, 7, 8, 9], dtype=np.int32)
    t["i64"] = MaskedColumn([2**62, -(2**62), 0, 1, 2, 3, 4, 5, 6], dtype=np.int64,
                            mask=[0, 1, 0, 0, 0, 0, 0, 0, 1])
    t["f32"] = np.array([1.5, np.nan, -1e-30, 3.25, 1e30, 0.0, np.inf, -np.inf, 2.0],
                        dtype=np.float32)
    t["f64"] = np.array([np.pi, 1 / 3, np.nan, -2.5e-300, 7.0, 8.0, 9.0, 1e300, -0.5])
    t["f64"].unit, t["f64"].description = "mag", "a magnitude"
    t["flag"] = np.array([True, False, True, True, False, False, True, False, True])
    t["vec"] = rng.normal(size=(N, 3))
    t["ivec"] = np.arange(N * 2, dtype=np.int16).reshape(N, 2)
    t["name"] = ["alpha", "β Ori", "", "q\"uote", "a&b<c>", "x" * 12, "é", "z", "ünï"]
    t["code"] = np.array([b"A", b"BB", b"", b"CCCC", b"D", b"E", b"F", b"G", b"H"])
    return t


def _write(t: Table, path: Path, serialization: str) -> Path:
    vt = vot.from_table(t)
    table = vt.get_first_table()
    table.format = serialization
    table.get_field_by_id("s16").values.null = -999  # BINARY needs magic values for NULLs
    table.get_field_by_id("i64").values.null = -1
    table.get_field_by_id("f64").ucd = "phot.mag"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        vt.to_xml(str(path))
    return path


@pytest.mark.parametrize("serialization", ["tabledata", "binary", "binary2"])
@pytest.mark.parametrize("chunk_rows", [1, 4, 1000])
def test_matches_astropy(tmp_path: Path, serialization: str, chunk_rows: int):
    path = _write(_sample(), tmp_path / f"s.{serialization}.vot", serialization)
    reader, ours = read_ours(path, chunk_rows)
    theirs = read_astropy(path)
    assert list(ours) == list(theirs)
    for name in theirs:
        assert ours[name] == theirs[name], name
    # and both hold what was written: NULLs where masked, NaN read as NULL
    assert ours["s16"][2] is None and ours["s16"][6] is None and ours["s16"][3] == 32767
    assert ours["i64"][1] is None and ours["i64"][0] == 2**62
    assert ours["f32"][1] is None and ours["f32"][6] == float("inf")
    assert ours["name"][1] == "β Ori" and ours["name"][4] == "a&b<c>"
    types = {s.source_name: s.arrow_type for s in reader.specs}
    assert types["vec"] == pa.list_(pa.float64(), 3) and types["ub"] == pa.uint8()
    assert types["flag"] == pa.bool_() and types["name"] == pa.string()
    spec = {s.source_name: s for s in reader.specs}["f64"]
    assert (spec.unit, spec.ucd, spec.description) == ("mag", "phot.mag", "a magnitude")
    assert not {s.source_name: s for s in reader.specs}["name"].ascii_only


def test_chunking_is_invisible(tmp_path: Path):
    path = _write(_sample(), tmp_path / "c.vot", "binary2")
    whole = read_ours(path, 1000)[1]
    for rows in (1, 2, 3, 8):
        assert read_ours(path, rows)[1] == whole


def test_variable_arrays_and_strings_from_our_writer(tmp_path: Path):
    """vo.votable's BINARY2 writer: variable-length char/unicodeChar and arrays, NULLs."""
    from vo.meta import ColumnMeta
    from vo.votable import Serialization, VOTableWriter

    cols = [ColumnMeta(name="id", datatype="long"),
            ColumnMeta(name="txt", datatype="unicodeChar", arraysize="*"),
            ColumnMeta(name="asc", datatype="char", arraysize="*"),
            ColumnMeta(name="arr", datatype="double", arraysize="*"),
            ColumnMeta(name="f", datatype="float"),
            ColumnMeta(name="t", datatype="char", arraysize="*", xtype="timestamp")]
    import datetime as dt

    rows = [(1, "héllo", "a", [1.0, 2.0], 1.5, dt.datetime(2020, 1, 2, 3, 4, 5)),
            (2, None, None, None, None, None),
            (3, "", "", [], 2.5, dt.datetime(1999, 12, 31, 23, 59, 59, 250000)),
            (4, "ω" * 40, "x" * 300, [float(i) for i in range(50)], -0.0, None)]
    for ser in (Serialization.BINARY2, Serialization.BINARY, Serialization.TABLEDATA):
        path = tmp_path / f"ours-{ser}.vot"
        with open(path, "wb") as out:
            VOTableWriter(cols, serialization=ser).write_to([rows[:3], rows[3:]], out)
        for chunk in (1, 3, 10):
            reader, ours = read_ours(path, chunk)
            theirs = read_astropy(path)
            assert ours["id"] == [1, 2, 3, 4]
            # astropy reads a NULL string as ""; BINARY2 flags it (VOTable 1.4 sec. 5.4)
            null_text = None if ser is Serialization.BINARY2 else ""
            for name in ("txt", "asc"):
                assert ours[name][1] == null_text
                assert ours[name][:1] + ours[name][2:] == theirs[name][:1] + theirs[name][2:]
            assert ours["txt"][0] == "héllo" and ours["txt"][3] == "ω" * 40
            assert ours["asc"][3] == "x" * 300
            assert ours["arr"][0] == [1.0, 2.0] and ours["arr"][3] == list(range(50))
            assert ours["arr"][1] in (None, [])  # NULL (BINARY2) or empty: not distinguished
            assert ours["f"][1] is None
            assert ours["t"][0] == dt.datetime(2020, 1, 2, 3, 4, 5) and ours["t"][1] is None
            assert ours["t"][2] == dt.datetime(1999, 12, 31, 23, 59, 59, 250000)
            types = {s.source_name: s.arrow_type for s in reader.specs}
            assert types["arr"] == pa.list_(pa.float64()) and types["t"] == pa.timestamp("us")


def test_gzip_file_and_empty_table(tmp_path: Path):
    t = _sample()
    for ser in ("tabledata", "binary2"):
        raw = _write(t, tmp_path / f"g.{ser}.vot", ser)
        packed = tmp_path / f"g.{ser}.vot.gz"
        packed.write_bytes(gzip.compress(raw.read_bytes()))
        assert read_ours(packed, 4)[1] == read_ours(raw)[1]
        empty = _write(t[:0], tmp_path / f"e.{ser}.vot", ser)
        reader, got = read_ours(empty)
        assert got["id"] == [] and len(reader.specs) == len(t.columns)


def test_character_reference_split_across_blocks(tmp_path: Path):
    """A base64 character written as a reference (&#65; is 'A') that straddles the reader's
    1 MiB block boundary decodes as the character, not as broken base64."""
    from catalogs.ingest.readers.votable import _BLOCK
    from vo.meta import ColumnMeta
    from vo.votable import Serialization, VOTableWriter

    n = 120_000
    rows = [(i, i * 0.5) for i in range(n)]
    cols = [ColumnMeta(name="id", datatype="long"), ColumnMeta(name="x", datatype="double")]
    path = tmp_path / "ref.vot"
    with open(path, "wb") as out:
        VOTableWriter(cols, serialization=Serialization.BINARY2).write_to([rows], out)
    data = path.read_bytes()
    start = data.index(b'encoding="base64">') + len(b'encoding="base64">')
    at = data.index(b"A", _BLOCK - 2000)  # an 'A' of the base64 text shortly before the boundary
    assert start < at < _BLOCK - 2
    pad = b"\n" * (_BLOCK - 2 - at)  # whitespace, ignored in base64, moves it to the boundary
    data = data[:at] + pad + b"&#65;" + data[at + 1:]
    assert data[_BLOCK - 2:_BLOCK] == b"&#"
    path.write_bytes(data)
    _, got = read_ours(path, 50_000)
    assert got["id"] == list(range(n)) and got["x"][-1] == (n - 1) * 0.5
