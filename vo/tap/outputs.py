"""RESPONSEFORMAT values the TAP service understands, and the writer each one selects.

DALI 1.1 sec. 3.2.2 / TAP 1.1 sec. 2.7.5: a format is asked for by media type or by a
short alias; a media type the client named is echoed in Content-Type. The same table
feeds the TAPRegExt ``outputFormat`` list (TAPRegExt 1.0 sec. 2.5), so what is
advertised is exactly what is accepted. VOTable comes from ``vo.votable``; CSV, TSV,
FITS and Parquet from ``vo.formats`` (when that package provides them).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from vo.meta import ColumnMeta
from vo.tap.params import TapParameterError
from vo.votable import VOTABLE_MEDIA_TYPE, CooSys, Info, ResultWriter, VOTableWriter

WriterFactory = Callable[..., ResultWriter]


@dataclass(frozen=True)
class OutputFormat:
    """One output format: the media type advertised, its aliases and how to write it."""

    key: str
    mime: str
    aliases: tuple[str, ...]
    make: WriterFactory
    ivo_id: str | None = None
    spooled: bool = False  # the writer needs the whole result first (FITS: NAXIS2 leads)
    extension: str = "dat"


def _votable(serialization: str) -> WriterFactory:
    def make(columns: Sequence[ColumnMeta], *, maxrec: int | None, infos: Sequence[Info],
             coosys: Sequence[CooSys], coosys_refs: Mapping[str, str], media_type: str,
             **_: Any) -> ResultWriter:
        return VOTableWriter(columns, serialization=serialization, maxrec=maxrec, infos=infos,
                             coosys=coosys, coosys_refs=coosys_refs, media_type=media_type)
    return make


_TRE = "ivo://ivoa.net/std/TAPRegExt#output-"
VOTABLE_FORMATS: tuple[OutputFormat, ...] = (
    OutputFormat("votable", VOTABLE_MEDIA_TYPE,
                 ("votable", "votable/b2", "vot", "xml", "text/xml", "application/xml",
                  f"{VOTABLE_MEDIA_TYPE};serialization=binary2"),
                 _votable("BINARY2"), _TRE + "votable-binary2", extension="vot"),
    OutputFormat("votable/td", f"{VOTABLE_MEDIA_TYPE};serialization=TABLEDATA",
                 ("votable/td", "votabletd", "text/xml;serialization=tabledata"),
                 _votable("TABLEDATA"), _TRE + "votable-td", extension="vot"),
    OutputFormat("votable/b", f"{VOTABLE_MEDIA_TYPE};serialization=BINARY",
                 ("votable/b", "votableb"), _votable("BINARY"), _TRE + "votable-binary",
                 extension="vot"),
)


def _from_vo_formats() -> tuple[OutputFormat, ...]:
    """The non-VOTable formats that ``vo.formats`` offers (empty until it offers them)."""
    try:
        mod = importlib.import_module("vo.formats")
    except ImportError:
        return ()
    registry = getattr(mod, "output_formats", None)
    if registry is None:
        return ()
    out = []
    for f in registry():
        out.append(OutputFormat(
            key=f.key, mime=f.mime, aliases=tuple(f.aliases), make=f.make,
            ivo_id=getattr(f, "ivo_id", None), spooled=getattr(f, "spooled", False),
            extension=getattr(f, "extension", "dat")))
    return tuple(out)


class OutputFormats:
    """Every output format, resolved from a RESPONSEFORMAT value."""

    def __init__(self, formats: Sequence[OutputFormat] | None = None) -> None:
        self.formats: tuple[OutputFormat, ...] = (
            tuple(formats) if formats is not None else VOTABLE_FORMATS + _from_vo_formats())
        self._index: dict[str, OutputFormat] = {}
        for f in self.formats:
            for name in (f.key, f.mime, *f.aliases):
                self._index.setdefault(_norm(name), f)

    def resolve(self, value: str | None) -> tuple[OutputFormat, str]:
        """(format, Content-Type): the default is BINARY2 VOTable; media types are echoed."""
        if value is None or not value.strip():
            f = self.formats[0]
            return f, f.mime
        f = self._index.get(_norm(value))
        if f is None:
            # a media type with parameters we do not know (e.g. charset): try its base
            f = self._index.get(_norm(value.split(";")[0]))
        if f is None:
            known = ", ".join(sorted({f.key for f in self.formats}))
            raise TapParameterError(
                f"RESPONSEFORMAT={value} is not supported; use one of {known} or a media type "
                "listed in the capabilities", code="TAP-PARAM-FORMAT")
        content_type = value.strip() if _is_media_type(value) else f.mime
        return f, content_type


def _is_media_type(value: str) -> bool:
    """``text/csv`` is a media type; ``votable/td`` is an alias that merely has a slash."""
    top = value.strip().split("/", 1)[0].lower()
    return "/" in value and "*" not in value and top in ("application", "text", "image")


def _norm(name: str) -> str:
    return "".join(name.split()).lower()


__all__ = ["OutputFormat", "OutputFormats", "VOTABLE_FORMATS"]
