"""RESPONSEFORMAT values -> output formats (DALI 1.1 sec. 3.4.1, TAP 1.1 sec. 2.7.2).

Each ``OutputFormat`` knows its canonical media type and short aliases (what TAPRegExt
1.0 sec. 2.5 ``outputFormat`` declares), the other media types it answers to, a file
extension and how to make its writer. ``resolve`` accepts an alias or a media type
(type, subtype and parameter names case-insensitive, whitespace ignored) and says which
Content-Type to send: DALI requires echoing a format asked for by media type.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from vo.errors import VOError
from vo.formats.fits import FITSWriter
from vo.formats.jsontable import JSONWriter
from vo.formats.parquet import ParquetResultWriter
from vo.formats.text import CSVWriter, TSVWriter
from vo.meta import ColumnMeta
from vo.votable import CooSys, Info, ResultWriter, Serialization, VOTableWriter

VOTABLE = "application/x-votable+xml"
DEFAULT_FORMAT = "votable"


class UnknownFormatError(VOError):
    """RESPONSEFORMAT/FORMAT names a format this service does not write."""

    code = "BAD-FORMAT"
    http_status = 400


@dataclass(frozen=True)
class WriterRequest:
    """Everything a writer may use; formats take what they can carry."""

    columns: Sequence[ColumnMeta]
    maxrec: int | None = None
    infos: Sequence[Info] = ()
    coosys: Sequence[CooSys] = ()
    coosys_refs: Mapping[str, str] = field(default_factory=dict)
    table_name: str | None = None
    media_type: str = ""


WriterFactory = Callable[[WriterRequest], ResultWriter]


@dataclass(frozen=True)
class OutputFormat:
    """One output format as capabilities declare it and as the service writes it."""

    key: str
    mime: str  # canonical media type, the TAPRegExt <mime>
    aliases: tuple[str, ...]  # short forms, the TAPRegExt <alias>es
    extension: str
    factory: WriterFactory
    media_types: tuple[str, ...] = ()  # further media types accepted for this format
    ivo_id: str | None = None  # TAPRegExt standard output format identifier
    description: str = ""


@dataclass(frozen=True)
class ResolvedFormat:
    """A RESPONSEFORMAT value resolved: the format and the Content-Type to answer with."""

    format: OutputFormat
    content_type: str
    requested: str

    def writer(
        self,
        columns: Sequence[ColumnMeta],
        *,
        maxrec: int | None = None,
        infos: Sequence[Info] = (),
        coosys: Sequence[CooSys] = (),
        coosys_refs: Mapping[str, str] | None = None,
        table_name: str | None = None,
    ) -> ResultWriter:
        request = WriterRequest(
            columns, maxrec, infos, coosys, dict(coosys_refs or {}), table_name, self.content_type
        )
        return self.format.factory(request)


def _votable(serialization: Serialization) -> WriterFactory:
    def make(r: WriterRequest) -> ResultWriter:
        return VOTableWriter(
            r.columns,
            serialization=serialization,
            maxrec=r.maxrec,
            infos=r.infos,
            coosys=r.coosys,
            coosys_refs=r.coosys_refs,
            table_name=r.table_name,
            media_type=r.media_type or VOTABLE,
        )

    return make


def _simple(cls: Any, **options: Any) -> WriterFactory:
    def make(r: WriterRequest) -> ResultWriter:
        writer = cls(r.columns, maxrec=r.maxrec, **options)
        if r.media_type:
            writer.media_type = r.media_type
        return writer  # type: ignore[no-any-return]

    return make


def _fits(r: WriterRequest) -> ResultWriter:
    writer = FITSWriter(r.columns, maxrec=r.maxrec, table_name=r.table_name)
    writer.media_type = r.media_type or writer.media_type
    return writer


_TRE = "ivo://ivoa.net/std/TAPRegExt#output-"
FORMATS: tuple[OutputFormat, ...] = (
    OutputFormat("votable", VOTABLE, ("votable",), "vot", _votable(Serialization.BINARY2),
                 description="VOTable 1.4, BINARY2 serialisation (the default)"),
    OutputFormat("votable/b2", f"{VOTABLE};serialization=BINARY2", ("votable/b2", "votableb2"),
                 "vot", _votable(Serialization.BINARY2), ivo_id=_TRE + "votable-binary2",
                 description="VOTable 1.4, BINARY2 serialisation"),
    OutputFormat("votable/td", f"{VOTABLE};serialization=TABLEDATA", ("votable/td", "votabletd"),
                 "vot", _votable(Serialization.TABLEDATA), media_types=("text/xml",),
                 ivo_id=_TRE + "votable-td",
                 description="VOTable 1.4, TABLEDATA (XML) serialisation"),
    OutputFormat("votable/b", f"{VOTABLE};serialization=BINARY", ("votable/b", "votableb"),
                 "vot", _votable(Serialization.BINARY), ivo_id=_TRE + "votable-binary",
                 description="VOTable 1.4, BINARY serialisation"),
    OutputFormat("csv", "text/csv;header=present", ("csv",), "csv", _simple(CSVWriter),
                 media_types=("text/csv",),
                 description="comma-separated values with a header line"),
    OutputFormat("csv/noheader", "text/csv;header=absent", (), "csv",
                 _simple(CSVWriter, header=False),
                 description="comma-separated values without a header line"),
    OutputFormat("tsv", "text/tab-separated-values", ("tsv",), "tsv", _simple(TSVWriter),
                 description="tab-separated values with a header line"),
    OutputFormat("fits", "application/fits", ("fits",), "fits", _fits,
                 media_types=("application/x-fits-table",), description="FITS binary table"),
    OutputFormat("parquet", "application/vnd.apache.parquet", ("parquet",), "parquet",
                 _simple(ParquetResultWriter), media_types=("application/x-parquet",),
                 description="Apache Parquet"),
    OutputFormat("json", "application/json", ("json",), "json", _simple(JSONWriter),
                 description='JSON {"metadata": [...], "data": [[...]]}'),
)  # fmt: skip


def normalise_media_type(value: str) -> tuple[str, tuple[tuple[str, str], ...]] | None:
    """``Text/CSV; Header=present`` -> ("text/csv", (("header", "present"),)); None if no '/'.

    Parameter values compare case-insensitively too (serialization=binary2); a
    ``charset=utf-8`` parameter is ignored, since every text format here is UTF-8.
    """
    parts = [p.strip() for p in value.split(";")]
    if "/" not in parts[0]:
        return None
    params: list[tuple[str, str]] = []
    for p in parts[1:]:
        if not p:
            continue
        name, _, val = p.partition("=")
        name, val = name.strip().lower(), val.strip().strip('"').lower()
        if name == "charset" and val in ("utf-8", "utf8"):
            continue
        params.append((name, val))
    return parts[0].lower(), tuple(sorted(params))


def _index() -> tuple[dict[str, OutputFormat], dict[Any, OutputFormat]]:
    aliases: dict[str, OutputFormat] = {}
    media: dict[Any, OutputFormat] = {}
    for f in FORMATS:
        for a in f.aliases:
            aliases.setdefault(a.lower(), f)
        for m in (f.mime, *f.media_types):
            media.setdefault(normalise_media_type(m), f)
    return aliases, media


_ALIASES, _MEDIA = _index()


def output_formats() -> tuple[OutputFormat, ...]:
    """Every format, in the order capabilities should list them."""
    return FORMATS


def accepted_values() -> list[str]:
    """All RESPONSEFORMAT values accepted (aliases first), for messages and docs."""
    values = [a for f in FORMATS for a in f.aliases]
    values += [m for f in FORMATS for m in (f.mime, *f.media_types)]
    return values


def resolve(value: str | None) -> ResolvedFormat:
    """Resolve RESPONSEFORMAT/FORMAT; empty means VOTable (TAP 1.1 sec. 2.7.2)."""
    requested = (value or "").strip()
    if not requested:
        return ResolvedFormat(_ALIASES[DEFAULT_FORMAT], VOTABLE, requested)
    by_alias = _ALIASES.get(requested.lower())
    if by_alias is not None:
        return ResolvedFormat(by_alias, by_alias.mime, requested)
    key = normalise_media_type(requested)
    by_media = _MEDIA.get(key) if key is not None else None
    if by_media is not None:
        return ResolvedFormat(by_media, requested, requested)
    raise UnknownFormatError(
        f"RESPONSEFORMAT={requested!r} is not a format this service writes. Use one of: "
        + ", ".join(accepted_values())
        + "."
    )
