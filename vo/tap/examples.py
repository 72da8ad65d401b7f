"""The DALI examples document (DALI 1.1 sec. 2.3; TAP 1.1 sec. 2.6): XHTML+RDFa.

Each example is a ``div typeof="example"`` with a ``name``, the tables it uses
(``property="table"``) and the ADQL in ``property="query"``. Only examples whose
tables are published are listed, so every query shown runs on this service
(taplint's EXA stage runs them).
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Example:
    id: str
    name: str
    description: str
    tables: tuple[str, ...]
    query: str


EXAMPLES: tuple[Example, ...] = (
    Example(
        "tables",
        "Tables of this service",
        "Lists the published tables with their descriptions, from TAP_SCHEMA (TAP 1.1 sec. 4).",
        ("TAP_SCHEMA.tables",),
        "SELECT schema_name, table_name, description\nFROM TAP_SCHEMA.tables\n"
        "ORDER BY schema_name, table_name",
    ),
    Example(
        "hipcone",
        "Hipparcos stars near the Pleiades",
        "A cone search: stars of the Hipparcos 2 catalogue within 1 degree of the Pleiades, "
        "nearest first.",
        ("hipparcos.hip2",),
        "SELECT hip, ra, dec, plx, hpmag,\n"
        "  DISTANCE(POINT('ICRS', ra, dec), POINT('ICRS', 56.75, 24.12)) AS dist\n"
        "FROM hipparcos.hip2\n"
        "WHERE 1 = CONTAINS(POINT('ICRS', ra, dec), CIRCLE('ICRS', 56.75, 24.12, 1))\n"
        "ORDER BY dist",
    ),
    Example(
        "hipnearby",
        "Nearest Hipparcos stars",
        "The twenty stars with the largest parallax (the nearest ones).",
        ("hipparcos.hip2",),
        "SELECT TOP 20 hip, ra, dec, plx, hpmag\nFROM hipparcos.hip2\n"
        "WHERE plx IS NOT NULL\nORDER BY plx DESC",
    ),
    Example(
        "gaiacolour",
        "Gaia colour-magnitude sample",
        "Gaia DR3 stars brighter than G = 6 with their BP-RP colour.",
        ("gaia.dr3_bright",),
        "SELECT TOP 100 source_id, ra, dec, phot_g_mean_mag,\n"
        "  phot_bp_mean_mag - phot_rp_mean_mag AS bp_rp\nFROM gaia.dr3_bright\n"
        "WHERE phot_g_mean_mag < 6\nORDER BY phot_g_mean_mag",
    ),
    Example(
        "crossmatch",
        "Crossmatch Hipparcos with Gaia",
        "Pairs of Hipparcos and Gaia DR3 stars within 1 arcsecond of each other around the "
        "Pleiades. Constraining both tables to the field lets each use its HEALPix index.",
        ("hipparcos.hip2", "gaia.dr3_bright"),
        "SELECT h.hip, g.source_id, h.hpmag, g.phot_g_mean_mag\n"
        "FROM hipparcos.hip2 AS h\nJOIN gaia.dr3_bright AS g\n"
        "  ON 1 = CONTAINS(POINT('ICRS', g.ra, g.dec), CIRCLE('ICRS', h.ra, h.dec, 1.0/3600))\n"
        "WHERE 1 = CONTAINS(POINT('ICRS', h.ra, h.dec), CIRCLE('ICRS', 56.75, 24.12, 2))\n"
        "  AND 1 = CONTAINS(POINT('ICRS', g.ra, g.dec), CIRCLE('ICRS', 56.75, 24.12, 2.01))",
    ),
)


def examples_xhtml(title: str, has_table: Callable[[str], bool]) -> bytes:
    """The examples document, listing the examples whose tables all exist."""
    blocks = []
    for ex in EXAMPLES:
        if not all(has_table(t) for t in ex.tables):
            continue
        tables = ", ".join(f'<em property="table">{html.escape(t)}</em>' for t in ex.tables)
        blocks.append(
            f'<div typeof="example" id="{ex.id}" resource="#{ex.id}">\n'
            f'<h2 property="name">{html.escape(ex.name)}</h2>\n'
            f"<p>{html.escape(ex.description)} Tables: {tables}.</p>\n"
            f'<pre class="dali-query" property="query">{html.escape(ex.query)}</pre>\n'
            "</div>\n"
        )
    doc = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        "<!DOCTYPE html>\n"
        '<html xmlns="http://www.w3.org/1999/xhtml" version="XHTML+RDFa 1.1">\n'
        f"<head><title>{html.escape(title)}: TAP examples</title></head>\n"
        '<body vocab="http://www.ivoa.net/rdf/examples#">\n'
        f"<h1>{html.escape(title)}: example queries</h1>\n" + "".join(blocks) + "</body>\n</html>\n"
    )
    return doc.encode("utf-8")


__all__ = ["EXAMPLES", "Example", "examples_xhtml"]
