"""/tap/sync: parameters, formats, MAXREC overflow, errors, uploads (Flask test client)."""

from __future__ import annotations

import io

import pytest
from astropy.io.votable import parse_single_table
from astropy.table import Table

from tests.integration.tap.xsd import validate

VOT = "http://www.ivoa.net/xml/VOTable/v1.3"


def _q(client, query, method="post", **extra):
    data = {"LANG": "ADQL", "QUERY": query, **extra}
    if method == "get":
        return client.get("/tap/sync", query_string=data)
    return client.post("/tap/sync", data=data)


def _table(data: bytes):
    return parse_single_table(io.BytesIO(data)).to_table()


def test_basic_query_binary2_with_metadata(client):
    r = _q(client, "SELECT TOP 5 hip, ra, dec, hpmag FROM hipparcos.hip2 ORDER BY hip")
    assert r.status_code == 200, r.data[:500]
    assert r.mimetype == "application/x-votable+xml"
    validate(r.data, VOT)
    t = _table(r.data)
    assert list(t["hip"]) == [1, 2, 3, 4, 5]
    assert str(t["ra"].unit) == "deg"
    assert b'name="QUERY_STATUS" value="OK"' in r.data
    assert b"<COOSYS" in r.data and b'epoch="J1991.25"' in r.data
    assert b"BINARY2" in r.data


def test_get_request_optional_and_case_insensitive_names(client):
    r = client.get(
        "/tap/sync",
        query_string={
            "lang": "ADQL",
            "query": "SELECT TOP 1 hip FROM hipparcos.hip2",
            "Format": "votable/td",
        },
    )
    assert r.status_code == 200
    assert b"<TABLEDATA>" in r.data
    r = _q(client, "SELECT TOP 1 hip FROM hipparcos.hip2", REQUEST="doQuery", EXTRA="ignored")
    assert r.status_code == 200


def test_maxrec_overflow_and_default(client):
    r = _q(client, "SELECT hip FROM hipparcos.hip2", MAXREC="10")
    assert len(_table(r.data)) == 10
    tail = r.data[r.data.rindex(b"</TABLE>") :]
    assert b'value="OVERFLOW"' in tail
    r = _q(client, "SELECT hip FROM hipparcos.hip2")  # default maxrec 1000 < 2000 rows
    assert len(_table(r.data)) == 1000 and b'value="OVERFLOW"' in r.data
    r = _q(client, "SELECT TOP 3 hip FROM hipparcos.hip2", MAXREC="10")
    assert len(_table(r.data)) == 3 and b"OVERFLOW" not in r.data


def test_maxrec_zero_gives_metadata_and_overflow(client):
    r = _q(client, "SELECT hip, ra FROM hipparcos.hip2", MAXREC="0")
    assert r.status_code == 200
    t = _table(r.data)
    assert len(t) == 0 and t.colnames == ["hip", "ra"]
    assert b'value="OVERFLOW"' in r.data


@pytest.mark.parametrize(
    "fmt,mime",
    [
        ("csv", "text/csv"),
        ("text/csv", "text/csv"),
        ("tsv", "text/tab-separated-values"),
        ("votable/td", "application/x-votable+xml"),
        ("text/xml", "text/xml"),
        ("votable/b", "application/x-votable+xml"),
        ("parquet", "application/vnd.apache.parquet"),
        ("fits", "application/fits"),
        ("json", "application/json"),
    ],
)
def test_formats(client, fmt, mime):
    r = _q(client, "SELECT TOP 4 hip, ra FROM hipparcos.hip2 ORDER BY hip", RESPONSEFORMAT=fmt)
    assert r.status_code == 200, r.data[:400]
    assert r.mimetype == mime
    if fmt in ("csv", "text/csv"):
        assert r.headers["Content-Type"].startswith("text/csv")
        assert r.data.decode().splitlines()[0] == "hip,ra"
        assert len(r.data.decode().splitlines()) == 5
    elif fmt == "parquet":
        import pyarrow.parquet as pq

        assert pq.read_table(io.BytesIO(r.data)).column("hip").to_pylist() == [1, 2, 3, 4]
    elif fmt == "fits":
        assert list(Table.read(io.BytesIO(r.data), format="fits")["hip"]) == [1, 2, 3, 4]
    elif "votable" in fmt or fmt == "text/xml":
        assert list(_table(r.data)["hip"]) == [1, 2, 3, 4]


def test_csv_media_type_echoed(client):
    r = _q(client, "SELECT TOP 1 hip FROM hipparcos.hip2", RESPONSEFORMAT="text/csv;header=present")
    assert r.headers["Content-Type"].replace(" ", "").startswith("text/csv;header=present")


def test_errors_are_dali_votables(client):
    cases = [
        ({"LANG": "ADQL", "QUERY": "SELEC hip FROM hipparcos.hip2"}, b"line 1"),
        ({"LANG": "ADQL", "QUERY": "SELECT nosuch FROM hipparcos.hip2"}, b"nosuch"),
        ({"LANG": "ADQL", "QUERY": "SELECT * FROM nosuch.t"}, b"nosuch"),
        ({"LANG": "SQL", "QUERY": "SELECT 1"}, b"LANG"),
        ({"LANG": "ADQL"}, b"QUERY"),
        ({"QUERY": "SELECT nosuch FROM hipparcos.hip2"}, b"nosuch"),  # LANG defaults to ADQL
        ({"LANG": "ADQL", "QUERY": "SELECT hip FROM hipparcos.hip2", "MAXREC": "x"}, b"MAXREC"),
        (
            {"LANG": "ADQL", "QUERY": "SELECT hip FROM hipparcos.hip2", "RESPONSEFORMAT": "x/y"},
            b"RESPONSEFORMAT",
        ),
        (
            {
                "LANG": "ADQL",
                "QUERY": "SELECT hip FROM hipparcos.hip2",
                "REQUEST": "getCapabilities",
            },
            b"REQUEST",
        ),
        ({"LANG": "ADQL", "QUERY": "SELECT 1/(hip-hip) FROM hipparcos.hip2"}, b"division"),
    ]
    for data, needle in cases:
        r = client.post("/tap/sync", data=data)
        assert r.status_code == 400, (data, r.data[:300])
        assert r.mimetype == "application/x-votable+xml"
        assert b'name="QUERY_STATUS" value="ERROR"' in r.data, data
        assert needle in r.data, (data, r.data)
        assert b"Traceback" not in r.data
        validate(r.data, VOT)


def test_repeated_single_valued_parameter_is_an_error(client):
    r = client.post("/tap/sync", data={"LANG": "ADQL", "QUERY": ["SELECT 1", "SELECT 2"]})
    assert r.status_code == 400 and b"TAP-PARAM-REPEATED" in r.data
    r = client.post("/tap/sync?maxrec=3", data={"LANG": "ADQL", "QUERY": "SELECT 1", "MAXREC": "4"})
    assert r.status_code == 400 and b"MAXREC" in r.data


def test_tap_schema_queryable(client):
    r = _q(client, "SELECT table_name FROM TAP_SCHEMA.tables WHERE schema_name = 'hipparcos'")
    assert [str(x) for x in _table(r.data)["table_name"]] == ["hipparcos.hip2"]


def test_delimited_column(client):
    r = _q(client, 'SELECT TOP 1 hip, "Name" FROM hipparcos.hip2 ORDER BY hip')
    assert r.status_code == 200, r.data
    t = _table(r.data)
    assert t["Name"][0] == "star 1"


def _upload_votable(**cols) -> bytes:
    buf = io.BytesIO()
    Table(cols).write(buf, format="votable")
    return buf.getvalue()


def test_inline_upload_and_crossmatch(client):
    import numpy as np

    body = _upload_votable(
        id=np.array([1, 2, 3]), ra=np.array([10.0, 20.0, 30.0]), dec=np.array([-5.0, 0.0, 5.0])
    )
    r = client.post(
        "/tap/sync",
        data={
            "LANG": "ADQL",
            "QUERY": "SELECT * FROM TAP_UPLOAD.mine ORDER BY id",
            "UPLOAD": "mine,param:f1",
            "f1": (io.BytesIO(body), "t.vot"),
        },
        content_type="multipart/form-data",
    )
    assert r.status_code == 200, r.data[:500]
    t = _table(r.data)
    assert t.colnames == ["id", "ra", "dec"]  # no hpx/cx/cy/cz
    assert list(t["id"]) == [1, 2, 3]
    # crossmatch: upload the first 20 hipparcos positions back, match within 1 arcsec
    src = _table(_q(client, "SELECT TOP 20 hip, ra, dec FROM hipparcos.hip2 ORDER BY hip").data)
    body = _upload_votable(
        hip=np.array(src["hip"]), ra=np.array(src["ra"]), dec=np.array(src["dec"])
    )
    r = client.post(
        "/tap/sync",
        data={
            "LANG": "ADQL",
            "UPLOAD": "pos,param:p",
            "QUERY": "SELECT u.hip AS uh, h.hip FROM TAP_UPLOAD.pos AS u JOIN hipparcos.hip2 AS h "
            "ON 1 = CONTAINS(POINT('ICRS', h.ra, h.dec), CIRCLE('ICRS', u.ra, u.dec, "
            "1.0/3600)) ORDER BY u.hip",
            "p": (io.BytesIO(body), "p.vot"),
        },
        content_type="multipart/form-data",
    )
    assert r.status_code == 200, r.data[:600]
    t = _table(r.data)
    assert list(t["uh"]) == list(t["hip"]) == list(range(1, 21))


def test_upload_errors(client):
    r = client.post(
        "/tap/sync",
        data={"LANG": "ADQL", "QUERY": "SELECT * FROM TAP_UPLOAD.x", "UPLOAD": "x,param:missing"},
    )
    assert r.status_code == 400 and b"TAP-UPLOAD-PART" in r.data
    r = client.post(
        "/tap/sync",
        data={
            "LANG": "ADQL",
            "QUERY": "SELECT * FROM TAP_UPLOAD.x",
            "UPLOAD": "x,param:f",
            "f": (io.BytesIO(b"not a votable"), "f.vot"),
        },
        content_type="multipart/form-data",
    )
    assert r.status_code == 400 and b"TAP-UPLOAD-VOTABLE" in r.data
    r = client.post(
        "/tap/sync", data={"LANG": "ADQL", "QUERY": "SELECT 1", "UPLOAD": "9bad,param:f"}
    )
    assert r.status_code == 400 and b"TAP-UPLOAD-NAME" in r.data
