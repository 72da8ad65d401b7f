"""ivo_moc_contains on a real PostgreSQL: the exact path (vo_adql.moc_contains) and the
hpx-range fast path both equal mocpy's MOC.contains_lonlat on a random catalogue (poles,
RA 0/360, face corners included), for MOCs at mixed orders, the whole sky and the empty MOC."""

from __future__ import annotations

import astropy.units as u
import numpy as np
import pytest
from mocpy import MOC
from sqlalchemy import Engine, text

from tests.integration.adql.test_adql_results import _catalogue, _ids, _run
from tests.integration.adql.test_adql_results import db as db  # noqa: F401 - the fixture
from tests.unit.adql.schema_fixture import SCHEMA
from vo import healpix
from vo.adql import translate


@pytest.fixture(scope="module")
def cat() -> dict[str, np.ndarray]:
    return _catalogue()


def _scattered(order: int, n: int, seed: int) -> str:
    cells = np.unique(np.random.default_rng(seed).integers(0, 12 << (2 * order), n))
    return f"{order}/" + " ".join(map(str, cells.tolist()))


MOCS = [
    "3/1-3 5/100 7/",
    "0/0-11",  # the whole sky
    "0/4",  # an equatorial face: its corners touch RA 0/360 and the faces around it
    "1/0 1 2 3 44-47",  # cells touching the north and south poles
    "2/12-14 21 23 25 4/800-830 6/40000-40100 10/5000000 8/",  # mixed orders
    _scattered(6, 40, 1),  # a few ranges: OR of BETWEENs
    _scattered(7, 3000, 2),  # many ranges: spans + vo_adql.moc_has_pixel
]


@pytest.mark.parametrize("moc", MOCS)
def test_fast_equals_exact_equals_mocpy(db: Engine, cat: dict[str, np.ndarray], moc: str) -> None:  # noqa: F811
    inside = MOC.from_string(moc, format="ascii").contains_lonlat(
        cat["ra"] * u.deg, cat["dec"] * u.deg
    )
    expected = set((np.nonzero(inside)[0] + 1).tolist())
    for form in (
        f"SELECT hip FROM hipparcos.hip2 WHERE ivo_moc_contains('{moc}', ra, dec) = 1",
        f"SELECT h.hip FROM hipparcos.hip2 AS h WHERE 1 = ivo_moc_contains('{moc}', h.ra, h.dec)",
    ):
        assert translate(form, SCHEMA).fast_paths == 1
        assert _ids(db, form) == expected, form
        assert _ids(db, form, fast=False) == expected, form
    outside = f"SELECT hip FROM hipparcos.hip2 WHERE ivo_moc_contains('{moc}', ra, dec) = 0"
    negated = f"SELECT hip FROM hipparcos.hip2 WHERE NOT (ivo_moc_contains('{moc}', ra, dec) = 1)"
    everyone = set(range(1, len(cat["ra"]) + 1))
    assert _ids(db, outside) == everyone - expected
    assert _ids(db, negated) == everyone - expected
    assert expected or moc.startswith("1/"), "the MOC should hold some of the catalogue"


def test_empty_moc_and_select_list(db: Engine, cat: dict[str, np.ndarray]) -> None:  # noqa: F811
    assert (
        _ids(db, "SELECT hip FROM hipparcos.hip2 WHERE ivo_moc_contains('0/', ra, dec) = 1")
        == set()
    )
    q = "SELECT hip FROM hipparcos.hip2 WHERE ivo_moc_contains('29/', ra, dec) = 1"
    assert _ids(db, q, fast=False) == set()
    rows = _run(
        db,
        translate(
            "SELECT hip, ivo_moc_contains('0/0-11', ra, dec), ivo_moc_contains('0/', ra, dec) "
            "FROM hipparcos.hip2",
            SCHEMA,
        ).sql,
    )
    assert len(rows) == len(cat["ra"]) and {r[1:] for r in rows} == {(1, 0)}


def test_null_position_gives_null(db: Engine) -> None:  # noqa: F811
    """NULL, like CONTAINS with a NULL point: neither '= 1' nor '= 0' selects the row."""
    exact = translate(
        "SELECT TOP 1 ivo_moc_contains('0/0-11', ra, dec) AS m FROM hipparcos.hip2", SCHEMA
    ).sql
    assert _run(db, exact) == [(1,)]
    call = exact.split("SELECT ", 1)[1].split(' AS "m"', 1)[0]
    for ra, dec in (("NULL", "3"), ("10", "NULL")):
        sql = call.replace('"t1"."ra"', ra).replace('"t1"."dec"', dec)
        assert _run(db, f"SELECT {sql}") == [(None,)]


def test_sql_pixel_equals_pixel_index(db: Engine) -> None:  # noqa: F811
    """The exact path's pixel (vo_adql.healpix_index at order 29) is the stored hpx."""
    rng = np.random.default_rng(7)
    ra = np.concatenate([rng.uniform(0, 360, 3000), [0.0, 360.0, 359.9999999, 45.0, 45.0, 0.0]])
    dec = np.concatenate(
        [
            np.degrees(np.arcsin(rng.uniform(-1, 1, 3000))),
            [0.0, 0.0, -41.8, 90.0, -90.0, 41.8103149],
        ]
    )
    with db.connect() as c:
        got = (
            c.execute(
                text(
                    "SELECT vo_adql.healpix_index(29, r, d) FROM unnest(CAST(:ra AS float8[]), "
                    "CAST(:dec AS float8[])) WITH ORDINALITY AS x(r, d, i) ORDER BY i"
                ),
                {"ra": ra.tolist(), "dec": dec.tolist()},
            )
            .scalars()
            .all()
        )
    assert got == healpix.pixel_index(ra, dec).tolist()


def test_many_ranges_use_the_hpx_index(db: Engine) -> None:  # noqa: F811
    moc = _scattered(10, 200, 3)
    sql = translate(
        f"SELECT hip FROM hipparcos.hip2 WHERE ivo_moc_contains('{moc}', ra, dec) = 1", SCHEMA
    ).sql
    with db.connect() as c:
        c.execute(text("SET enable_seqscan = off"))
        plan = "\n".join(r[0] for r in c.execute(text("EXPLAIN " + sql)))
    assert "hip2_hpx_idx" in plan, plan
