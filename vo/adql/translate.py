"""The public entry point: ``translate(text, lookup, *, maxrec=None) -> Translation``,
with a cache keyed by (query text, schema version, options), since the ANTLR Python
runtime is the slow part (DESIGN.md: ADQL parser decision)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from vo.adql.errors import ADQLSyntaxError
from vo.adql.parser import parse
from vo.adql.schema import SchemaIndex, SchemaLookup
from vo.adql.translator import Translator
from vo.meta import ColumnMeta, TableMeta

CACHE_SIZE = 2048


@dataclass(frozen=True)
class Translation:
    """What the database layer runs and what the writers describe.

    ``sql``: one PostgreSQL SELECT (no parameters, no ';'); ``columns``: VOTable FIELD
    metadata per result column, in order; ``tables``: the tables read (for COOSYS and
    provenance); ``fast_paths``: how many geometry predicates use the HEALPix index.
    """

    sql: str
    columns: tuple[ColumnMeta, ...]
    tables: tuple[TableMeta, ...]
    fast_paths: int = 0


_lock = threading.Lock()
_cache: OrderedDict[tuple[str, str, int | None, bool], Translation] = OrderedDict()
_indexes: OrderedDict[tuple[int, str], SchemaIndex] = OrderedDict()


def _index(lookup: SchemaLookup) -> SchemaIndex:
    key = (id(lookup), lookup.version)
    with _lock:
        idx = _indexes.get(key)
        if idx is not None:
            return idx
    idx = SchemaIndex(tuple(lookup.tables()))
    with _lock:
        _indexes[key] = idx
        while len(_indexes) > 64:
            _indexes.popitem(last=False)
    return idx


def translate(
    text: str, lookup: SchemaLookup, *, maxrec: int | None = None, fast_path: bool = True
) -> Translation:
    """ADQL 2.1 ``text`` -> PostgreSQL; raises an ``ADQLError`` subclass on any problem.

    ``maxrec`` (TAP 1.1 sec. 2.7.4) adds ``LIMIT maxrec+1`` (combined with TOP), so the
    writer can detect overflow from the extra row. ``fast_path=False`` forces the
    exact geometry translation (tests compare both). Results are cached under
    (text, lookup.version, maxrec, fast_path): ``version`` must change whenever the
    visible tables change (including a job's TAP_UPLOAD tables).
    """
    if maxrec is not None and maxrec < 0:
        raise ValueError("maxrec must be >= 0")
    key = (text, lookup.version, maxrec, fast_path)
    with _lock:
        hit = _cache.get(key)
        if hit is not None:
            _cache.move_to_end(key)
            return hit
    query = parse(text)
    tr = Translator(_index(lookup), fast_path=fast_path)
    try:
        sql, columns = tr.query(query, maxrec=maxrec)
    except RecursionError:
        raise ADQLSyntaxError(
            "the query is nested too deeply (parentheses, functions or subqueries); simplify it"
        ) from None
    result = Translation(sql, tuple(columns), tuple(tr.tables_used.values()), tr.fast_paths_taken)
    with _lock:
        _cache[key] = result
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return result


def clear_cache() -> None:
    """Forget cached translations and schema indexes (tests, schema reloads)."""
    with _lock:
        _cache.clear()
        _indexes.clear()
