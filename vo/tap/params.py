"""The parameters of a TAP query, parsed from a plain multi-valued mapping.

TAP 1.1 sec. 2.7 (REQUEST, LANG, QUERY, FORMAT/RESPONSEFORMAT, MAXREC, RUNID, UPLOAD)
and DALI 1.1 sec. 3: parameter names are case-insensitive, values case-sensitive;
a single-valued parameter given twice is an error; unknown parameters are ignored
(clients send extra ones). The same parser serves /sync and the async worker, which
receives the job's stored parameters.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from vo.config import Settings
from vo.errors import QueryError

SINGLE_VALUED = ("request", "lang", "query", "format", "responseformat", "maxrec", "runid")
LANGS = {"ADQL": "2.1", "ADQL-2.0": "2.0", "ADQL-2.1": "2.1"}
_UPLOAD_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


class TapParameterError(QueryError):
    """A TAP/DALI parameter is missing, repeated or has a value the service cannot use."""

    code = "TAP-PARAM"


@dataclass(frozen=True)
class UploadSpec:
    """One ``name,URI`` pair of the UPLOAD parameter (DALI 1.1 sec. 3.4.5)."""

    name: str
    uri: str  # param:<part name>, http(s)://...

    @property
    def inline_part(self) -> str | None:
        return self.uri[len("param:") :] if self.uri.startswith("param:") else None


@dataclass(frozen=True)
class TapParams:
    """A validated doQuery request."""

    query: str
    lang: str = "ADQL"
    adql_version: str = "2.1"
    response_format: str | None = None  # as the client wrote it; None: the default
    maxrec: int = 10_000
    maxrec_requested: int | None = None
    runid: str | None = None
    uploads: tuple[UploadSpec, ...] = field(default=())


def normalise(raw: Mapping[str, Sequence[str] | str]) -> dict[str, list[str]]:
    """Lower-case names, every value a list (DALI 1.1 sec. 3.1).

    A single-valued parameter repeated with the same value (astroquery sends FORMAT and
    format) is taken once; with different values it is an error.
    """
    out: dict[str, list[str]] = {}
    for name, values in raw.items():
        vals = [values] if isinstance(values, str) else list(values)
        out.setdefault(name.lower(), []).extend(vals)
    return out


def _single(params: dict[str, list[str]], name: str) -> str | None:
    values = params.get(name)
    if not values:
        return None
    if len(set(values)) > 1:
        raise TapParameterError(
            f"parameter {name.upper()} was given {len(values)} times; it takes one value "
            "(DALI 1.1 sec. 3.1): send it once",
            code="TAP-PARAM-REPEATED",
        )
    return values[0]


def parse_uploads(values: Iterable[str]) -> tuple[UploadSpec, ...]:
    """``a,param:x;b,http://...`` (several pairs per value, values repeatable)."""
    specs: list[UploadSpec] = []
    for value in values:
        for pair in value.split(";"):
            pair = pair.strip()
            if not pair:
                continue
            name, sep, uri = pair.partition(",")
            name, uri = name.strip(), uri.strip()
            if not sep or not uri:
                raise TapParameterError(
                    f"UPLOAD value {pair!r} is not 'tablename,URI'; write e.g. "
                    "UPLOAD=mytable,param:file1 (TAP 1.1 sec. 2.7.6)",
                    code="TAP-UPLOAD-SYNTAX",
                )
            if not _UPLOAD_NAME.match(name):
                raise TapParameterError(
                    f"upload table name {name!r} is not a simple ADQL identifier (a letter "
                    "followed by letters, digits or _; DALI 1.1 sec. 3.4.5)",
                    code="TAP-UPLOAD-NAME",
                )
            if any(s.name.lower() == name.lower() for s in specs):
                raise TapParameterError(
                    f"upload table name {name!r} is used twice", code="TAP-UPLOAD-NAME"
                )
            if not (
                uri.startswith("param:") or uri.startswith("http://") or uri.startswith("https://")
            ):
                raise TapParameterError(
                    f"upload URI {uri!r} is not supported: use param:<part> for a file sent with "
                    "the request, or an http:// or https:// URL",
                    code="TAP-UPLOAD-URI",
                )
            specs.append(UploadSpec(name, uri))
    return tuple(specs)


def parse_params(raw: Mapping[str, Sequence[str] | str], settings: Settings) -> TapParams:
    """Validate a doQuery request (TAP 1.1 sec. 2.7; DALI 1.1 sec. 3.2)."""
    p = normalise(raw)
    for name in SINGLE_VALUED:
        _single(p, name)
    request = _single(p, "request")
    if request is not None and request != "doQuery":
        raise TapParameterError(
            f"REQUEST={request} is not supported; the only value is doQuery (TAP 1.1 sec. "
            "2.7.1), and it may be left out",
            code="TAP-PARAM-REQUEST",
        )
    # TAP 1.1 sec. 2.7.2 makes LANG mandatory, but astroquery's TapPlus leaves it out of
    # upload queries; ADQL is the only language here, so a missing LANG means ADQL.
    lang = _single(p, "lang") or "ADQL"
    if lang not in LANGS:
        raise TapParameterError(
            f"LANG={lang} is not supported; use one of {', '.join(LANGS)}", code="TAP-PARAM-LANG"
        )
    query = _single(p, "query")
    if query is None or not query.strip():
        raise TapParameterError(
            "QUERY is missing or empty; send the ADQL query in QUERY (TAP 1.1 sec. 2.7.3)",
            code="TAP-PARAM-QUERY",
        )
    fmt_a, fmt_b = _single(p, "responseformat"), _single(p, "format")
    if fmt_a is not None and fmt_b is not None and fmt_a != fmt_b:
        raise TapParameterError(
            "RESPONSEFORMAT and FORMAT disagree; send only one of them", code="TAP-PARAM-FORMAT"
        )
    response_format = fmt_a if fmt_a is not None else fmt_b
    maxrec_text = _single(p, "maxrec")
    requested: int | None = None
    maxrec = settings.maxrec_default
    if maxrec_text is not None and maxrec_text.strip() != "":
        try:
            requested = int(maxrec_text.strip())
        except ValueError:
            raise TapParameterError(
                f"MAXREC={maxrec_text!r} is not an integer; send a number of rows >= 0 "
                "(DALI 1.1 sec. 3.2.1)",
                code="TAP-PARAM-MAXREC",
            ) from None
        if requested < 0:
            raise TapParameterError(
                "MAXREC must not be negative (DALI 1.1 sec. 3.2.1)", code="TAP-PARAM-MAXREC"
            )
        maxrec = min(requested, settings.maxrec_hard)
    return TapParams(
        query=query,
        lang=lang,
        adql_version=LANGS[lang],
        response_format=response_format,
        maxrec=maxrec,
        maxrec_requested=requested,
        runid=_single(p, "runid"),
        uploads=parse_uploads(p.get("upload", [])),
    )


__all__ = [
    "TapParameterError",
    "TapParams",
    "UploadSpec",
    "normalise",
    "parse_params",
    "parse_uploads",
]
