"""Ingest files into one published table: read -> metadata -> pixels -> COPY -> publish.

DESIGN.md "Ingest": a reader yields Arrow chunks with metadata; for positional tables
``vo.healpix`` adds the order-29 nested pixel and the unit vector and ``PixelSorter``
(``catalogs.ingest.sorter``) sorts the rows by pixel in bounded memory (spilling to a
temporary file); a producer thread encodes them to binary COPY rows while
``vo.db.loader`` COPYs them, in order, into a table created in its loading transaction,
indexes and analyses it, and swaps it and its TAP_SCHEMA rows in within that same
transaction. Tables without a position are COPYed while the file is read.

Memory stays bounded whatever the file size (issue 2: peak RSS < 500 MB): at most
``IngestRequest.memory_bytes`` of rows wait in memory, sorting works on runs of a
quarter of that, the CSV reader reads ahead in 1 MiB blocks.
"""

from __future__ import annotations

import queue
import re
import threading
import time
from collections.abc import Generator, Iterable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Engine

from catalogs.ingest import metadata as md
from catalogs.ingest import pgbinary
from catalogs.ingest.readers import open_reader
from catalogs.ingest.readers.base import Reader
from catalogs.ingest.readers.csv import TypeConflict
from catalogs.ingest.sorter import HPX, PixelSorter
from catalogs.ingest.spec import ColumnSpec, column_type
from vo import healpix
from vo.db.loader import DENSITY_ORDER, PhysicalColumn, TableLoader
from vo.errors import IngestError
from vo.meta import ColumnMeta, Position, TableMeta, unquote

T = TypeVar("T")
_TABLE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*\.[A-Za-z][A-Za-z0-9_]*$")


@dataclass
class IngestRequest:
    """Everything `vo ingest` can say."""

    files: Sequence[Path]
    table: str  # SCHEMA.NAME
    fmt: str | None = None
    mode: str = "create"  # create | replace | append
    meta_file: Path | None = None
    options: md.TableOptions = field(default_factory=md.TableOptions)
    require_position: bool = False
    chunk_rows: int = 200_000
    memory_bytes: int = 48 << 20  # rows held in memory while sorting by pixel (then spilled)


@dataclass(frozen=True)
class IngestResult:
    table: TableMeta
    rows: int
    seconds: float
    steps: dict[str, float] = field(default_factory=dict)  # seconds per step (benchmarks)


def _merge_options(base: md.TableOptions, cli: md.TableOptions) -> md.TableOptions:
    """Command-line options win over the sidecar's."""
    out = md.TableOptions(**{**base.__dict__})
    for key in ("description", "ra", "dec", "epoch", "equinox"):
        if getattr(cli, key):
            setattr(out, key, getattr(cli, key))
    if cli.frame != "ICRS":
        out.frame = cli.frame
    if cli.primary_key:
        out.primary_key = cli.primary_key
    return out


_WIDENING = [pa.bool_(), pa.uint8(), pa.int16(), pa.int32(), pa.int64(), pa.float32(),
             pa.float64()]


def _unify(readers: list[Reader]) -> list[ColumnSpec]:
    """All files must have the same columns; numeric types widen to the widest."""
    first = readers[0]
    specs = [ColumnSpec(**s.__dict__) for s in first.specs]
    names = [s.source_name for s in specs]
    for r in readers[1:]:
        other = [s.source_name for s in r.specs]
        if [n.lower() for n in other] != [n.lower() for n in names]:
            raise IngestError(f"{r.path}: columns {other} differ from {first.path}'s {names}",
                              code="INGEST-COLUMNS")
        for s, o in zip(specs, r.specs, strict=True):
            if s.arrow_type == o.arrow_type:
                pass
            elif s.arrow_type in _WIDENING and o.arrow_type in _WIDENING:
                s.arrow_type = max(s.arrow_type, o.arrow_type, key=_WIDENING.index)
            elif pa.types.is_string(s.arrow_type) or pa.types.is_string(o.arrow_type):
                s.arrow_type = pa.string()
            else:
                raise IngestError(f"{r.path}, column {o.source_name}: type {o.arrow_type} does "
                                  f"not match {s.arrow_type} in {first.path}",
                                  code="INGEST-COLUMNS")
            s.ascii_only = s.ascii_only and o.ascii_only
            for key in ("unit", "ucd", "description", "utype"):
                if getattr(s, key) is None:
                    setattr(s, key, getattr(o, key))
    return specs


def plan_table(req: IngestRequest, readers: list[Reader]) -> tuple[TableMeta, list[ColumnSpec],
                                                                   tuple[str, str] | None]:
    """Column names, types and metadata of the table to create; position columns."""
    if not _TABLE_NAME.match(req.table):
        raise IngestError(f"table name {req.table!r} must be SCHEMA.NAME, both regular identifiers "
                          "(letters, digits, underscores, starting with a letter)",
                          code="INGEST-NAME")
    schema, name = req.table.lower().split(".")
    where = str(req.files[0])
    specs = _unify(readers)
    opts = _merge_options(md.load_sidecar(req.meta_file, Path(req.files[0])), req.options)
    md.apply_sidecar(specs, opts, where)
    tap_names = md.tap_names([s.source_name for s in specs])
    for s in specs:
        s.unit = md.check_unit(s.unit, f"{where}, column {s.source_name}")
        s.ucd = md.check_ucd(s.ucd, f"{where}, column {s.source_name}")
    pos_src = md.find_position(specs, opts, where, req.require_position)
    by_source = {s.source_name: t for s, t in zip(specs, tap_names, strict=True)}
    pk = []
    for k in opts.primary_key:
        match = [s.source_name for s in specs if s.source_name.lower() == k.lower()]
        if not match:
            raise IngestError(f"{where}: primary key column {k!r} is not in the file",
                              code="INGEST-PRIMARY-KEY")
        pk.append(unquote(by_source[match[0]]))
    columns = []
    for s, tap in zip(specs, tap_names, strict=True):
        ct = column_type(s)
        columns.append(ColumnMeta(
            name=tap, datatype=ct.datatype, arraysize=ct.arraysize, xtype=ct.xtype, unit=s.unit,
            ucd=s.ucd, utype=s.utype, description=s.description,
            principal=True, indexed=unquote(tap) in pk or (pos_src is not None
                                                           and s.source_name in pos_src),
            db_name=unquote(tap)))
    position = None
    first = readers[0]
    if pos_src:
        position = Position(ra=unquote(by_source[pos_src[0]]), dec=unquote(by_source[pos_src[1]]),
                            frame=opts.frame if opts.frame != "ICRS" else (first.frame or "ICRS"),
                            epoch=opts.epoch or first.epoch, equinox=opts.equinox or first.equinox)
    meta = TableMeta(schema_name=schema, table_name=f"{schema}.{name}", columns=tuple(columns),
                     description=opts.description or first.description, db_schema=schema,
                     db_table=name, position=position, primary_key=tuple(pk))
    return meta, specs, pos_src


def _check_positions(ra: np.ndarray, dec: np.ndarray, row0: int, names: tuple[str, str],
                     where: str) -> None:
    for values, name, lo, hi in ((ra, names[0], 0.0, 360.0), (dec, names[1], -90.0, 90.0)):
        bad = ~np.isnan(values) & ((values < lo) | (values > hi))
        if bad.any():
            i = int(np.argmax(bad))
            raise IngestError(f"{where}, row {row0 + i + 1}, column {name}: {values[i]!r} is out "
                              f"of range [{lo:g}, {hi:g}] degrees", code="INGEST-POSITION-RANGE")


DENSITY_SHIFT = 2 * (healpix.ORDER_MAX - DENSITY_ORDER)


def _prepared_schema(specs: list[ColumnSpec], pos_src: tuple[str, str] | None) -> pa.Schema:
    schema = pa.schema([(s.source_name, s.arrow_type) for s in specs])
    if pos_src:
        schema = schema.append(pa.field(HPX, pa.int64()))
        for name in ("cx", "cy", "cz"):
            schema = schema.append(pa.field(f"_vo_{name}", pa.float64()))
    return schema


def prepare_batches(batches: Iterable[pa.RecordBatch], specs: list[ColumnSpec],
                    pos_src: tuple[str, str] | None, where: str,
                    density: np.ndarray | None = None) -> Iterator[pa.RecordBatch]:
    """Batches cast to the table's column types, with hpx/cx/cy/cz appended for positional
    tables; adds each row's pixel at the density map's order into ``density`` when given,
    and clears ``spec.ascii_only`` of text columns holding non-ASCII values."""
    schema = _prepared_schema(specs, pos_src)
    row0 = 0
    names = [s.source_name.lower() for s in specs]
    for batch in batches:
        if [n.lower() for n in batch.schema.names] != names:
            raise IngestError(f"{where}: columns changed within the file", code="INGEST-COLUMNS")
        try:
            arrays = [c.cast(t.type) if c.type != t.type else c
                      for c, t in zip(batch.columns, schema, strict=False)]
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise IngestError(f"{where}: rows after {row0} do not fit the column types: {exc}",
                              code="INGEST-VALUE") from None
        for spec, col in zip(specs, arrays, strict=True):
            if spec.ascii_only and pa.types.is_string(col.type) and col.null_count < len(col) \
                    and not pc.all(pc.string_is_ascii(pc.drop_null(col))).as_py():
                spec.ascii_only = False
        if pos_src:
            ra = pc.fill_null(batch.column(pos_src[0]).cast(pa.float64()), np.nan).to_numpy(
                zero_copy_only=False)
            dec = pc.fill_null(batch.column(pos_src[1]).cast(pa.float64()), np.nan).to_numpy(
                zero_copy_only=False)
            _check_positions(ra, dec, row0, pos_src, where)
            missing = np.isnan(ra) | np.isnan(dec)
            mask = missing if missing.any() else None
            safe_ra, safe_dec = (ra, dec) if mask is None else (np.where(missing, 0.0, ra),
                                                                 np.where(missing, 0.0, dec))
            hpx = healpix.pixel_index(safe_ra, safe_dec)
            if density is not None:
                coarse = (hpx if mask is None else hpx[~missing]) >> DENSITY_SHIFT
                density += np.bincount(coarse, minlength=len(density))
            cx, cy, cz = healpix.unit_vectors(safe_ra, safe_dec)
            arrays += [pa.array(hpx, pa.int64(), mask=mask), pa.array(cx, mask=mask),
                       pa.array(cy, mask=mask), pa.array(cz, mask=mask)]
        row0 += batch.num_rows
        yield pa.RecordBatch.from_arrays(arrays, schema=schema)


def encode_batches(batches: Iterable[pa.RecordBatch]) -> Iterator[tuple[bytes, int]]:
    """Binary COPY row blocks (no header/trailer) of prepared batches, in their order."""
    for batch in batches:
        if batch.num_rows:
            yield pgbinary.encode_rows(list(batch.columns)), batch.num_rows


def _prefetch(items: Iterable[T], depth: int = 2) -> Generator[T, None, None]:
    """Run ``items`` in a producer thread, ``depth`` items ahead of the consumer, so that
    reading, sorting and encoding (Arrow's C++ and most numpy loops release the GIL)
    overlap with the consumer's work, e.g. a COPY, during which psycopg2 releases the GIL
    while it sends. Exceptions reach the consumer."""
    q: queue.Queue[tuple[str, object]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        q.put(("item", item), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put(("end", None))
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            q.put(("error", exc))

    worker = threading.Thread(target=produce, name="vo-ingest-encode", daemon=True)
    worker.start()
    try:
        while True:
            kind, value = q.get()
            if kind == "end":
                return
            if kind == "error":
                assert isinstance(value, BaseException)
                raise value
            yield value  # type: ignore[misc]
    finally:
        stop.set()
        while worker.is_alive():  # unblock a producer waiting on a full queue
            try:
                q.get_nowait()
            except queue.Empty:
                worker.join(0.05)


def ingest(engine: Engine, req: IngestRequest, *, progress: bool = False,
           readers: list[Reader] | None = None) -> IngestResult:
    """Load ``req.files`` into ``req.table`` atomically (see module docstring).

    ``readers`` replaces the format detection for inputs no generic reader knows
    (the demo catalogues). A CSV whose later blocks do not fit the types of its first
    block is loaded again with types inferred from every value.
    """
    t0 = time.monotonic()
    if not req.files:
        raise IngestError("no input files given", code="INGEST-FILE")
    given = readers
    for optimistic in (True, False):
        if given is None:
            readers = [open_reader(Path(f), req.fmt, chunk_rows=req.chunk_rows,
                                   optimistic=optimistic) for f in req.files]
        assert readers is not None
        try:
            published, rows, steps = _load(engine, req, readers, progress)
            return IngestResult(published, rows, time.monotonic() - t0, steps)
        except TypeConflict:
            if given is not None or not optimistic:
                raise
    raise AssertionError("unreachable")


def _load(engine: Engine, req: IngestRequest, readers: list[Reader],
          progress: bool) -> tuple[TableMeta, int, dict[str, float]]:
    meta, specs, pos_src = plan_table(req, readers)
    physical = [PhysicalColumn(c.physical, column_type(s).pg_type)
                for c, s in zip(meta.columns, specs, strict=True)]
    loader = TableLoader(engine, meta, physical, mode=req.mode, position_columns=bool(pos_src))
    bar = None
    if progress:
        from tqdm import tqdm

        total = sum(r.rows_hint or 0 for r in readers) or None
        bar = tqdm(total=total, unit="rows", unit_scale=True, desc=meta.table_name)
    density = np.zeros(12 * 4**DENSITY_ORDER, dtype=np.int64) if pos_src else None

    def prepared() -> Iterator[pa.RecordBatch]:
        for r in readers:
            # the file is parsed in a thread while this one adds pixels and buckets
            with closing(_prefetch(r.batches())) as read:
                for batch in prepare_batches(read, specs, pos_src, str(r.path), density):
                    yield batch
                    if bar is not None:
                        bar.update(batch.num_rows)

    steps: dict[str, float] = {}
    try:
        if pos_src:  # read everything, sorting by pixel in bounded memory, then COPY in order
            t0 = time.perf_counter()
            sorter = PixelSorter(_prepared_schema(specs, pos_src), memory_bytes=req.memory_bytes,
                                 bucket_bytes=req.memory_bytes // 4)
            for batch in prepared():
                sorter.add(batch)
            steps["read_and_bucket"] = time.perf_counter() - t0
            steps["spilled_mb"] = sorter.spilled_bytes / 2**20
            rows = sorter.sorted_batches()
        else:  # no order to make: COPY while reading
            rows = prepared()
        with closing(_prefetch(encode_batches(rows))) as blocks:
            loader.copy_stream(blocks)
        # text columns seen to hold non-ASCII values are published as unicodeChar
        loader.meta = replace(meta, columns=tuple(
            replace(c, datatype=column_type(s).datatype)
            for c, s in zip(meta.columns, specs, strict=True)))
        published = loader.finish(density=density)
    except BaseException:
        loader.abort()
        raise
    finally:
        if bar is not None:
            bar.close()
    steps.update(loader.seconds)
    return published, loader.rows, steps
