"""An ingest killed half-way (kill -9) leaves the earlier table and TAP_SCHEMA intact."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv
import pytest
from sqlalchemy import text

from catalogs.ingest import IngestRequest, ingest


def _big_csv(path: Path, rows: int) -> None:
    rng = np.random.default_rng(3)
    t = pa.table({"id": np.arange(rows), "ra": rng.uniform(0, 360, rows),
                  "dec": np.degrees(np.arcsin(rng.uniform(-1, 1, rows))),
                  "mag": rng.normal(15, 2, rows)})
    pcsv.write_csv(t, path)


def _snapshot(engine) -> tuple:
    with engine.connect() as c:
        c.execute(text("SET ROLE vo_query"))  # what users see
        rows = c.execute(text("SELECT count(*), sum(id) FROM atom.t")).one()
        meta = c.execute(text("SELECT column_name, datatype, unit FROM tap_schema.columns"
                              " WHERE table_name = 'atom.t' ORDER BY column_index")).all()
        c.rollback()
    return tuple(rows), tuple(map(tuple, meta))


@pytest.mark.parametrize("phase", ["_vo_load_%", "_vo_load_%_final"])
def test_kill_9_mid_ingest(engine, db_url, tmp_path, phase):
    small = tmp_path / "small.csv"
    small.write_text("id,ra,dec,mag\n1,10,10,12.5\n2,20,-5,13.0\n")
    ingest(engine, IngestRequest([small], "atom.t"))
    before = _snapshot(engine)
    big = tmp_path / "big.csv"
    _big_csv(big, 1_500_000)
    env = {**os.environ, "VO_DATABASE_URL": db_url}
    proc = subprocess.Popen([sys.executable, "-m", "vo.cli.main", "ingest", str(big), "--table",
                             "atom.t", "--replace", "--quiet"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    seen = False
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            with engine.connect() as c:
                seen = c.execute(text("SELECT count(*) FROM pg_class WHERE relname LIKE :p"),
                                 {"p": phase}).scalar_one() > 0
            if seen:
                break
            time.sleep(0.02)
        assert seen and proc.poll() is None, "the ingest finished before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    assert _snapshot(engine) == before
    # the next ingest clears the leftovers and succeeds
    ingest(engine, IngestRequest([small], "atom.t", mode="replace"))
    with engine.connect() as c:
        left = c.execute(text("SELECT count(*) FROM pg_class WHERE relname LIKE '_vo_load_%'"
                              " AND relkind = 'r'")).scalar_one()
    assert left == 0
    assert _snapshot(engine) == before
