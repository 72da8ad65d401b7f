"""Table metadata for the ADQL translator (``vo.adql.schema.SchemaLookup``): TAP_SCHEMA
plus this request's TAP_UPLOAD tables.

``SchemaCache`` reads ``tap_schema.load_tables`` once per ``tap_schema.schema_version``
(every publish/unpublish bumps it), so a request pays one tiny query to learn that its
cached view is current. ``TapSchemaLookup`` resolves names as ADQL 2.1 sec. 2.1.3
wants: regular identifiers case-insensitively, delimited identifiers exactly; a table
may be named without its schema when that is unambiguous.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterable, Sequence

from sqlalchemy import Engine, text

from vo.db import tap_schema
from vo.meta import TableMeta, unquote

UPLOAD_SCHEMA = "TAP_UPLOAD"


def split_name(name: str) -> list[tuple[str, bool]]:
    """``a."B c".d`` -> [("a", False), ("B c", True), ("d", False)] (name, delimited)."""
    parts: list[tuple[str, bool]] = []
    i, n = 0, len(name)
    while i < n:
        if name[i] == '"':
            j, buf = i + 1, []
            while j < n:
                if name[j] == '"':
                    if j + 1 < n and name[j + 1] == '"':
                        buf.append('"')
                        j += 2
                        continue
                    break
                buf.append(name[j])
                j += 1
            parts.append(("".join(buf), True))
            i = j + 1
        else:
            j = name.find(".", i)
            j = n if j < 0 else j
            parts.append((name[i:j].strip(), False))
            i = j
        if i < n and name[i] == ".":
            i += 1
    return parts


def _parts_match(stored: list[tuple[str, bool]], asked: list[tuple[str, bool]]) -> bool:
    """Does the name as asked (possibly without schema) denote the stored name?"""
    if len(asked) > len(stored):
        return False
    for (s, s_delim), (a, a_delim) in zip(stored[-len(asked) :], asked, strict=True):
        if a_delim or s_delim:
            # As vo.adql.schema.name_matches: delimited vs delimited exactly; a regular
            # name matches a delimited stored name only if that one is all lower case
            # (SQL folding); a delimited name matches a regular stored name in its exact
            # spelling or its lower case (TAP 1.1 sec. 4.3, ADQL 2.1 sec. 2.1.3).
            if a_delim and s_delim and a != s:
                return False
            if a_delim and not s_delim and a != s and a != s.lower():
                return False
            if not a_delim and s_delim and a.lower() != s:
                return False
        elif a.lower() != s.lower():
            return False
    return True


class TapSchemaLookup:
    """The tables one request may query: published ones and its own uploads."""

    def __init__(self, tables: Iterable[TableMeta], version: str = "") -> None:
        self._tables: tuple[TableMeta, ...] = tuple(tables)
        self.version = version
        self._parsed = [(split_name(t.table_name), t) for t in self._tables]

    def tables(self) -> Sequence[TableMeta]:
        return self._tables

    def candidates(self, name: str) -> list[TableMeta]:
        """Every table the (possibly unqualified) ADQL name could denote."""
        asked = split_name(name)
        if not asked or any(not p for p, _ in asked):
            return []
        hits = [t for parts, t in self._parsed if _parts_match(parts, asked)]
        if len(hits) > 1:
            exact = [t for t in hits if t.table_name == name]
            if exact:
                return exact
        return hits

    def table(self, name: str) -> TableMeta | None:
        """The one table ``name`` denotes, or None (unknown or ambiguous)."""
        hits = self.candidates(name)
        return hits[0] if len(hits) == 1 else None

    def find_table(self, schema: str | None, table: str) -> TableMeta | None:
        return self.table(table if not schema else f"{schema}.{table}")

    def __getitem__(self, name: str) -> TableMeta:
        t = self.table(name)
        if t is None:
            raise KeyError(name)
        return t

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.table(name) is not None

    def with_tables(self, extra: Iterable[TableMeta]) -> TapSchemaLookup:
        """This view plus ``extra`` (TAP_UPLOAD tables of one request).

        The overlay gets a version of its own, so translations cached under the
        published version are never reused for a query that sees uploads.
        """
        extra = tuple(extra)
        if not extra:
            return self
        return TapSchemaLookup((*self._tables, *extra), f"{self.version}+{uuid.uuid4().hex}")


class SchemaCache:
    """Published table metadata, re-read only when ``vo_meta.schema_version`` moved.

    The version itself is checked at most every ``ttl`` seconds (a round trip and a
    pool checkout per query were a fifth of a small cone search's time), so a newly
    published table is visible to queries within ``ttl`` seconds.
    """

    def __init__(self, engine: Engine, *, ttl: float = 1.0) -> None:
        self._engine = engine
        self._lock = threading.Lock()
        self._current: TapSchemaLookup | None = None
        self._checked = 0.0
        self.ttl = ttl

    def lookup(self) -> TapSchemaLookup:
        cur = self._current
        if cur is not None and time.monotonic() - self._checked < self.ttl:
            return cur
        checked = time.monotonic()
        with self._engine.connect() as conn:
            version = tap_schema.schema_version(conn)
            cur = self._current
            if cur is not None and cur.version == version:
                self._checked = checked
                return cur
            tables = tap_schema.load_tables(conn)
        fresh = TapSchemaLookup(tables, version)
        with self._lock:
            self._current = fresh
            self._checked = checked
        return fresh

    def table(self, name: str) -> TableMeta | None:
        return self.lookup().table(name)

    def schema_descriptions(self) -> dict[str, str | None]:
        """TAP_SCHEMA.schemas: name -> description (for VOSI tables)."""
        with self._engine.connect() as conn:
            rows = conn.execute(text("SELECT schema_name, description FROM tap_schema.schemas"))
            return {r[0]: r[1] for r in rows}


def upload_table_name(name: str) -> str:
    """TAP_SCHEMA-style name of an uploaded table (DALI 1.1 sec. 3.4.5)."""
    return f"{UPLOAD_SCHEMA}.{name}"


__all__ = [
    "SchemaCache",
    "TapSchemaLookup",
    "UPLOAD_SCHEMA",
    "split_name",
    "unquote",
    "upload_table_name",
]
