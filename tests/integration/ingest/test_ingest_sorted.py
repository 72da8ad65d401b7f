"""Rows land in the table in hpx order whatever the memory allowance (spilled and split
buckets included), frozen and all-visible for index-only scans, values intact."""

from __future__ import annotations

import math
from pathlib import Path

import cdshealpix
import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv
import pytest
from astropy import units as u
from astropy.coordinates import Latitude, Longitude
from sqlalchemy import text

from catalogs.ingest import IngestRequest, ingest

N = 60_000


def _catalogue(path: Path) -> pa.Table:
    """Uniform sky plus a clump packed into a few order-29 pixels (forces bucket splits),
    with NULL positions and NULL magnitudes mixed in."""
    rng = np.random.default_rng(11)
    ra = rng.uniform(0, 360, N)
    dec = np.degrees(np.arcsin(rng.uniform(-1, 1, N)))
    clump = rng.random(N) < 0.4
    ra[clump] = 150.0 + rng.normal(0, 2e-7, clump.sum())
    dec[clump] = 2.0 + rng.normal(0, 2e-7, clump.sum())
    no_pos = rng.random(N) < 0.02
    t = pa.table({
        "id": np.arange(N),
        "ra": pa.array(ra, mask=no_pos),
        "dec": pa.array(dec, mask=no_pos),
        "mag": pa.array(rng.normal(15, 2, N), mask=rng.random(N) < 0.1),
        "name": [f"star {i}" for i in range(N)],
    })
    pcsv.write_csv(t, path)
    return t


@pytest.mark.parametrize("memory_bytes", [64 << 10, 128 << 20], ids=["spilled", "in-memory"])
def test_rows_stored_in_hpx_order_values_intact(engine, tmp_path, memory_bytes):
    src = _catalogue(tmp_path / "cat.csv")
    res = ingest(engine, IngestRequest([tmp_path / "cat.csv"], "sorted.t",
                                       memory_bytes=memory_bytes))
    assert res.rows == N
    with engine.connect() as c:
        # physical order (ctid) is hpx order, NULL positions last, as ORDER BY hpx gives
        stored = c.execute(text("SELECT id, hpx, ra, dec, mag, name FROM sorted.t ORDER BY ctid"
                                )).all()
        left = c.execute(text("SELECT count(*) FROM pg_class WHERE relname LIKE '\\_vo\\_load%'"
                              )).scalar_one()
    assert left == 0
    hpx = [r[1] for r in stored]
    known = [h for h in hpx if h is not None]
    n_null = sum(1 for h in hpx if h is None)
    assert n_null == src.column("ra").null_count
    assert hpx[len(known):] == [None] * n_null and known == sorted(known)
    by_id = {r[0]: r for r in stored}
    assert len(by_id) == N
    ra, dec, mag = (src.column(k).to_pylist() for k in ("ra", "dec", "mag"))
    for i in range(N):
        r = by_id[i]
        assert r[2:4] == (ra[i], dec[i]) and r[5] == f"star {i}"
        assert (r[4] is None and mag[i] is None) or math.isclose(r[4], mag[i], rel_tol=1e-15)
    pos = np.array([(r[2], r[3]) for r in stored if r[1] is not None])
    ref = cdshealpix.nested.lonlat_to_healpix(Longitude(pos[:, 0] * u.deg),
                                              Latitude(pos[:, 1] * u.deg), 29)
    assert np.array_equal(np.array(known, dtype=np.int64), np.asarray(ref, dtype=np.int64))


def test_frozen_all_visible_index_only_scan(engine, tmp_path):
    """The visibility map is set (COPY FREEZE, then a VACUUM of the few pages it leaves),
    so counts over pixel ranges need no heap fetch (DESIGN.md HEALPix step 2)."""
    _catalogue(tmp_path / "cat.csv")
    ingest(engine, IngestRequest([tmp_path / "cat.csv"], "sorted.vm"))
    with engine.connect() as c:
        pages, visible = c.execute(text("SELECT relpages, relallvisible FROM pg_class"
                                        " WHERE oid = 'sorted.vm'::regclass")).one()
        c.execute(text("SET enable_seqscan = off"))
        c.execute(text("SET enable_bitmapscan = off"))
        plan = "\n".join(r[0] for r in c.execute(text(
            "EXPLAIN (ANALYZE, COSTS OFF) SELECT count(*) FROM sorted.vm"
            " WHERE hpx BETWEEN 0 AND (1::bigint << 58)")))
    assert pages > 0 and visible == pages
    assert "Index Only Scan" in plan and "Heap Fetches: 0" in plan, plan


def test_table_without_position_streams_and_restarts_on_late_types(engine, tmp_path):
    """Without a position nothing is sorted: rows are COPYed while the file is read, in
    file order. A type conflict found half-way, inside the running COPY, still restarts
    the load with careful type inference and leaves nothing of the first attempt."""
    import catalogs.ingest.readers.csv as csvmod

    rows = 300_000
    body = ["id,v,label"] + [f"{i},{i},plain {i}" for i in range(rows)] + [f"{rows},2.5,naïve"]
    path = tmp_path / "late.csv"
    path.write_text("\n".join(body) + "\n")
    assert path.stat().st_size > 4 * csvmod.BLOCK  # the conflict is blocks after the first
    res = ingest(engine, IngestRequest([path], "plain.t"))
    assert res.rows == rows + 1 and res.table.position is None
    assert {c.name: c.datatype for c in res.table.columns}["v"] == "double"
    with engine.connect() as c:
        ids = [r[0] for r in c.execute(text("SELECT id FROM plain.t ORDER BY ctid"))]
        assert c.execute(text("SELECT v, label FROM plain.t WHERE id = :i"),
                         {"i": rows}).one() == (2.5, "naïve")
    assert ids == list(range(rows + 1))


def test_index_names_follow_the_table_and_never_clash(engine, tmp_path):
    """Indexes are renamed after their table when it is swapped in; a table may be named
    like another table's index would be in PostgreSQL's own convention."""
    from catalogs.ingest import TableOptions

    path = tmp_path / "a.csv"
    path.write_text("id,ra,dec\n1,1,1\n2,2,2\n")
    pk = TableOptions(primary_key=["id"])
    ingest(engine, IngestRequest([path], "names.t", options=pk))
    ingest(engine, IngestRequest([path], "names.t_hpx_idx", options=pk))
    ingest(engine, IngestRequest([path], "names.t", mode="replace", options=pk))
    with engine.connect() as c:
        idx = c.execute(text("SELECT tablename, indexname FROM pg_indexes"
                             " WHERE schemaname = 'names' ORDER BY 1, 2")).all()
    assert [tuple(r) for r in idx] == [("t", "_t_hpx_idx"), ("t", "_t_pkey"),
                                       ("t_hpx_idx", "_t_hpx_idx_hpx_idx"),
                                       ("t_hpx_idx", "_t_hpx_idx_pkey")]
