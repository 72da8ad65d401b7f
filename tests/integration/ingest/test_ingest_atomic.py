"""An ingest killed half-way (kill -9) leaves the earlier table and TAP_SCHEMA intact, and
nothing behind: no table, no temporary file."""

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

# The child sorts with a small memory allowance, so that it spills to TMPDIR.
CHILD = """
import sys
from pathlib import Path
from catalogs.ingest import IngestRequest, ingest
from vo.db.engine import make_engine
ingest(make_engine(sys.argv[1], pool_size=2),
       IngestRequest([Path(sys.argv[2])], "atom.t", mode="replace", memory_bytes=8 << 20))
"""


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


def _spilling(pid: int, spill_dir: Path) -> bool:
    """The child holds an unlinked spill file in ``spill_dir`` open (not the short-lived
    named file Python's tempfile writes there first to check the directory is usable:
    killing the child at that moment would leave that probe behind)."""
    fd_dir = Path(f"/proc/{pid}/fd")
    try:
        links = (os.readlink(fd_dir / fd) for fd in os.listdir(fd_dir))
        return any(link.startswith(str(spill_dir)) and link.endswith(" (deleted)")
                   for link in links)
    except OSError:  # the child exited or closed the fd meanwhile
        return False


_IN_THIS_DB = "datid = (SELECT oid FROM pg_database WHERE datname = current_database())"
PHASES = {
    "spill": None,
    "copy": f"SELECT count(*) FROM pg_stat_progress_copy WHERE {_IN_THIS_DB}"
            " AND tuples_processed > 0",
    "index": f"SELECT count(*) FROM pg_stat_progress_create_index WHERE {_IN_THIS_DB}",
}


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc to watch the child")
@pytest.mark.parametrize("phase", list(PHASES))
def test_kill_9_mid_ingest(engine, db_url, tmp_path, phase):
    small = tmp_path / "small.csv"
    small.write_text("id,ra,dec,mag\n1,10,10,12.5\n2,20,-5,13.0\n")
    ingest(engine, IngestRequest([small], "atom.t"))
    before = _snapshot(engine)
    big = tmp_path / "big.csv"
    _big_csv(big, 1_500_000)
    spill_dir = tmp_path / "spill"
    spill_dir.mkdir()
    env = {**os.environ, "TMPDIR": str(spill_dir)}
    proc = subprocess.Popen([sys.executable, "-c", CHILD, db_url, str(big)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    seen = False
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            query = PHASES[phase]
            if query is None:
                seen = _spilling(proc.pid, spill_dir)
            else:
                with engine.connect() as c:
                    seen = c.execute(text(query)).scalar_one() > 0
            if seen:
                break
            time.sleep(0.01)
        assert seen and proc.poll() is None, "the ingest finished before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    assert _snapshot(engine) == before
    assert os.listdir(spill_dir) == []  # the spill file had no name: the kernel freed it
    # the next ingest succeeds and leaves no loading table behind
    ingest(engine, IngestRequest([small], "atom.t", mode="replace"))
    with engine.connect() as c:
        left = c.execute(text("SELECT count(*) FROM pg_class WHERE relname LIKE '\\_vo\\_load%'"
                              )).scalar_one()
    assert left == 0
    assert _snapshot(engine) == before
