"""TAP_UPLOAD: uploaded VOTables as per-request temporary tables (TAP 1.1 sec. 2.5.6, 4.4;
DALI 1.1 sec. 3.4.5).

A table arrives inline (``param:name``, a multipart part) or by an http(s) URL (size and
time limited; loopback, private and link-local addresses are refused unless
``settings.upload_allow_private_urls``). astropy parses any serialisation (an inline
BINARY/BINARY2 stream of numeric scalars, the usual crossmatch list, is decoded with numpy
after astropy has read the metadata: ~1 ms instead of ~25 ms for 1,000 rows); each FIELD
becomes a column with its VOTable metadata (names that are not regular identifiers
stay usable as delimited identifiers). The table lives in ``pg_temp`` inside the
query's transaction (dropped when it ends) and is readable by the query role. With
a recognisable position (UCD ``pos.eq.ra/dec`` or columns named ra/dec) it gets the
hidden HEALPix columns ``hpx, cx, cy, cz`` (``vo.healpix``) and an index on ``hpx``, so
crossmatch joins take the range plan (``vo.adql.crossmatch``, DESIGN.md HEALPix step 5),
whichever side probes the other.
"""

from __future__ import annotations

import base64
import io
import ipaddress
import math
import re
import socket
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol

import numpy as np
import psycopg2

from vo.config import Settings
from vo.errors import LimitError, QueryError
from vo.meta import ColumnMeta, Position, TableMeta, quote_ident
from vo.votable.columns import NUMERIC_TYPES

UploadSource = bytes | BinaryIO | Path
_REGULAR = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_PG_TYPES = {
    "boolean": "boolean",
    "bit": "boolean",
    "unsignedByte": "smallint",
    "short": "smallint",
    "int": "integer",
    "long": "bigint",
    "float": "real",
    "double": "double precision",
    "char": "text",
    "unicodeChar": "text",
}
URL_TIMEOUT_S = 30.0
MAX_REDIRECTS = 5


class UploadSpecLike(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def uri(self) -> str: ...


class UploadError(QueryError):
    """An uploaded table could not be used; the message names the table and the reason."""

    code = "TAP-UPLOAD"


class UploadLimitError(LimitError):
    """An uploaded table is larger than the service accepts (advertised in capabilities)."""

    code = "TAP-UPLOAD-LIMIT"


@dataclass
class LoadedUpload:
    """One parsed upload: its TAP_SCHEMA-style metadata and its values, column by column."""

    table: TableMeta
    sql_types: list[str]
    cells: list[list[Any]]  # per column, None for NULL
    position: tuple[int, int] | None  # indices of the ra/dec columns
    nrows: int

    def create(self, conn: Any, role: str) -> None:
        """Create and fill the temporary table on ``conn`` (psycopg2), grant SELECT to ``role``.

        With a position it also gets ``hpx`` (from numpy and healpy, as ingest computes it)
        and the unit vector as columns PostgreSQL generates from ra/dec (no float text to
        format and parse), plus a btree on hpx (DESIGN.md HEALPix steps 1-2)."""
        name = quote_ident(self.table.db_table)
        cols = [
            f"{quote_ident(c.physical)} {t}"
            for c, t in zip(self.table.columns, self.sql_types, strict=True)
        ]
        columns = [_copy_column(c) for c in self.cells]
        if self.position is not None:
            ra, dec = (quote_ident(self.table.columns[i].physical) for i in self.position)
            a, d = f"radians({ra})", f"radians({dec})"
            cols += [
                "hpx bigint",
                f"cx double precision GENERATED ALWAYS AS (cos({d}) * cos({a})) STORED",
                f"cy double precision GENERATED ALWAYS AS (cos({d}) * sin({a})) STORED",
                f"cz double precision GENERATED ALWAYS AS (sin({d})) STORED",
            ]
            hpx = self._hpx()
            columns.append(["\\N" if h < 0 else str(h) for h in hpx.tolist()])
        try:
            self._load(conn, name, cols, columns, role)
        except psycopg2.Error as exc:
            msg = (getattr(exc, "pgerror", None) or str(exc)).strip().splitlines()[0]
            raise UploadError(
                f"upload {self.table.table_name}: the database rejected a value "
                f"({msg.removeprefix('ERROR:').strip()}); check the uploaded column types",
                code="TAP-UPLOAD-VALUE",
            ) from None

    def _hpx(self) -> np.ndarray:
        from vo.healpix import pixel_index

        assert self.position is not None
        ra, dec = (_floats(self.cells[i]) for i in self.position)
        return pixel_index(ra, dec)

    def _load(
        self, conn: Any, name: str, cols: list[str], columns: list[list[str]], role: str
    ) -> None:
        physical = [quote_ident(c.physical) for c in self.table.columns]
        if self.position is not None:
            physical.append("hpx")
        with conn.cursor() as cur:
            cur.execute(f"CREATE TEMPORARY TABLE {name} ({', '.join(cols)}) ON COMMIT DROP")
            if columns and self.nrows:
                text = "\n".join(map("\t".join, zip(*columns, strict=True))) + "\n"
                target = f"{name} ({', '.join(physical)})"
                cur.copy_expert(f"COPY {target} FROM STDIN", io.StringIO(text))
            elif self.nrows:  # no columns: rows of nothing
                cur.execute(f"INSERT INTO {name} SELECT FROM generate_series(1, {self.nrows})")
            index = f"CREATE INDEX ON {name} (hpx); " if self.position is not None else ""
            cur.execute(f"{index}ANALYZE {name}; GRANT SELECT ON {name} TO {quote_ident(role)}")


def _floats(values: list[Any]) -> np.ndarray:
    """A column of numbers and None as float64 (None -> NaN)."""
    try:
        return np.array(values, dtype=np.float64)  # None becomes NaN
    except (TypeError, ValueError):
        return np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)


def _copy_scalar(v: Any) -> str:
    if isinstance(v, (bool, np.bool_)):
        return "t" if v else "f"
    if isinstance(v, (float, np.floating)):
        f = float(v)
        if math.isnan(f):
            return "NaN"
        if math.isinf(f):
            return "Infinity" if f > 0 else "-Infinity"
        return repr(f)
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, bytes):
        v = v.decode("utf-8", "replace")
    return str(v)


_FLOAT_WORDS = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}


def _copy_column(values: list[Any]) -> list[str]:
    """A column in COPY text format: plain floats and ints without the per-cell type
    dispatch of ``_copy_cell`` (the bulk of a numeric upload), anything else cell by cell."""
    kinds = {type(v) for v in values}
    if kinds <= {float, type(None)}:
        return [
            "\\N" if v is None else _FLOAT_WORDS.get(t := repr(v), t)  # type: ignore[has-type]
            for v in values
        ]
    if kinds <= {int, type(None)}:
        return ["\\N" if v is None else str(v) for v in values]
    return [_copy_cell(v) for v in values]


def _copy_cell(v: Any) -> str:
    """One value in COPY text format (arrays as PostgreSQL array literals)."""
    if v is None:
        return "\\N"
    if isinstance(v, list):
        inner = ",".join("NULL" if x is None else _copy_scalar(x) for x in v)
        text = "{" + inner + "}"
    else:
        text = _copy_scalar(v)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _refuse_private(url: str) -> None:
    host = urllib.parse.urlsplit(url).hostname
    if not host:
        raise UploadError(f"upload URL {url} has no host name", code="TAP-UPLOAD-URL")
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError as exc:
        raise UploadError(
            f"upload URL {url}: cannot resolve {host} ({exc.strerror})", code="TAP-UPLOAD-URL"
        ) from None
    for info in infos:
        addr = ipaddress.ip_address(info[4][0])
        if (
            addr.is_private
            or addr.is_loopback
            or addr.is_link_local
            or addr.is_reserved
            or addr.is_multicast
            or addr.is_unspecified
        ):
            raise UploadError(
                f"upload URL {url} points at a non-public address ({addr}); this service "
                "only fetches uploads from public hosts: send the table inline instead "
                "(UPLOAD=name,param:part with a multipart file)",
                code="TAP-UPLOAD-PRIVATE",
            )


def fetch_url(url: str, settings: Settings) -> bytes:
    """Fetch an upload by URL, http(s) only, bounded in size and time.

    Redirects are followed by hand (at most MAX_REDIRECTS), each hop checked like the
    first, so a public URL cannot redirect the service to a private address.
    """
    import requests

    limit = settings.upload_max_bytes
    try:
        for _ in range(MAX_REDIRECTS + 1):
            scheme = urllib.parse.urlsplit(url).scheme.lower()
            if scheme not in ("http", "https"):
                raise UploadError(
                    f"upload URL scheme {scheme!r} is not supported; use http or https",
                    code="TAP-UPLOAD-URL",
                )
            if not settings.upload_allow_private_urls:
                _refuse_private(url)
            with requests.get(
                url, stream=True, timeout=URL_TIMEOUT_S, allow_redirects=False
            ) as resp:
                if resp.is_redirect and resp.headers.get("Location"):
                    url = urllib.parse.urljoin(url, resp.headers["Location"])
                    continue
                if resp.status_code != 200:
                    raise UploadError(
                        f"upload URL {url} answered HTTP {resp.status_code}",
                        code="TAP-UPLOAD-URL",
                    )
                buf = bytearray()
                for block in resp.iter_content(65536):
                    buf.extend(block)
                    if len(buf) > limit:
                        raise UploadLimitError(
                            f"the table at {url} is larger than the upload limit of {limit} bytes"
                        )
                return bytes(buf)
        raise UploadError(
            f"upload URL {url} redirects more than {MAX_REDIRECTS} times", code="TAP-UPLOAD-URL"
        )
    except requests.RequestException as exc:
        raise UploadError(
            f"cannot fetch upload URL {url}: {type(exc).__name__}", code="TAP-UPLOAD-URL"
        ) from None


def _read(source: UploadSource, limit: int, name: str) -> bytes:
    if isinstance(source, bytes):
        data = source
    elif isinstance(source, Path):
        data = source.read_bytes()
    else:
        data = source.read(limit + 1)
    if len(data) > limit:
        raise UploadLimitError(
            f"upload {name} is larger than the limit of {limit} bytes; upload fewer rows or columns"
        )
    return data


def _column_name(field_name: str, used: set[str]) -> str:
    """TAP_SCHEMA-style name: a regular identifier in lower case, else delimited."""
    from vo.adql.reserved import RESERVED

    if _REGULAR.match(field_name) and field_name.upper() not in RESERVED:
        name = field_name.lower()
    else:
        name = quote_ident(field_name)
    if name.lower() in used:
        raise UploadError(
            f"column {field_name!r} occurs twice in the uploaded table", code="TAP-UPLOAD-COLUMN"
        )
    used.add(name.lower())
    return name


def _cell(v: Any, masked: bool, is_array: bool) -> Any:
    if masked or v is None:
        return None
    if isinstance(v, np.ma.MaskedArray):
        return [
            None if m else x.item()
            for x, m in zip(np.asarray(v.data).ravel(), np.ma.getmaskarray(v).ravel(), strict=True)
        ]
    if isinstance(v, np.ndarray):
        if v.dtype.kind in "SU":
            return "".join(str(x) for x in v.ravel())
        return [x.item() for x in v.ravel()]
    if isinstance(v, (np.generic,)):
        v = v.item()
    if isinstance(v, bytes):
        v = v.decode("utf-8", "replace")
    if is_array and not isinstance(v, (list, str)):
        return [v]
    return v


_SCALAR_TYPES = ("boolean", "smallint", "integer", "bigint", "real", "double precision")


def _column_cells(arr: Any, mask: Any, fname: str, sql_type: str, nrows: int) -> list[Any]:
    """One uploaded column as Python values (None for masked cells). Plain numeric
    columns convert in one ``tolist()`` (a 1,000-row crossmatch upload spent most of its
    parse time indexing numpy scalars one by one), others cell by cell."""
    col = arr[fname]
    m = mask[fname] if mask is not None else None
    if sql_type in _SCALAR_TYPES and col.ndim == 1:
        values = np.asarray(col).tolist()
        if m is None:
            return values  # type: ignore[no-any-return]
        return [None if masked else v for v, masked in zip(values, m.tolist(), strict=True)]
    out: list[Any] = []
    is_array = sql_type.endswith("[]")
    for r in range(nrows):
        cell_masked = False
        if m is not None:
            cell_masked = bool(m[r].any()) if m.ndim > 1 else bool(m[r])
        v = _cell(col[r], cell_masked and not is_array, is_array)
        if v == "" and sql_type == "timestamp":
            v = None  # an empty TD of a timestamp is a NULL (VOTable 1.4 sec. 6)
        out.append(v)
    return out


_DATA = re.compile(rb"<DATA>\s*(.*?)\s*</DATA>", re.S)
_TABLE = re.compile(rb"<TABLE[\s>/]")
_STREAM = re.compile(
    rb"<(BINARY2?)>\s*<STREAM\s+encoding\s*=\s*[\"']base64[\"']\s*>([^<]*)</STREAM>\s*</BINARY2?>",
)


def _astropy_table(name: str, data: bytes) -> Any:
    import warnings

    from astropy.io.votable import parse
    from astropy.io.votable.exceptions import VOWarning

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", VOWarning)
            return parse(io.BytesIO(data), verify="ignore").get_first_table()
    except Exception as exc:  # noqa: BLE001 - any parser failure is the uploader's
        raise UploadError(
            f"upload {name} is not a readable VOTable: {exc}", code="TAP-UPLOAD-VOTABLE"
        ) from None


def _binary_cells(name: str, data: bytes) -> tuple[Any, list[list[Any]], int] | None:
    """(metadata-only astropy table, cells per column, rows) of a one-table VOTable whose
    data is an inline base64 BINARY or BINARY2 stream of numeric scalars, decoded with
    numpy (VOTable 1.4 sec. 5.4-5.5: per row, BINARY2's null flags, then big-endian cells);
    None for anything else, which astropy then parses whole (~25 ms per 1,000 rows).
    As astropy reads them: a flagged cell or a floating-point NaN is NULL."""
    found = list(_DATA.finditer(data))
    if len(found) != 1 or len(_TABLE.findall(data)) != 1:
        return None
    stream = _STREAM.fullmatch(found[0].group(1))
    if stream is None:
        return None
    table = _astropy_table(name, data[: found[0].start()] + data[found[0].end() :])
    fields = list(table.fields)
    if not fields or any(
        f.datatype not in NUMERIC_TYPES
        or f.arraysize not in (None, "1")
        or getattr(f.values, "null", None) is not None
        for f in fields
    ):
        return None
    nflags = (len(fields) + 7) // 8 if stream.group(1) == b"BINARY2" else 0
    layout = [(f"c{i}", NUMERIC_TYPES[f.datatype][0]) for i, f in enumerate(fields)]
    dtype = np.dtype(([("flags", "u1", (nflags,))] if nflags else []) + layout)
    raw = base64.b64decode(stream.group(2))
    if len(raw) % dtype.itemsize:
        return None  # not this layout after all: let astropy report what is wrong
    rows = np.frombuffer(raw, dtype)
    flags = np.unpackbits(rows["flags"], axis=1).astype(bool) if nflags else None
    cells: list[list[Any]] = []
    for i, f in enumerate(fields):
        col = rows[f"c{i}"]
        null = flags[:, i] if flags is not None else np.zeros(len(rows), dtype=bool)
        if f.datatype in ("float", "double"):
            null = null | np.isnan(col)
        values = col.tolist()
        if null.any():
            values = [None if n else v for v, n in zip(values, null.tolist(), strict=True)]
        cells.append(values)
    return table, cells, len(rows)


def parse_votable(name: str, data: bytes, settings: Settings) -> LoadedUpload:
    """The first table of a VOTable as an upload (TAP 1.1 sec. 2.7.6)."""
    fast = _binary_cells(name, data)
    table = fast[0] if fast is not None else _astropy_table(name, data)
    nrows = fast[2] if fast is not None else len(table.array)
    if nrows > settings.upload_max_rows:
        raise UploadLimitError(
            f"upload {name} has {nrows} rows; the limit is {settings.upload_max_rows}"
        )
    used: set[str] = set()
    columns: list[ColumnMeta] = []
    sql_types: list[str] = []
    for i, f in enumerate(table.fields):
        if f.datatype not in _PG_TYPES:
            raise UploadError(
                f"upload {name}: column {f.name!r} has datatype {f.datatype}, "
                "which this service cannot store",
                code="TAP-UPLOAD-COLUMN",
            )
        arraysize = f.arraysize if f.arraysize not in (None, "1") else None
        base = _PG_TYPES[f.datatype]
        text = f.datatype in ("char", "unicodeChar")
        if f.xtype == "timestamp" and text:
            base = "timestamp"
        sql = base if (text or arraysize is None) else base + "[]"
        columns.append(
            ColumnMeta(
                name=_column_name(f.name, used),
                datatype=f.datatype,
                arraysize=arraysize,
                xtype=f.xtype,
                unit=str(f.unit) if f.unit is not None else None,
                ucd=f.ucd,
                utype=f.utype,
                description=f.description,
                db_name=f"c{i}",
            )
        )
        sql_types.append(sql)
    if fast is not None:
        cells = fast[1]
    else:
        arr = table.array
        mask = np.ma.getmaskarray(arr) if isinstance(arr, np.ma.MaskedArray) else None
        names = arr.dtype.names or ()
        cells = [
            _column_cells(arr, mask, fname, sql_types[j], nrows) for j, fname in enumerate(names)
        ]
    position = _find_position(columns, sql_types)
    pos_meta = None
    if position is not None:
        pos_meta = Position(
            ra=columns[position[0]].physical,
            dec=columns[position[1]].physical,
            rows=nrows,
        )
    meta = TableMeta(
        schema_name="TAP_UPLOAD",
        table_name=f"TAP_UPLOAD.{name}",
        columns=tuple(columns),
        description=f"uploaded table {name}",
        db_schema="pg_temp",
        db_table=f"tap_upload_{name.lower()}",
        position=pos_meta,
    )
    return LoadedUpload(meta, sql_types, cells, position, nrows)


def _find_position(columns: Sequence[ColumnMeta], types: Sequence[str]) -> tuple[int, int] | None:
    def pick(kind: str, names: tuple[str, ...]) -> int | None:
        scalar = [i for i, t in enumerate(types) if t in ("double precision", "real")]
        for want in (f"pos.eq.{kind};meta.main", f"pos.eq.{kind}"):
            for i in scalar:
                if (columns[i].ucd or "").lower().startswith(want):
                    return i
        for i in scalar:
            if columns[i].name.strip('"').lower() in names:
                return i
        return None

    ra = pick("ra", ("ra", "ra_icrs", "raj2000", "_raj2000"))
    dec = pick("dec", ("dec", "de", "dec_icrs", "dej2000", "_dej2000"))
    return (ra, dec) if ra is not None and dec is not None else None


def load_uploads(
    specs: Sequence[UploadSpecLike], files: Mapping[str, UploadSource], settings: Settings
) -> list[LoadedUpload]:
    """Read and parse every upload of a request (before any database work)."""
    out: list[LoadedUpload] = []
    total = 0
    for spec in specs:
        if spec.uri.startswith("param:"):
            part = spec.uri[len("param:") :]
            source = files.get(part)
            if source is None:
                raise UploadError(
                    f"UPLOAD {spec.name} refers to param:{part}, but the request has no file "
                    f"part named {part!r}; send it as multipart/form-data",
                    code="TAP-UPLOAD-PART",
                )
            data = _read(source, settings.upload_max_bytes, spec.name)
        else:
            data = fetch_url(spec.uri, settings)
        total += len(data)
        if total > settings.upload_max_bytes:
            raise UploadLimitError(f"the uploads together exceed {settings.upload_max_bytes} bytes")
        out.append(parse_votable(spec.name, data, settings))
    return out


__all__ = [
    "LoadedUpload",
    "UploadError",
    "UploadLimitError",
    "UploadSource",
    "fetch_url",
    "load_uploads",
    "parse_votable",
]
