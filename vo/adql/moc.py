"""MOC membership in ADQL: ``ivo_moc_contains(moc, ra, dec)`` on the order-29 HEALPix index.

A space MOC (MOC 2.0 sec. 2) is a set of nested HEALPix cells; a cell (k, p) is the
order-29 index range ``[p << 2(29-k), ((p+1) << 2(29-k)) - 1]``. A position lies in the
MOC exactly when its order-29 pixel lies in one of those ranges, so on a table whose
``hpx`` column is that pixel (DESIGN.md, HEALPix) membership IS a set of range
predicates: no refinement is needed, unlike cones and polygons.

The MOC text is parsed here, at translation time, under the MOC 2.0 sec. 4.2.3 ASCII
grammar (``'s'? ordval (sep+ ordval)* [sep+ order]``, e.g. ``3/1-3 5/100 7/``). We
parse it ourselves rather than with mocpy because mocpy 0.21 accepts text the grammar
forbids and silently gives wrong ranges (measured: ``30/1`` becomes order 29,
``0/12`` a cell past the sphere's 12 faces, ``3/3-1`` a range with lo > hi); mocpy
stays the independent oracle in the tests. Cells may come in any order and may
overlap (the set they cover is still well defined); the ranges are merged.
"""

from __future__ import annotations

import re

import numpy as np

from vo.adql.errors import ADQLError
from vo.adql.literals import sql_integer
from vo.healpix import merge_ranges

ORDER_MAX = 29
MAX_RANGES = 100_000  # a larger MOC makes a query text of megabytes: refuse it clearly
OR_RANGES_MAX = 15  # DESIGN.md pitfalls: an OR of BETWEENs is best up to ~15 ranges

_TOKEN = re.compile(r"(\d+)/|(\d+)-(\d+)|(\d+)")
_SEP = re.compile(r"[ \n\r]+")


class MOCSyntaxError(ADQLError):
    """The MOC argument of ivo_moc_contains is not a MOC 2.0 ASCII space MOC (sec. 4.2.3)."""

    code = "ADQL-MOC"


def _fail(text: str, problem: str) -> MOCSyntaxError:
    shown = text if len(text) <= 60 else text[:57] + "..."
    return MOCSyntaxError(
        f"ivo_moc_contains: {problem} in the MOC {shown!r}; write a MOC 2.0 ASCII space MOC "
        "such as '3/1-3 5/100 7/' (order/cells, orders 0-29, cells in 0..12*4^order-1)"
    )


def parse_moc(text: str) -> np.ndarray:
    """The merged inclusive order-29 ranges (n x 2 int64) of MOC 2.0 ASCII ``text``.

    An empty MOC (``'0/'`` or ``'29/'``: only an order) gives no ranges. Raises
    :class:`MOCSyntaxError` naming the first problem.
    """
    body = text.strip(" \n\r")
    if body.startswith("s"):  # sec. 4.2.3: smoc ::= 's'? moc
        body = body[1:].lstrip(" \n\r")
    if not body:
        raise _fail(text, "no cells and no order (the empty MOC is written '0/')")
    order: int | None = None
    los: list[int] = []
    his: list[int] = []
    ranges = 0
    for word in _SEP.split(body):
        pos = 0
        while pos < len(word):
            m = _TOKEN.match(word, pos)
            if m is None:
                raise _fail(text, f"unexpected {word[pos : pos + 12]!r}")
            pos = m.end()
            if m.group(1) is not None:
                order = int(m.group(1))
                if order > ORDER_MAX:
                    raise _fail(text, f"order {order} is above {ORDER_MAX}")
                continue
            if order is None:
                raise _fail(text, f"cell {m.group(0)!r} comes before any 'order/'")
            lo = int(m.group(2) if m.group(2) is not None else m.group(4))
            hi = int(m.group(3)) if m.group(3) is not None else lo
            if lo > hi:
                raise _fail(text, f"the range {lo}-{hi} runs backwards")
            npix = 12 << (2 * order)
            if hi >= npix:
                raise _fail(text, f"cell {hi} does not exist at order {order} (0..{npix - 1})")
            shift = 2 * (ORDER_MAX - order)
            los.append(lo << shift)
            his.append(((hi + 1) << shift) - 1)
            ranges += 1
            if ranges > MAX_RANGES:
                raise _fail(text, f"more than {MAX_RANGES} cell ranges")
    if not los:
        return np.zeros((0, 2), dtype=np.int64)
    cells = np.stack((np.array(los, dtype=np.int64), np.array(his, dtype=np.int64)), axis=1)
    return merge_ranges([cells[np.argsort(cells[:, 0], kind="stable")]])


def moc_argument(text: object) -> np.ndarray:
    """The ranges of a constant MOC argument (a str); anything else is refused clearly."""
    if not isinstance(text, str):
        raise MOCSyntaxError(
            "ivo_moc_contains: the MOC must be a string literal (a constant MOC 2.0 ASCII text "
            "such as '3/1-3 5/100 7/'); MOCs from columns or expressions are not supported"
        )
    return parse_moc(text)


def exact_sql(ranges: np.ndarray, ra_sql: str, dec_sql: str) -> str:
    """The general translation: ``vo_adql.moc_contains(lo[], hi[], ra, dec)`` (vo_adql.sql)."""
    lo = ", ".join(sql_integer(int(v)) for v in ranges[:, 0])
    hi = ", ".join(sql_integer(int(v)) for v in ranges[:, 1])
    return (
        f"vo_adql.moc_contains(CAST(ARRAY[{lo}] AS bigint[]), CAST(ARRAY[{hi}] AS bigint[]), "
        f"{ra_sql}, {dec_sql})"
    )


def index_sql(ranges: np.ndarray, hpx_sql: str) -> str:
    """The fast path on an order-29 ``hpx`` column: range predicates the btree serves.

    Up to OR_RANGES_MAX ranges: an OR of BETWEENs (bitmap index scans). More: the ranges
    grouped into OR_RANGES_MAX spans by closing the smallest gaps (the btree reads only
    those), each row then tested exactly by ``vo_adql.moc_has_pixel`` (a binary search
    on the range arrays). Measured against a self-join through ``CROSS JOIN LATERAL``
    and an EXISTS semi-join in tests/integration/adql/test_moc_results.py's commit.
    """
    if len(ranges) == 0:
        return "FALSE"
    spans = (
        "("
        + " OR ".join(f"{hpx_sql} BETWEEN {int(lo)} AND {int(hi)}" for lo, hi in _spans(ranges))
        + ")"
    )
    if len(ranges) <= OR_RANGES_MAX:
        return spans
    lo = ", ".join(sql_integer(int(v)) for v in ranges[:, 0])
    hi = ", ".join(sql_integer(int(v)) for v in ranges[:, 1])
    return (
        f"({spans} AND vo_adql.moc_has_pixel(CAST(ARRAY[{lo}] AS bigint[]), "
        f"CAST(ARRAY[{hi}] AS bigint[]), {hpx_sql}))"
    )


def _spans(ranges: np.ndarray) -> np.ndarray:
    """At most OR_RANGES_MAX ranges covering ``ranges`` (sorted, disjoint): the largest
    gaps are kept, the others closed."""
    if len(ranges) <= OR_RANGES_MAX:
        return ranges
    gaps = ranges[1:, 0] - ranges[:-1, 1]
    cuts = np.sort(np.argsort(gaps, kind="stable")[::-1][: OR_RANGES_MAX - 1]) + 1
    starts = np.concatenate(([0], cuts))
    ends = np.concatenate((cuts, [len(ranges)])) - 1
    return np.stack((ranges[starts, 0], ranges[ends, 1]), axis=1)
