"""VOSI documents of the TAP service: capabilities (with TAPRegExt), availability, tables.

VOSI 1.1 sec. 3.1 (capabilities), 3.2 (availability), 3.3 (tables, ``detail=min``,
one table per child resource); TAPRegExt 1.0 sec. 2 (the ``tr:TableAccess``
capability); TAP 1.1 sec. 2.3-2.6. Capabilities go through vo-models (validated
against the XSDs in tests); the tableset is written with lxml because it may list
thousands of columns and vo-models' generic Table model adds nothing there.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from lxml import etree
from vo_models.tapregext.models import (
    DataLimit,
    DataLimits,
    Language,
    LanguageFeature,
    LanguageFeatureList,
    OutputFormat,
    TableAccess,
    TimeLimits,
    UploadMethod,
    Version,
)
from vo_models.vodataservice.models import ParamHTTP
from vo_models.voresource.models import AccessURL, Capability
from vo_models.vosi.availability.models import Availability
from vo_models.vosi.capabilities.models import VOSICapabilities

from vo.config import Settings
from vo.meta import ColumnMeta, TableMeta

VOSI_TABLES_NS = "http://www.ivoa.net/xml/VOSITables/v1.0"
VS_NS = "http://www.ivoa.net/xml/VODataService/v1.1"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"

UPLOAD_METHODS = (
    "ivo://ivoa.net/std/TAPRegExt#upload-inline",
    "ivo://ivoa.net/std/TAPRegExt#upload-http",
    "ivo://ivoa.net/std/TAPRegExt#upload-https",
)


@dataclass(frozen=True)
class FeatureGroup:
    """One ``languageFeatures`` block (TAPRegExt sec. 2.4; ADQL 2.1 appendix B)."""

    type: str  # e.g. ivo://ivoa.net/std/TAPRegExt#features-adql-string
    features: tuple[tuple[str, str | None], ...]  # (form, description)


@dataclass(frozen=True)
class FormatEntry:
    """One output format: its MIME type, the RESPONSEFORMAT aliases and optional ivo-id."""

    mime: str
    aliases: tuple[str, ...] = ()
    ivo_id: str | None = None


def _interface(url: str, *, std: bool = False, use: str = "full") -> ParamHTTP:
    kw = {"role": "std", "version": "1.1"} if std else {}
    return ParamHTTP(access_url=[AccessURL(value=url, use=use)], **kw)  # type: ignore[arg-type]


def capabilities_xml(
    settings: Settings, base: str, features: Sequence[FeatureGroup], formats: Sequence[FormatEntry]
) -> bytes:
    """The VOSI capabilities document (TAP 1.1 sec. 2.4; TAPRegExt 1.0 sec. 2)."""
    language = Language(
        name="ADQL",
        version=[
            Version(value="2.0", ivo_id="ivo://ivoa.net/std/ADQL#v2.0"),
            Version(value="2.1", ivo_id="ivo://ivoa.net/std/ADQL#v2.1"),
        ],
        description="ADQL 2.1 (ADQL 2.0 queries are accepted as well), translated to "
        "PostgreSQL with HEALPix-indexed geometry",
        language_features=[
            LanguageFeatureList(
                type=g.type,
                feature=[LanguageFeature(form=form, description=desc) for form, desc in g.features],
            )
            for g in features
            if g.features
        ],
    )
    tap = TableAccess(
        interface=[_interface(base, std=True, use="base")],
        language=[language],
        output_format=[
            OutputFormat(mime=f.mime, alias=list(f.aliases), ivo_id=f.ivo_id) for f in formats
        ],
        upload_method=[UploadMethod(ivo_id=m) for m in UPLOAD_METHODS],
        retention_period=TimeLimits(
            default=settings.destruction_days * 86400, hard=settings.destruction_days * 86400
        ),
        execution_duration=TimeLimits(
            default=settings.execution_duration_default, hard=settings.execution_duration_hard
        ),
        output_limit=DataLimits(
            default=DataLimit(value=settings.maxrec_default, unit="row"),
            hard=DataLimit(value=settings.maxrec_hard, unit="row"),
        ),
        upload_limit=DataLimits(
            default=DataLimit(value=settings.upload_max_bytes, unit="byte"),
            hard=DataLimit(value=settings.upload_max_bytes, unit="byte"),
        ),
    )
    others = [
        Capability(
            standard_id="ivo://ivoa.net/std/VOSI#capabilities",  # type: ignore[arg-type]
            interface=[_interface(f"{base}/capabilities")],
        ),
        Capability(
            standard_id="ivo://ivoa.net/std/VOSI#availability",  # type: ignore[arg-type]
            interface=[_interface(f"{base}/availability")],
        ),
        Capability(
            standard_id="ivo://ivoa.net/std/VOSI#tables-1.1",  # type: ignore[arg-type]
            interface=[_interface(f"{base}/tables", std=False)],
        ),
        Capability(
            standard_id="ivo://ivoa.net/std/DALI#examples",  # type: ignore[arg-type]
            interface=[
                ParamHTTP(
                    access_url=[
                        AccessURL(
                            value=f"{base}/examples",  # type: ignore[arg-type]
                            use="full",
                        )
                    ]
                )
            ],
        ),
    ]
    # VOSI 1.1 sec. 3.3.1: the tables-1.1 interface carries version="1.1" and role="std".
    tables_if = others[2].interface[0]  # type: ignore[index]
    tables_if.version = "1.1"
    tables_if.role = "std"
    doc = VOSICapabilities(capability=[tap, *others])
    body = doc.to_xml(skip_empty=True, xml_declaration=True, encoding="UTF-8")
    return body if isinstance(body, bytes) else body.encode()


def availability_xml(up_since: dt.datetime, available: bool, note: str) -> bytes:
    """VOSI 1.1 sec. 3.2."""
    doc = Availability(available=available, up_since=up_since, note=[note])
    body = doc.to_xml(skip_empty=True, xml_declaration=True, encoding="UTF-8")
    return body if isinstance(body, bytes) else body.encode()


def _column(parent: etree._Element, c: ColumnMeta, primary: bool) -> None:
    col = etree.SubElement(parent, "column")
    etree.SubElement(col, "name").text = c.name
    if c.description:
        etree.SubElement(col, "description").text = c.description
    if c.unit:
        etree.SubElement(col, "unit").text = c.unit
    if c.ucd:
        etree.SubElement(col, "ucd").text = c.ucd
    if c.utype:
        etree.SubElement(col, "utype").text = c.utype
    dt_el = etree.SubElement(col, "dataType")
    dt_el.set(f"{{{XSI_NS}}}type", "vs:VOTableType")
    if c.arraysize:
        dt_el.set("arraysize", c.arraysize)
    if c.xtype:
        dt_el.set("extendedType", c.xtype)
    dt_el.text = c.datatype
    for flag, on in (
        ("indexed", c.indexed),
        ("primary", primary),
        ("principal", c.principal),
        ("std", c.std),
    ):
        if on:
            etree.SubElement(col, "flag").text = flag


def _table(
    parent: etree._Element | None, t: TableMeta, *, columns: bool, tag: str = "table"
) -> etree._Element:
    if parent is None:
        el = etree.Element(
            f"{{{VOSI_TABLES_NS}}}table", nsmap={"vosi": VOSI_TABLES_NS, "vs": VS_NS, "xsi": XSI_NS}
        )
    else:
        el = etree.SubElement(parent, tag)
    el.set("type", "view" if t.table_type == "view" else "table")
    etree.SubElement(el, "name").text = t.table_name
    if t.description:
        etree.SubElement(el, "description").text = t.description
    if t.utype:
        etree.SubElement(el, "utype").text = t.utype
    if columns:
        for c in t.columns:
            _column(el, c, c.name in t.primary_key)
        for fk in t.foreign_keys:
            fk_el = etree.SubElement(el, "foreignKey")
            etree.SubElement(fk_el, "targetTable").text = fk.target_table
            for f, tgt in fk.columns:
                pair = etree.SubElement(fk_el, "fkColumn")
                etree.SubElement(pair, "fromColumn").text = f
                etree.SubElement(pair, "targetColumn").text = tgt
            if fk.description:
                etree.SubElement(fk_el, "description").text = fk.description
            if fk.utype:
                etree.SubElement(fk_el, "utype").text = fk.utype
    return el


def tableset_xml(
    tables: Iterable[TableMeta],
    schema_descriptions: dict[str, str | None],
    *,
    detail_min: bool = False,
) -> bytes:
    """VOSI 1.1 sec. 3.3: every published table; ``detail=min`` leaves out the columns."""
    root = etree.Element(
        f"{{{VOSI_TABLES_NS}}}tableset", nsmap={"vosi": VOSI_TABLES_NS, "vs": VS_NS, "xsi": XSI_NS}
    )
    by_schema: dict[str, list[TableMeta]] = {}
    for t in tables:
        by_schema.setdefault(t.schema_name, []).append(t)
    for name, members in by_schema.items():
        s = etree.SubElement(root, "schema")
        etree.SubElement(s, "name").text = name
        if schema_descriptions.get(name):
            etree.SubElement(s, "description").text = schema_descriptions[name]
        for t in members:
            _table(s, t, columns=not detail_min)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def table_xml(t: TableMeta) -> bytes:
    """VOSI 1.1 sec. 3.3.2: one table's full description (``/tables/{name}``)."""
    return etree.tostring(_table(None, t, columns=True), xml_declaration=True, encoding="UTF-8")


__all__ = [
    "FeatureGroup",
    "FormatEntry",
    "UPLOAD_METHODS",
    "availability_xml",
    "capabilities_xml",
    "table_xml",
    "tableset_xml",
]
