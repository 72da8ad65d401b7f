"""Column names and metadata of an ingested table: normalisation, sidecar file, checks.

* Names (TAP 1.1 sec. 4.3; ADQL 2.1 sec. 2.1.3): lower-case regular identifiers where
  possible; ADQL reserved words (SIZE, VALUE, DATE, ...), names that are not regular
  identifiers and names whose case must be kept (two columns differing only in case)
  are published delimited, with their double quotes, in TAP_SCHEMA.
* Sidecar: ``FILE.meta.toml`` beside the input (or ``--meta``), overriding the file's
  own metadata::

      [table]
      description = "..."
      ra = "ra"                 # position columns (else found from UCDs or names)
      dec = "dec"
      frame = "ICRS"            # COOSYS system
      epoch = "J2016.0"
      primary_key = ["source_id"]
      [columns.ra]
      unit = "deg"
      ucd = "pos.eq.ra;meta.main"
      description = "Right ascension"

* Units must parse as VOUnits and UCDs as UCD1+ (taplint checks both).
"""

from __future__ import annotations

import re
import tomllib
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from catalogs.ingest.spec import ColumnSpec
from vo.adql.reserved import RESERVED
from vo.errors import IngestError

_REGULAR = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


@dataclass
class TableOptions:
    """What the sidecar (and the command line) say about the table as a whole."""

    description: str | None = None
    ra: str | None = None
    dec: str | None = None
    frame: str = "ICRS"
    epoch: str | None = None
    equinox: str | None = None
    primary_key: list[str] = field(default_factory=list)
    columns: dict[str, dict[str, Any]] = field(default_factory=dict)


def load_sidecar(path: Path | None, data_file: Path) -> TableOptions:
    """Read ``path`` or, if None, ``DATA_FILE.meta.toml`` when it exists."""
    if path is None:
        guess = data_file.with_name(data_file.name + ".meta.toml")
        if not guess.exists():
            return TableOptions()
        path = guess
    try:
        doc = tomllib.loads(Path(path).read_text())
    except OSError as exc:
        raise IngestError(f"{path}: cannot read metadata file: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise IngestError(f"{path}: not valid TOML: {exc}", code="INGEST-SIDECAR") from None
    table = dict(doc.get("table", {}))
    known = {"description", "ra", "dec", "frame", "epoch", "equinox", "primary_key"}
    unknown = set(table) - known
    if unknown:
        raise IngestError(f"{path}: unknown [table] keys {sorted(unknown)}; known: {sorted(known)}",
                          code="INGEST-SIDECAR")
    cols = doc.get("columns", {})
    for name, col in cols.items():
        bad = set(col) - {"unit", "ucd", "description", "utype", "name"}
        if bad:
            raise IngestError(f"{path}: [columns.{name}] has unknown keys {sorted(bad)}",
                              code="INGEST-SIDECAR")
    return TableOptions(columns=cols, **table)


def apply_sidecar(specs: list[ColumnSpec], opts: TableOptions, where: str) -> None:
    by_name = {s.source_name.lower(): s for s in specs}
    for name, col in opts.columns.items():
        spec = by_name.get(name.lower())
        if spec is None:
            raise IngestError(f"{where}: metadata names column {name!r}, which the file does not "
                              f"have (columns: {', '.join(s.source_name for s in specs)})",
                              code="INGEST-SIDECAR")
        for key in ("unit", "ucd", "description", "utype"):
            if key in col:
                setattr(spec, key, col[key] or None)


def tap_names(source_names: list[str]) -> list[str]:
    """TAP_SCHEMA column names for the file's columns, in order (see module docstring)."""
    lowered = [n.lower() for n in source_names]
    out = []
    for orig, low in zip(source_names, lowered, strict=True):
        if not orig:
            raise IngestError("a column has an empty name", code="INGEST-NAME")
        if '"' in orig or "\x00" in orig:
            raise IngestError(f"column name {orig!r} contains a double quote or NUL",
                              code="INGEST-NAME")
        if lowered.count(low) > 1:
            out.append(f'"{orig}"')  # case is needed to tell columns apart
        elif _REGULAR.match(low) and low.upper() not in RESERVED:
            out.append(low)
        else:
            out.append(f'"{low}"' if _REGULAR.match(low) else f'"{orig}"')
    return out


def check_unit(unit: str | None, where: str) -> str | None:
    if not unit:
        return None
    from astropy import units as u

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            u.Unit(unit, format="vounit")
        except ValueError:
            raise IngestError(f"{where}: unit {unit!r} is not a valid VOUnit (e.g. 'deg', "
                              "'mas/yr', 'mag'); fix it in the metadata file",
                              code="INGEST-UNIT") from None
    return unit


def check_ucd(ucd: str | None, where: str) -> str | None:
    if not ucd:
        return None
    from astropy.io.votable.ucd import check_ucd as astropy_check

    if not astropy_check(ucd, check_controlled_vocabulary=True):
        raise IngestError(f"{where}: UCD {ucd!r} is not a valid UCD1+ string "
                          "(e.g. 'pos.eq.ra;meta.main'); fix it in the metadata file",
                          code="INGEST-UCD")
    return ucd


_RA_NAMES = ("ra", "raj2000", "ra_icrs", "radeg", "ra_deg", "alpha")
_DEC_NAMES = ("dec", "dej2000", "decj2000", "de_icrs", "dec_icrs", "dedeg", "dec_deg", "delta")


def find_position(specs: list[ColumnSpec], opts: TableOptions, where: str,
                  required: bool) -> tuple[str, str] | None:
    """Source names of the RA/Dec columns: options, then UCDs (pos.eq.*;meta.main), then names."""
    names = {s.source_name.lower(): s.source_name for s in specs}
    if opts.ra or opts.dec:
        if not (opts.ra and opts.dec):
            raise IngestError(f"{where}: give both --ra and --dec", code="INGEST-POSITION")
        for n in (opts.ra, opts.dec):
            if n.lower() not in names:
                raise IngestError(f"{where}: position column {n!r} is not in the file "
                                  f"(columns: {', '.join(names.values())})",
                                  code="INGEST-POSITION")
        return names[opts.ra.lower()], names[opts.dec.lower()]

    def by_ucd(word: str) -> str | None:
        hits = [s.source_name for s in specs if s.ucd and word in s.ucd.lower().split(";")[0]
                and "meta.main" in s.ucd.lower()]
        return hits[0] if hits else None

    ra, dec = by_ucd("pos.eq.ra"), by_ucd("pos.eq.dec")
    if not (ra and dec):
        ra = next((names[n] for n in _RA_NAMES if n in names), None)
        dec = next((names[n] for n in _DEC_NAMES if n in names), None)
    if ra and dec:
        return ra, dec
    if required:
        raise IngestError(f"{where}: no position columns found (no pos.eq.ra/dec;meta.main UCDs "
                          "and no ra/dec names): name them with --ra and --dec",
                          code="INGEST-POSITION")
    return None
