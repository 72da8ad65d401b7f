"""TAP_UPLOAD: every VOTable datatype round-trips, odd names, serialisations, limits, HEALPix."""

from __future__ import annotations

import io

import numpy as np
import pytest
from astropy.io.votable import from_table, parse_single_table
from astropy.io.votable.tree import VOTableFile
from astropy.table import Table

UPLOAD_VOT = b"""<?xml version="1.0" encoding="UTF-8"?>
<VOTABLE version="1.4" xmlns="http://www.ivoa.net/xml/VOTable/v1.3">
<RESOURCE><TABLE>
<FIELD name="b" datatype="boolean"/>
<FIELD name="ub" datatype="unsignedByte"/>
<FIELD name="s" datatype="short"/>
<FIELD name="i" datatype="int"><VALUES null="-1"/></FIELD>
<FIELD name="l" datatype="long"/>
<FIELD name="f" datatype="float" unit="mag" ucd="phot.mag"/>
<FIELD name="d" datatype="double"/>
<FIELD name="c" datatype="char" arraysize="*"/>
<FIELD name="u" datatype="unicodeChar" arraysize="*"/>
<FIELD name="arr" datatype="double" arraysize="3"/>
<FIELD name="varr" datatype="int" arraysize="*"/>
<FIELD name="t" datatype="char" arraysize="*" xtype="timestamp"/>
<FIELD name="p" datatype="double" arraysize="2" xtype="point" unit="deg"/>
<FIELD name="Weird Name" datatype="int"/>
<FIELD name="select" datatype="int"/>
<DATA><TABLEDATA>
<TR><TD>T</TD><TD>255</TD><TD>-3</TD><TD>7</TD><TD>9007199254740993</TD><TD>1.5</TD>
<TD>2.25</TD><TD>abc</TD><TD>\xc3\xa9t\xc3\xa9 \xe2\x98\x85</TD><TD>1 2 3</TD><TD>4 5</TD>
<TD>2020-01-02T03:04:05</TD><TD>10.5 -20.25</TD><TD>1</TD><TD>2</TD></TR>
<TR><TD>F</TD><TD>0</TD><TD>0</TD><TD>-1</TD><TD>0</TD><TD>NaN</TD><TD></TD><TD></TD><TD></TD>
<TD>0.5 NaN 1</TD><TD></TD><TD></TD><TD></TD><TD>3</TD><TD>4</TD></TR>
</TABLEDATA></DATA></TABLE></RESOURCE></VOTABLE>
"""


def _post(client, query, body, name="up"):
    return client.post(
        "/tap/sync",
        data={
            "LANG": "ADQL",
            "QUERY": query,
            "UPLOAD": f"{name},param:f",
            "RESPONSEFORMAT": "votable/td",
            "f": (io.BytesIO(body), "u.vot"),
        },
        content_type="multipart/form-data",
    )


def test_every_datatype_round_trips(client):
    r = _post(client, "SELECT * FROM TAP_UPLOAD.up", UPLOAD_VOT)
    assert r.status_code == 200, r.data[:800]
    t = parse_single_table(io.BytesIO(r.data))
    fields = {f.name: f for f in t.fields}
    assert list(fields) == [
        "b",
        "ub",
        "s",
        "i",
        "l",
        "f",
        "d",
        "c",
        "u",
        "arr",
        "varr",
        "t",
        "p",
        "Weird Name",
        "select",
    ]
    assert fields["ub"].datatype == "unsignedByte"
    assert fields["u"].datatype == "unicodeChar"
    assert fields["t"].xtype == "timestamp"
    assert fields["p"].xtype == "point" and fields["p"].arraysize == "2"
    assert str(fields["f"].unit) == "mag" and fields["f"].ucd == "phot.mag"
    a = t.array
    assert bool(a["b"][0]) is True and int(a["ub"][0]) == 255 and int(a["s"][0]) == -3
    assert int(a["l"][0]) == 9007199254740993
    assert a["u"][0] == "été ★" and a["c"][0] == "abc"
    assert list(a["arr"][0]) == [1, 2, 3] and list(a["varr"][0]) == [4, 5]
    assert str(a["t"][0]).startswith("2020-01-02T03:04:05")
    assert list(a["p"][0]) == [10.5, -20.25]
    assert int(a["Weird Name"][0]) == 1 and int(a["select"][1]) == 4
    assert np.ma.is_masked(a["i"][1])  # VALUES null="-1" is a NULL
    assert np.ma.is_masked(a["f"][1]) or np.isnan(a["f"][1])  # NaN is the float NULL


def test_delimited_names_usable(client):
    r = _post(
        client,
        'SELECT "Weird Name", "select" FROM TAP_UPLOAD.up WHERE "Weird Name" = 3',
        UPLOAD_VOT,
    )
    assert r.status_code == 200, r.data[:800]
    t = parse_single_table(io.BytesIO(r.data)).to_table()
    assert list(t["select"]) == [4]


@pytest.mark.parametrize("fmt", ["tabledata", "binary", "binary2"])
def test_any_serialisation(client, fmt):
    t = Table({"x": np.arange(5, dtype=np.int64), "name": ["a", "b", "c", "d", "e"]})
    vot: VOTableFile = from_table(t)
    vot.get_first_table().format = fmt
    buf = io.BytesIO()
    vot.to_xml(buf)
    r = _post(client, "SELECT sum(x) AS s, max(name) AS m FROM TAP_UPLOAD.up", buf.getvalue())
    assert r.status_code == 200, r.data[:500]
    res = parse_single_table(io.BytesIO(r.data)).to_table()
    assert int(res["s"][0]) == 10 and res["m"][0] == "e"


def test_positions_get_healpix_columns(client, demo_engine):
    from vo.healpix import pixel_index

    t = Table({"ra": [56.75, 10.0], "dec": [24.12, -30.0]})
    buf = io.BytesIO()
    t.write(buf, format="votable")
    # hpx is hidden from SELECT * but the table has it (the crossmatch plan uses it)
    r = _post(client, "SELECT * FROM TAP_UPLOAD.up", buf.getvalue())
    assert parse_single_table(io.BytesIO(r.data)).to_table().colnames == ["ra", "dec"]
    from vo.config import load_settings
    from vo.db.uploads import parse_votable

    up = parse_votable("up", buf.getvalue(), load_settings(env={}))
    assert up.position == (0, 1) and up.table.position is not None
    raw = demo_engine.raw_connection()
    try:
        up.create(raw.driver_connection, "vo_query")
        with raw.driver_connection.cursor() as cur:
            cur.execute(f'SELECT hpx, cx, cz FROM pg_temp."{up.table.db_table}"')
            rows = cur.fetchall()
    finally:
        raw.rollback()
        raw.close()
    assert [r[0] for r in rows] == list(pixel_index([56.75, 10.0], [24.12, -30.0]))
    assert rows[1][1] == pytest.approx(np.cos(np.radians(30)) * np.cos(np.radians(10)))
    assert rows[1][2] == pytest.approx(-0.5)


def test_limits_enforced(app, tap_settings, demo_engine):
    from vo.web import create_app

    small = create_app(
        tap_settings.replace(upload_max_rows=3, upload_max_bytes=4000), demo_engine
    ).test_client()
    t = Table({"x": np.arange(10)})
    buf = io.BytesIO()
    t.write(buf, format="votable")
    r = _post(small, "SELECT * FROM TAP_UPLOAD.up", buf.getvalue())
    assert r.status_code == 400 and b"TAP-UPLOAD-LIMIT" in r.data and b"rows" in r.data
    big = Table({"x": np.arange(3), "pad": ["x" * 3000] * 3})
    buf = io.BytesIO()
    big.write(buf, format="votable")
    r = _post(small, "SELECT * FROM TAP_UPLOAD.up", buf.getvalue())
    assert r.status_code in (400, 413) and b"ERROR" in r.data


def test_two_uploads_joined(client):
    a, b = io.BytesIO(), io.BytesIO()
    Table({"k": [1, 2, 3]}).write(a, format="votable")
    Table({"k": [2, 3, 4], "v": [20, 30, 40]}).write(b, format="votable")
    r = client.post(
        "/tap/sync",
        data={
            "LANG": "ADQL",
            "UPLOAD": "a,param:fa;b,param:fb",
            "QUERY": "SELECT a.k, b.v FROM TAP_UPLOAD.a AS a JOIN TAP_UPLOAD.b AS b ON a.k = b.k "
            "ORDER BY a.k",
            "fa": (io.BytesIO(a.getvalue()), "a.vot"),
            "fb": (io.BytesIO(b.getvalue()), "b.vot"),
        },
        content_type="multipart/form-data",
    )
    assert r.status_code == 200, r.data[:500]
    t = parse_single_table(io.BytesIO(r.data)).to_table()
    assert list(t["v"]) == [20, 30]


def test_value_the_database_rejects_is_a_clear_error(client):
    bad = UPLOAD_VOT.replace(b"<TD>2020-01-02T03:04:05</TD>", b"<TD>not a time</TD>")
    r = _post(client, "SELECT * FROM TAP_UPLOAD.up", bad)
    assert r.status_code == 400 and b"TAP-UPLOAD-VALUE" in r.data and b"timestamp" in r.data
