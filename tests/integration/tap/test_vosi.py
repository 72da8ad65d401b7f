"""VOSI capabilities/availability/tables, examples, CORS, errors: content and XSD validity."""

from __future__ import annotations

from lxml import etree

from tests.integration.tap.xsd import validate

VR = "http://www.ivoa.net/xml/VOResource/v1.0"
TR = "http://www.ivoa.net/xml/TAPRegExt/v1.0"
XSI = "{http://www.w3.org/2001/XMLSchema-instance}type"


def test_capabilities_valid_and_complete(client, tap_settings):
    r = client.get("/tap/capabilities")
    assert r.status_code == 200 and r.mimetype == "text/xml"
    validate(r.data, "http://www.ivoa.net/xml/VOSICapabilities/v1.0")
    doc = etree.fromstring(r.data)
    caps = {c.get("standardID"): c for c in doc.findall("capability")}
    assert {
        "ivo://ivoa.net/std/TAP",
        "ivo://ivoa.net/std/VOSI#capabilities",
        "ivo://ivoa.net/std/VOSI#availability",
        "ivo://ivoa.net/std/VOSI#tables-1.1",
        "ivo://ivoa.net/std/DALI#examples",
    } <= set(caps)
    tap = caps["ivo://ivoa.net/std/TAP"]
    assert tap.get(XSI) == "tr:TableAccess"
    iface = tap.find("interface")
    assert (iface.get(XSI), iface.get("role"), iface.get("version")) == (
        "vs:ParamHTTP",
        "std",
        "1.1",
    )
    versions = {v.get("ivo-id") for v in tap.iter("version")}
    assert versions == {"ivo://ivoa.net/std/ADQL#v2.0", "ivo://ivoa.net/std/ADQL#v2.1"}
    default = tap.find("outputLimit/default")
    assert default.get("unit") == "row" and int(default.text) == tap_settings.maxrec_default
    methods = {m.get("ivo-id") for m in tap.findall("uploadMethod")}
    assert "ivo://ivoa.net/std/TAPRegExt#upload-inline" in methods
    mimes = [f.findtext("mime") for f in tap.findall("outputFormat")]
    assert mimes[0] == "application/x-votable+xml"


def test_availability_valid(client):
    r = client.get("/tap/availability")
    assert r.status_code == 200
    validate(r.data, "http://www.ivoa.net/xml/VOSIAvailability/v1.0")
    assert b"<available>true</available>" in r.data


def test_tables_valid_and_detail_min(client):
    full = client.get("/tap/tables")
    validate(full.data, "http://www.ivoa.net/xml/VOSITables/v1.0")
    doc = etree.fromstring(full.data)
    names = [t.findtext("name") for t in doc.iter("table")]
    assert "hipparcos.hip2" in names and "TAP_SCHEMA.columns" in names
    hip = [t for t in doc.iter("table") if t.findtext("name") == "hipparcos.hip2"][0]
    cols = [c.findtext("name") for c in hip.findall("column")]
    assert cols == ["hip", "ra", "dec", "plx", "hpmag", '"Name"']  # hpx/cx.. hidden
    ra = hip.findall("column")[1]
    assert ra.findtext("unit") == "deg" and ra.findtext("ucd") == "pos.eq.ra;meta.main"
    small = client.get("/tap/tables?detail=min")
    validate(small.data, "http://www.ivoa.net/xml/VOSITables/v1.0")
    assert b"<column>" not in small.data and b"hipparcos.hip2" in small.data


def test_single_table_resource(client):
    r = client.get("/tap/tables/hipparcos.hip2")
    assert r.status_code == 200
    validate(r.data, "http://www.ivoa.net/xml/VOSITables/v1.0")
    assert etree.fromstring(r.data).tag == "{http://www.ivoa.net/xml/VOSITables/v1.0}table"
    missing = client.get("/tap/tables/nosuch.table")
    assert missing.status_code == 404
    assert b'name="QUERY_STATUS" value="ERROR"' in missing.data


def test_examples_only_list_runnable_tables(client):
    r = client.get("/tap/examples")
    assert r.status_code == 200
    doc = etree.fromstring(r.data)
    ns = {"h": "http://www.w3.org/1999/xhtml"}
    ids = [d.get("id") for d in doc.iterfind(".//h:div[@typeof='example']", ns)]
    assert "hipcone" in ids and "tables" in ids
    assert "gaiacolour" not in ids  # gaia.dr3_bright is not published in this database
    queries = doc.findall(".//h:pre[@property='query']", ns)
    assert len(queries) == len(ids)


def test_cors_and_preflight(client):
    r = client.get("/tap/availability", headers={"Origin": "http://example.org"})
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    pre = client.options(
        "/tap/sync",
        headers={"Origin": "http://example.org", "Access-Control-Request-Method": "POST"},
    )
    assert pre.status_code == 204 and "POST" in pre.headers["Access-Control-Allow-Methods"]


def test_unknown_tap_resource_is_a_dali_error(client):
    r = client.get("/tap/nosuch")
    assert r.status_code == 404
    assert r.mimetype == "application/x-votable+xml"
    assert b'value="ERROR"' in r.data and b"Traceback" not in r.data


def test_landing_and_health(client):
    r = client.get("/")
    assert r.status_code == 200 and b"hipparcos.hip2" in r.data and r.mimetype == "text/html"
    assert b'data-samp-table="' in r.data and b"/static/samp/samp.js" in r.data
    assert client.get("/static/samp/samp.js").status_code == 200
    import html
    import re

    urls = [html.unescape(u) for u in re.findall(r'data-samp-table="([^"]+)"', r.data.decode())]
    hip = [u for u in urls if "hipparcos.hip2" in u][0]
    sent = client.get(hip[hip.index("/tap/sync"):])
    assert sent.status_code == 200 and sent.data.count(b"<FIELD") == 6
    h = client.get("/health")
    assert h.status_code == 200 and h.json["database"] == "ok"
