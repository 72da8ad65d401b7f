"""Small real data for SAMP tests: a source table with full metadata and a FITS image."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

# M31, as in ../shared/tools/samp/example_broadcast.py
CENTRE = (10.684, 41.269)


def source_table(nrows: int = 7) -> Any:
    """An astropy Table with units, UCDs and descriptions, values that test precision."""
    from astropy.table import Table

    t = Table()
    t["source_id"] = np.arange(1, nrows + 1, dtype=np.int64) * 1_000_000_007
    t["ra"] = np.linspace(10.60, 10.76, nrows) + 1e-9
    t["dec"] = np.linspace(41.20, 41.34, nrows) - 3e-10
    t["gmag"] = np.linspace(15.0, 17.0, nrows).astype(np.float32)
    t["pmra"] = np.round(np.linspace(-3.5, 2.25, nrows), 6)
    for col, unit, ucd, desc in (
        ("source_id", None, "meta.id;meta.main", "Source identifier"),
        ("ra", "deg", "pos.eq.ra;meta.main", "Right ascension (ICRS)"),
        ("dec", "deg", "pos.eq.dec;meta.main", "Declination (ICRS)"),
        ("gmag", "mag", "phot.mag;em.opt", "G magnitude"),
        ("pmra", "mas / yr", "pos.pm;pos.eq.ra", "Proper motion in RA"),
    ):
        t[col].unit = unit
        t[col].meta["ucd"] = ucd
        t[col].description = desc
    t.meta["name"] = "m31_sources"
    return t


def write_votable(path: Path, nrows: int = 7) -> Any:
    t = source_table(nrows)
    t.write(path, format="votable", overwrite=True)
    return t


def write_image(path: Path, n: int = 64) -> None:
    """A 64x64 float image with a TAN WCS centred on CENTRE, 18 arcsec pixels."""
    from astropy.io import fits
    from astropy.wcs import WCS

    w = WCS(naxis=2)
    w.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    w.wcs.crval = list(CENTRE)
    w.wcs.crpix = [n / 2 + 0.5, n / 2 + 0.5]
    w.wcs.cdelt = [-0.005, 0.005]
    y, x = np.mgrid[0:n, 0:n]
    data = (1000 * np.exp(-((x - n / 2) ** 2 + (y - n / 2) ** 2) / 72.0)).astype(np.float32)
    header = w.to_header()
    header["OBJECT"] = "vo-suite SAMP test"
    fits.PrimaryHDU(data, header=header).writeto(path, overwrite=True)
