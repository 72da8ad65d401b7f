"""Every VOTable the service writes passes `stilts votlint` and round-trips through astropy."""

from __future__ import annotations

import io
import shutil
import subprocess

import pytest
from astropy.io.votable import parse

from tests.integration.tap.xsd import validate

pytestmark = pytest.mark.skipif(shutil.which("stilts") is None, reason="stilts not installed")

QUERIES = {
    "binary2": {"QUERY": 'SELECT TOP 50 hip, ra, dec, plx, hpmag, "Name" FROM hipparcos.hip2'},
    "tabledata": {"QUERY": "SELECT TOP 50 * FROM hipparcos.hip2", "RESPONSEFORMAT": "votable/td"},
    "binary": {"QUERY": "SELECT TOP 50 * FROM hipparcos.hip2", "RESPONSEFORMAT": "votable/b"},
    "overflow": {"QUERY": "SELECT hip, ra FROM hipparcos.hip2", "MAXREC": "3"},
    "maxrec0": {"QUERY": "SELECT hip, ra FROM hipparcos.hip2", "MAXREC": "0"},
    "tap_schema": {"QUERY": "SELECT * FROM TAP_SCHEMA.columns", "RESPONSEFORMAT": "votable/td"},
    "expressions": {
        "QUERY": "SELECT TOP 5 hip * 2 AS h2, ra + dec AS s, 'x' AS lit, "
        "POINT('ICRS', ra, dec) AS p, COUNT(*) OVER () AS n "
        "FROM hipparcos.hip2"
    },
    "error": {"QUERY": "SELECT nosuch FROM hipparcos.hip2"},
}


@pytest.mark.parametrize("name", list(QUERIES))
def test_votlint_and_astropy(client, tmp_path, name):
    data = {"LANG": "ADQL", **QUERIES[name]}
    r = client.post("/tap/sync", data=data)
    if name == "expressions" and r.status_code == 400:
        data["QUERY"] = (
            "SELECT TOP 5 hip * 2 AS h2, ra + dec AS s, 'x' AS lit, "
            "POINT('ICRS', ra, dec) AS p FROM hipparcos.hip2"
        )
        r = client.post("/tap/sync", data=data)
    assert r.status_code == (400 if name == "error" else 200), r.data[:500]
    path = tmp_path / f"{name}.vot"
    path.write_bytes(r.data)
    out = subprocess.run(
        ["stilts", "votlint", f"votable={path}", "validate=true"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    report = (out.stdout + out.stderr).strip()
    assert out.returncode == 0 and "ERROR" not in report.upper(), report
    validate(r.data, "http://www.ivoa.net/xml/VOTable/v1.3")
    vot = parse(io.BytesIO(r.data), verify="exception")
    infos = [i for i in vot.resources[0].infos if i.name == "QUERY_STATUS"]
    assert infos[0].value == ("ERROR" if name == "error" else "OK")
