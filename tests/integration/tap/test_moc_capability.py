"""ivo_moc_contains is declared in /tap/capabilities as a TAPRegExt UDF <form> (TAPRegExt
1.0 sec. 2.4) and answers through /tap/sync."""

from __future__ import annotations

from lxml import etree

UDF = "ivo://ivoa.net/std/TAPRegExt#features-udf"
FORM = "ivo_moc_contains(moc VARCHAR, ra DOUBLE, dec DOUBLE) -> INTEGER"


def test_moc_udf_in_capabilities(client):
    doc = etree.fromstring(client.get("/tap/capabilities").data)
    forms = [
        f.findtext("form")
        for lf in doc.iter("languageFeatures")
        if lf.get("type") == UDF
        for f in lf.findall("feature")
    ]
    assert FORM in forms


def test_bad_moc_is_a_coded_error_document(client):
    r = client.post(
        "/tap/sync",
        data={
            "LANG": "ADQL",
            "QUERY": "SELECT hip FROM hipparcos.hip2 WHERE ivo_moc_contains('3/1-', ra, dec) = 1",
        },
    )
    assert r.status_code == 400
    assert b"ADQL-MOC" in r.data and b"QUERY_STATUS" in r.data
