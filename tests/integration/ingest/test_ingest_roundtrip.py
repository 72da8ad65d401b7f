"""Ingest round trips value for value, NULLs and metadata included, for every input format."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from astropy.io import fits
from astropy.io import votable as vot
from astropy.table import MaskedColumn, Table
from sqlalchemy import text

from catalogs.ingest import IngestRequest, ingest
from vo.db import tap_schema

N = 7
IDS = [1, 2, 3, 4, 5, 6, 7]
RA = [0.0, 10.5, 359.999, 180.0, 45.25, 271.3, 12.0]
DEC = [-90.0, -20.25, 89.999, 0.0, 45.0, -66.56, 1.5]
SHORTS = [1, -2, None, 32767, -32768, 0, 7]
LONGS = [2**40, None, -(2**62), 0, 1, 5, 6]
FLOATS = [1.5, None, -1e-30, 3.25, 1e30, 0.0, 2.0]
DOUBLES = [math.pi, 1 / 3, None, -2.5e-300, 7.0, 8.0, 9.0]
NAMES = ["alpha", "β Ori", None, 'q"uote', "comma, here", "", "x"]
FLAGS = [True, False, None, True, False, True, False]
TIMES = [dt.datetime(2020, 1, 1), None, dt.datetime(1999, 12, 31, 23, 59, 59, 500000),
         dt.datetime(2021, 6, 1, 12, 30), dt.datetime(2000, 1, 1), dt.datetime(1970, 1, 1),
         dt.datetime(2030, 2, 3, 4, 5, 6)]
UNITS = {"ra": "deg", "dec": "deg", "mag": "mag"}


def _fetch(engine, table: str, cols: str) -> list[tuple]:
    with engine.connect() as c:
        return [tuple(r) for r in c.execute(text(f"SELECT {cols} FROM {table} ORDER BY id"))]


def _meta(engine, table: str) -> dict[str, tuple]:
    with engine.connect() as c:
        (t,) = tap_schema.load_tables(c, [table])
    return {col.name: (col.datatype, col.arraysize, col.xtype, col.unit, col.ucd,
                       col.description) for col in t.columns}


def _close(a, b) -> bool:
    if a is None or b is None:
        return a is b
    if isinstance(a, float):
        return a == pytest.approx(b, rel=1e-6)
    return a == b


def test_csv_roundtrip_with_sidecar(engine, tmp_path: Path):
    path = tmp_path / "cat.csv"
    lines = ["id,ra,dec,mag,name,flag,t,size"]
    for i in range(N):
        def f(v):
            if v is None:
                return ""
            if isinstance(v, str):
                return '"' + v.replace('"', '""') + '"'
            if isinstance(v, bool):
                return "true" if v else "false"
            if isinstance(v, dt.datetime):
                return v.isoformat()
            return repr(v)
        lines.append(",".join(f(v) for v in (IDS[i], RA[i], DEC[i], DOUBLES[i], NAMES[i],
                                              FLAGS[i], TIMES[i], SHORTS[i])))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (tmp_path / "cat.csv.meta.toml").write_text(
        '[table]\ndescription = "edge cases"\nepoch = "J2000.0"\nprimary_key = ["id"]\n'
        '[columns.ra]\nunit = "deg"\nucd = "pos.eq.ra;meta.main"\ndescription = "RA"\n'
        '[columns.dec]\nunit = "deg"\nucd = "pos.eq.dec;meta.main"\n'
        '[columns.mag]\nunit = "mag"\nucd = "phot.mag"\n')
    res = ingest(engine, IngestRequest([path], "edge.csvcat"))
    assert res.rows == N
    got = _fetch(engine, "edge.csvcat", 'id, ra, dec, mag, name, flag, t, "size"')
    for i, row in enumerate(got):
        expected = (IDS[i], RA[i], DEC[i], DOUBLES[i], NAMES[i], FLAGS[i], TIMES[i], SHORTS[i])
        assert all(_close(a, b) for a, b in zip(row, expected, strict=True)), (row, expected)
    meta = _meta(engine, "edge.csvcat")
    assert meta["ra"][3:] == ("deg", "pos.eq.ra;meta.main", "RA")
    assert meta['"size"'][0] in ("short", "int", "long")  # reserved word: delimited
    assert meta["name"][:2] == ("unicodeChar", "*")
    assert meta["t"][:3] == ("char", "*", "timestamp")
    assert meta["flag"][0] == "boolean"
    assert res.table.position is not None and res.table.position.epoch == "J2000.0"
    assert res.table.primary_key == ("id",)


ASCII_NAMES = [n.replace("β", "b") if n else n for n in NAMES]


def _astropy_table(names: list[str | None] = NAMES) -> Table:
    t = Table()
    t["id"] = np.array(IDS, dtype=np.int64)
    t["ra"] = np.array(RA)
    t["ra"].unit, t["ra"].description = "deg", "Right ascension"
    t["dec"] = np.array(DEC)
    t["dec"].unit = "deg"
    t["short"] = MaskedColumn([0 if v is None else v for v in SHORTS], dtype=np.int16,
                              mask=[v is None for v in SHORTS])
    t["long"] = MaskedColumn([0 if v is None else v for v in LONGS], dtype=np.int64,
                             mask=[v is None for v in LONGS])
    t["flt"] = np.array([np.nan if v is None else v for v in FLOATS], dtype=np.float32)
    t["dbl"] = np.array([np.nan if v is None else v for v in DOUBLES])
    t["dbl"].unit = "mag"
    t["vec"] = np.arange(N * 3, dtype=np.float64).reshape(N, 3)
    t["name"] = [v or "" for v in names]
    return t


def _check_common(engine, table: str, *, names_null: bool,
                  names: list[str | None] = NAMES) -> None:
    got = _fetch(engine, table, 'id, ra, dec, short, long, flt, dbl, vec, name')
    assert len(got) == N
    for i, row in enumerate(got):
        assert row[0] == IDS[i] and _close(row[1], RA[i]) and _close(row[2], DEC[i])
        assert row[3] == SHORTS[i] and row[4] == LONGS[i]
        assert _close(row[5], FLOATS[i]) and _close(row[6], DOUBLES[i])
        assert row[7] == [3 * i, 3 * i + 1, 3 * i + 2]
        expected_name = names[i] if names_null else (names[i] or "")
        assert row[8] == expected_name, (row[8], expected_name)
    meta = _meta(engine, table)
    assert meta["ra"][3] == "deg" and meta["dbl"][3] == "mag"
    assert meta["vec"][:2] == ("double", "3")
    assert meta["short"][0] == "short" and meta["long"][0] == "long"
    assert meta["flt"][0] == "float" and meta["dbl"][0] == "double"


def test_fits_roundtrip_tnull_and_nan(engine, tmp_path: Path):
    t = _astropy_table(ASCII_NAMES)  # FITS character columns are ASCII
    path = tmp_path / "cat.fits"
    t.write(path)
    with fits.open(path) as h:  # astropy writes TNULL for the masked integer columns
        assert any(k.startswith("TNULL") for k in h[1].header)
    ingest(engine, IngestRequest([path], "edge.fitscat"))
    _check_common(engine, "edge.fitscat", names_null=False, names=ASCII_NAMES)


@pytest.mark.parametrize("serialization", ["tabledata", "binary", "binary2"])
def test_votable_roundtrip(engine, tmp_path: Path, serialization: str):
    t = _astropy_table()
    t["name"] = MaskedColumn([v or "" for v in NAMES], mask=[v is None for v in NAMES])
    t["ra"].meta["ucd"] = "pos.eq.ra;meta.main"
    path = tmp_path / f"cat-{serialization}.vot"
    vt = vot.from_table(t)
    vt.get_first_table().get_field_by_id("ra").ucd = "pos.eq.ra;meta.main"
    vt.get_first_table().get_field_by_id("dec").ucd = "pos.eq.dec;meta.main"
    vt.get_first_table().format = serialization
    vt.get_first_table().get_field_by_id("short").values.null = 12345  # not a data value
    vt.get_first_table().get_field_by_id("long").values.null = -1
    vt.to_xml(str(path))
    ingest(engine, IngestRequest([path], f"edge.vot_{serialization}"))
    # BINARY2 flags a NULL string; TABLEDATA (empty TD) and BINARY cannot tell it from ""
    # (VOTable 1.4 sec. 5.5)
    _check_common(engine, f"edge.vot_{serialization}", names_null=serialization == "binary2")
    assert _meta(engine, f"edge.vot_{serialization}")["ra"][4] == "pos.eq.ra;meta.main"


def test_parquet_roundtrip_with_field_metadata(engine, tmp_path: Path):
    cols = {
        "id": pa.array(IDS, pa.int64()),
        "ra": pa.array(RA), "dec": pa.array(DEC),
        "short": pa.array(SHORTS, pa.int16()), "long": pa.array(LONGS, pa.int64()),
        "flt": pa.array(FLOATS, pa.float32()), "dbl": pa.array(DOUBLES),
        "vec": pa.array([[3 * i, 3 * i + 1, 3 * i + 2] for i in range(N)],
                        pa.list_(pa.float64(), 3)),
        "name": pa.array(NAMES), "flag": pa.array(FLAGS), "t": pa.array(TIMES, pa.timestamp("us")),
    }
    fields = [pa.field(k, v.type, metadata={"unit": UNITS[k]} if k in UNITS else None)
              for k, v in cols.items()]
    fields[5] = fields[5].with_metadata({"unit": "mag", "ucd": "phot.mag", "description": "flux"})
    fields[6] = fields[6].with_metadata({"unit": "mag"})
    path = tmp_path / "cat.parquet"
    pq.write_table(pa.Table.from_arrays(list(cols.values()), schema=pa.schema(fields)), path,
                   row_group_size=3)
    ingest(engine, IngestRequest([path], "edge.pq", chunk_rows=2))
    _check_common(engine, "edge.pq", names_null=True)
    got = _fetch(engine, "edge.pq", "flag, t")
    assert [r[0] for r in got] == FLAGS and [r[1] for r in got] == TIMES
    assert _meta(engine, "edge.pq")["flt"][3:] == ("mag", "phot.mag", "flux")


def test_multiple_files_append_and_replace(engine, tmp_path: Path):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text("id,ra,dec\n1,1.0,1.0\n2,2.0,2.0\n")
    b.write_text("id,ra,dec\n3,3.5,-3.0\n")
    ingest(engine, IngestRequest([a, b], "multi.t"))
    assert [r[0] for r in _fetch(engine, "multi.t", "id")] == [1, 2, 3]
    ingest(engine, IngestRequest([b], "multi.t", mode="append"))
    assert [r[0] for r in _fetch(engine, "multi.t", "id")] == [1, 2, 3, 3]
    ingest(engine, IngestRequest([a], "multi.t", mode="replace"))
    assert [r[0] for r in _fetch(engine, "multi.t", "id")] == [1, 2]
    with engine.connect() as c:  # rows are stored in hpx order (clustered for cone queries)
        hpx = [r[0] for r in c.execute(text("SELECT hpx FROM multi.t"))]
        assert hpx == sorted(hpx)
        n = c.execute(text("SELECT count(*) FROM tap_schema.columns WHERE table_name = 'multi.t'"
                           " AND column_name IN ('hpx', 'cx', 'cy', 'cz')")).scalar_one()
        assert n == 0  # internal columns are hidden from TAP_SCHEMA
