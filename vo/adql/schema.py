"""How the translator sees tables: the ``SchemaLookup`` protocol and name matching.

``vo.db`` implements ``SchemaLookup`` from TAP_SCHEMA (plus the job's TAP_UPLOAD
tables); tests use ``StaticSchema``. Names follow TAP 1.1 sec. 4.3 as vo.meta
describes: a regular identifier (matched case-insensitively) or a delimited one
in double quotes (matched exactly), ADQL 2.1 sec. 2.1.3-2.1.4.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from vo.adql.ast import Ident
from vo.adql.errors import AmbiguousNameError, UnknownTableError
from vo.meta import TableMeta, unquote


@runtime_checkable
class SchemaLookup(Protocol):
    """The tables a query may use. ``version`` changes whenever any table does
    (translations are cached under it)."""

    @property
    def version(self) -> str: ...

    def tables(self) -> Sequence[TableMeta]: ...


@dataclass(frozen=True)
class StaticSchema:
    """A fixed set of tables (tests, TAP_UPLOAD overlays, or a snapshot of TAP_SCHEMA)."""

    table_list: tuple[TableMeta, ...]
    version: str = "static"

    def tables(self) -> Sequence[TableMeta]:
        return self.table_list


def name_matches(user: Ident, meta_name: str) -> bool:
    """Does a name the user wrote match a TAP_SCHEMA name (quoted if delimited)?

    Regular vs regular: case-insensitive. Delimited vs delimited: exact. A regular
    user name matches a delimited TAP name only if that name is all lower case (what
    SQL folding gives); a delimited user name matches a regular TAP name written in
    that exact spelling or its lower case.
    """
    meta_delimited = len(meta_name) >= 2 and meta_name[0] == '"' and meta_name[-1] == '"'
    if meta_delimited:
        exact = unquote(meta_name)
        return user.name == exact if user.delimited else user.name.lower() == exact
    if user.delimited:
        return user.name == meta_name or user.name == meta_name.lower()
    return user.name.lower() == meta_name.lower()


def split_table_name(table_name: str) -> tuple[str, ...]:
    """``"My Schema"."Tab.x"`` -> ('"My Schema"', '"Tab.x"'); dots inside quotes are kept."""
    parts: list[str] = []
    cur: list[str] = []
    quoted = False
    for ch in table_name:
        if ch == '"':
            quoted = not quoted
        if ch == "." and not quoted:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return tuple(parts)


@dataclass
class SchemaIndex:
    """Table lookup by the parts a user wrote, with near-match suggestions."""

    tables: Sequence[TableMeta]
    _by_last: dict[str, list[tuple[tuple[str, ...], TableMeta]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for t in self.tables:
            parts = split_table_name(t.table_name)
            if len(parts) == 1 and t.schema_name:
                parts = (t.schema_name, parts[0])
            key = unquote(parts[-1]).lower()
            self._by_last.setdefault(key, []).append((parts, t))

    def find(self, user: tuple[Ident, ...]) -> TableMeta:
        """Resolve ``[[catalog.]schema.]table``; raise with suggestions if unknown or ambiguous."""
        hits: list[TableMeta] = []
        wanted = user[-2:]  # a catalog part is accepted but not used (one database)
        for parts, meta in self._by_last.get(user[-1].name.lower(), []):
            if len(wanted) > len(parts):
                continue
            if all(
                name_matches(u, p) for u, p in zip(reversed(wanted), reversed(parts), strict=False)
            ):
                hits.append(meta)
        written = ".".join(u.text for u in user)
        if len(hits) == 1:
            return hits[0]
        if len(hits) > 1:
            names = ", ".join(sorted(h.table_name for h in hits))
            raise AmbiguousNameError(
                f"table {written} is ambiguous: it could be {names}; qualify it with its schema"
            )
        raise UnknownTableError(
            f"unknown table {written}{self.suggest(written)}; the tables you can "
            "query are listed in TAP_SCHEMA.tables"
        )

    def suggest(self, written: str) -> str:
        names = [t.table_name for t in self.tables]
        lowered = {n.lower(): n for n in names}
        close = difflib.get_close_matches(written.lower(), list(lowered), n=3, cutoff=0.6)
        if not close:
            short = {split_table_name(n)[-1].lower(): n for n in names}
            close_short = difflib.get_close_matches(
                written.split(".")[-1].lower(), list(short), n=3, cutoff=0.6
            )
            return (
                f" (did you mean {' or '.join(short[c] for c in close_short)}?)"
                if close_short
                else ""
            )
        return f" (did you mean {' or '.join(lowered[c] for c in close)}?)"


def suggest_names(written: str, candidates: Sequence[str]) -> str:
    """`` (did you mean x or y?)`` for near matches of a column name, or ``""``."""
    lowered = {unquote(c).lower(): c for c in candidates}
    close = difflib.get_close_matches(written.strip('"').lower(), list(lowered), n=3, cutoff=0.6)
    return f" (did you mean {' or '.join(lowered[c] for c in close)}?)" if close else ""
