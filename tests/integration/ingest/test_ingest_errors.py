"""Bad input: a clear error naming file, line/row and column; nothing published is touched."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from catalogs.ingest import IngestRequest, TableOptions, ingest
from vo.errors import IngestError


def _csv(tmp_path: Path, name: str, body: str) -> Path:
    p = tmp_path / name
    p.write_text(body)
    return p


@pytest.mark.parametrize("name,body,code,words", [
    ("bad.csv", "id,ra,dec\n1,10,10\n2,20\n", "INGEST-CSV", ["bad.csv", "line 3", "expected 3"]),
    ("num.csv", "id,ra,dec,mag\n" + "".join(f"{i},1,1,{i}.5\n" for i in range(20)) + "20,1,1,x7\n",
     "INGEST-VALUE", ["num.csv", "line 22", "column mag", "'x7'"]),
    ("range.csv", "id,ra,dec\n1,10,10\n2,20,95.5\n", "INGEST-POSITION-RANGE",
     ["range.csv", "row 2", "column dec", "95.5"]),
    ("data.xyz", "id\n1\n", "INGEST-FORMAT", ["data.xyz", "unknown format"]),
    ("empty.csv", "", "INGEST-CSV", ["empty.csv"]),
])
def test_bad_files(engine, tmp_path, name, body, code, words):
    path = _csv(tmp_path, name, body)
    with pytest.raises(IngestError) as err:
        ingest(engine, IngestRequest([path], "bad.t"))
    assert err.value.code == code
    for w in words:
        assert w in err.value.message, err.value.message
    with engine.connect() as c:  # nothing left behind: no table, no metadata, no staging
        assert c.execute(text("SELECT to_regclass('bad.t')")).scalar_one() is None
        assert c.execute(text("SELECT count(*) FROM pg_class WHERE relname LIKE '_vo_load_%'"
                              )).scalar_one() == 0


def test_missing_position_columns(engine, tmp_path):
    path = _csv(tmp_path, "nopos.csv", "id,x,y\n1,2,3\n")
    with pytest.raises(IngestError, match="no position columns found") as err:
        ingest(engine, IngestRequest([path], "bad.t", require_position=True))
    assert "--ra" in err.value.message
    with pytest.raises(IngestError, match="'nope' is not in the file"):
        ingest(engine, IngestRequest([path], "bad.t", options=TableOptions(ra="x", dec="nope")))
    # without a position requirement the table is simply not positional
    res = ingest(engine, IngestRequest([path], "bad.t"))
    assert res.table.position is None


def test_invalid_unit_and_ucd(engine, tmp_path):
    path = _csv(tmp_path, "u.csv", "id,ra,dec\n1,1,1\n")
    (tmp_path / "u.csv.meta.toml").write_text('[columns.ra]\nunit = "degrees please"\n')
    with pytest.raises(IngestError, match="not a valid VOUnit"):
        ingest(engine, IngestRequest([path], "bad.t"))
    (tmp_path / "u.csv.meta.toml").write_text('[columns.ra]\nucd = "pos.eq.ra;nonsense.word"\n')
    with pytest.raises(IngestError, match="not a valid UCD1"):
        ingest(engine, IngestRequest([path], "bad.t"))


def test_existing_table_needs_replace_or_append(engine, tmp_path):
    path = _csv(tmp_path, "a.csv", "id,ra,dec\n1,1,1\n")
    ingest(engine, IngestRequest([path], "dup.t"))
    with pytest.raises(IngestError, match="already exists: use --replace") as err:
        ingest(engine, IngestRequest([path], "dup.t"))
    assert err.value.code == "INGEST-EXISTS"
    with pytest.raises(IngestError, match="does not exist"):
        ingest(engine, IngestRequest([path], "dup.other", mode="append"))


def test_duplicate_primary_key_keeps_old_table(engine, tmp_path):
    good = _csv(tmp_path, "g.csv", "id,ra,dec\n1,1,1\n2,2,2\n")
    ingest(engine, IngestRequest([good], "pk.t", options=TableOptions(primary_key=["id"])))
    dup = _csv(tmp_path, "d.csv", "id,ra,dec\n5,1,1\n5,2,2\n")
    with pytest.raises(IngestError, match="not unique"):
        ingest(engine, IngestRequest([dup], "pk.t", mode="replace",
                                     options=TableOptions(primary_key=["id"])))
    with engine.connect() as c:
        assert [r[0] for r in c.execute(text("SELECT id FROM pk.t ORDER BY id"))] == [1, 2]


def test_cli_reports_errors_without_traceback(db_url, tmp_path):
    path = _csv(tmp_path, "bad.csv", "id,ra,dec\n1,10,10\n2,20\n")
    env = {**os.environ, "VO_DATABASE_URL": db_url}
    env.pop("VO_DEBUG", None)
    res = subprocess.run([sys.executable, "-m", "vo.cli.main", "ingest", str(path),
                          "--table", "cli.t", "--quiet"], capture_output=True, text=True, env=env,
                         timeout=120)
    assert res.returncode == 1
    assert "error: INGEST-CSV:" in res.stderr and "line 3" in res.stderr
    assert "Traceback" not in res.stderr


def test_types_that_change_after_the_first_block(engine, tmp_path):
    """A column that is integer for a whole first block and then holds a float (or text)
    still loads exactly: the optimistic single pass restarts with careful inference."""
    import catalogs.ingest.readers.csv as csvmod

    rows = 400_000  # more than one 8 MiB block
    body = ["id,ra,dec,v,label"]
    body += [f"{i},{i % 360},{(i % 180) - 90},{i},plain" for i in range(rows)]
    body.append(f"{rows},1,1,2.5,naïve")
    path = _csv(tmp_path, "late.csv", "\n".join(body) + "\n")
    assert path.stat().st_size > csvmod.BLOCK
    res = ingest(engine, IngestRequest([path], "late.t"))
    assert res.rows == rows + 1
    types = {c.name: c.datatype for c in res.table.columns}
    assert types["v"] == "double" and types["label"] == "unicodeChar"
    with engine.connect() as c:
        assert c.execute(text("SELECT v, label FROM late.t WHERE id = :i"),
                         {"i": rows}).one() == (2.5, "naïve")
        assert c.execute(text("SELECT sum(v) FROM late.t")).scalar_one() == \
            sum(range(rows)) + 2.5
