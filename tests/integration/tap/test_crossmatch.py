"""An upload crossmatch through /tap/sync with pyvo on a live server (TAP 1.1 sec. 2.5.6
TAP_UPLOAD; DESIGN.md HEALPix step 5): the translation takes the neighbour-range plan
and the matches equal a numpy brute force over every pair."""

from __future__ import annotations

import io

import numpy as np
from astropy.table import Table

from tests.integration.tap.conftest import _hip_table
from tests.sky import offset_positions
from vo import healpix
from vo.adql import StaticSchema, translate
from vo.config import load_settings
from vo.db.uploads import parse_votable


def _within(ura, udec, hra, hdec, r_deg: float) -> set[tuple[int, int]]:
    u = np.stack(healpix.unit_vectors(ura, udec), axis=1)
    h = np.stack(healpix.unit_vectors(hra, hdec), axis=1)
    d = np.degrees(2 * np.arcsin(np.clip(np.linalg.norm(u[:, None] - h[None], axis=2) / 2, 0, 1)))
    i, j = np.nonzero(d <= r_deg)
    return {(int(a), int(b)) for a, b in zip(i, j, strict=True)}


def test_pyvo_upload_crossmatch_takes_the_range_plan(live_url: str) -> None:
    import pyvo

    svc = pyvo.dal.TAPService(f"{live_url}/tap")
    hip = svc.run_sync("SELECT hip, ra, dec FROM hipparcos.hip2", maxrec=5000).to_table()
    rng = np.random.default_rng(5)
    pick = rng.choice(len(hip), 300, replace=False)
    sep = rng.choice([0.2, 0.9, 1.1, 3.0], 300) / 3600  # in, in, out, out of a 1" circle
    ra, dec = np.asarray(hip["ra"])[pick], np.asarray(hip["dec"])[pick]
    ura, udec = offset_positions(ra, dec, sep, rng)
    ura[:3], udec[:3] = np.nan, np.nan  # no position: no match
    up = Table({"id": np.arange(300, dtype=np.int32), "ra": ura, "dec": udec})
    up["ra"] = np.ma.masked_invalid(up["ra"])
    up["dec"] = np.ma.masked_invalid(up["dec"])
    q = (
        "SELECT u.id, h.hip FROM TAP_UPLOAD.mine AS u JOIN hipparcos.hip2 AS h ON "
        "1 = CONTAINS(POINT('ICRS', h.ra, h.dec), CIRCLE('ICRS', u.ra, u.dec, 1.0/3600))"
    )
    buf = io.BytesIO()
    up.write(buf, format="votable")
    upload = parse_votable("mine", buf.getvalue(), load_settings(env={}))
    t = translate(q, StaticSchema((_hip_table(), upload.table), version="xm-tap"))
    assert t.fast_paths == 1 and "LATERAL" in t.sql

    r = svc.run_sync(q, uploads={"mine": up}, maxrec=5000).to_table()
    got = {(int(a), int(b)) for a, b in zip(r["id"], r["hip"], strict=True)}
    ok = np.isfinite(ura)
    want_idx = _within(ura[ok], udec[ok], np.asarray(hip["ra"]), np.asarray(hip["dec"]), 1 / 3600)
    ids = np.flatnonzero(ok)
    want = {(int(ids[i]), int(hip["hip"][j])) for i, j in want_idx}
    assert len(want) > 100
    assert got == want

    # the DISTANCE form in WHERE over a comma join, 2 arcsec
    q2 = (
        "SELECT u.id, h.hip FROM TAP_UPLOAD.mine AS u, hipparcos.hip2 AS h WHERE "
        "DISTANCE(POINT(u.ra, u.dec), POINT(h.ra, h.dec)) < 2.0/3600 AND h.hip > 0"
    )
    r2 = svc.run_sync(q2, uploads={"mine": up}, maxrec=5000).to_table()
    got2 = {(int(a), int(b)) for a, b in zip(r2["id"], r2["hip"], strict=True)}
    want2 = {
        (int(ids[i]), int(hip["hip"][j]))
        for i, j in _within(
            ura[ok], udec[ok], np.asarray(hip["ra"]), np.asarray(hip["dec"]), 2 / 3600
        )
    }
    assert got2 == want2 and len(got2) > len(got)
