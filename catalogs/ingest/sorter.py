"""Sorting an ingested table's rows by HEALPix pixel in bounded memory: ``PixelSorter``.

DESIGN.md "HEALPix indexing", step 2: the loader writes rows in ``hpx`` order, so the
table needs no CLUSTER and its btree is built on sorted input. A catalogue can be far
larger than memory, so ``PixelSorter`` does a distribution sort: rows are bucketed by
their pixel at a coarse order (3: 768 buckets) and

- memory bound: at most ``memory_bytes`` (48 MiB by default, ``IngestRequest.memory_bytes``)
  of added rows wait in memory; runs of consecutive buckets are then sorted in memory
  up to ``bucket_bytes`` at a time, and a bucket larger than that is sorted again,
  recursively, at a finer order (4 orders finer each time) under the same bound;
- spill file: past ``memory_bytes`` the pending rows are sorted by pixel and written,
  one Arrow IPC message per bucket, to an anonymous temporary file in ``TMPDIR``
  (``tempfile.TemporaryFile``: unlinked at once, so even ``kill -9`` leaves no file
  behind). It ends up holding every row in Arrow form, the four added columns (hpx,
  cx, cy, cz) included: 8 bytes per numeric value, ~113 bytes per row of 10 numeric
  columns (108 MiB for 1e6 rows; 1041 MiB for the 1e7-row bench catalogue of
  bench/ingest.py). A bucket sorted again at a finer order is spilled once more, to its
  own temporary file, while it is sorted: with every row in a 1x1 degree patch the
  files peaked at 209 MiB for 1e6 rows, twice the uniform-sky figure;
- why: rows COPYed in pixel order give a table clustered on ``hpx`` without CLUSTER
  (which rewrites the whole table, under an exclusive lock, after the load) and a
  btree built from sorted input; sorting in the client keeps the load to one COPY with
  the client's memory bounded whatever the file size (issue 2: peak RSS < 500 MB;
  bench/ingest.py at 1e7 rows: 346 MB).

``vo.healpix`` only gives pixel numbers; nothing here touches the database.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from typing import BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from vo import healpix

HPX = "_vo_hpx"  # the pixel column of prepared batches (its table column is "hpx")
_NO_PIXEL = np.iinfo(np.int64).max  # bucket key of rows without a position: sorted last


def _release_memory() -> None:
    """Hand memory Arrow's allocator keeps after a spill or a sorted run back to the
    system: 1e7 rows peaked at 407 MB RSS without, 378 MB with (48 MiB pending: 337 MB)."""
    pa.default_memory_pool().release_unused()


class PixelSorter:
    """Sorts prepared batches by ``hpx`` in bounded memory, for a table of any size.

    A distribution sort on the rows' pixel at ``order`` (bucket keys in pixel order;
    rows without a position last, where ``ORDER BY hpx`` puts NULLs). Added batches
    wait in memory up to ``memory_bytes``; then they are sorted by pixel (one take)
    and each bucket's rows are appended as one Arrow IPC message to an
    anonymous temporary file (unlinked at once, so even a killed ingest leaves no file
    behind; ``TMPDIR`` chooses its disk). ``sorted_batches`` then sorts runs of
    consecutive buckets of up to ``bucket_bytes`` in memory; a larger bucket is split
    again at a finer order, recursively, and rows sharing one order-29 pixel (or
    having none) need no sorting at all.

    Pending rows are kept as whole batches, not as per-bucket slices: a slice costs
    a few hundred bytes of C++ metadata per column outside Arrow's memory pool, which
    for 768 buckets cost more memory than the rows themselves.
    """

    def __init__(self, schema: pa.Schema, *, order: int = 3, memory_bytes: int = 48 << 20,
                 bucket_bytes: int = 12 << 20, out_rows: int = 32_768) -> None:
        self.schema = schema
        self.order = order
        self.memory_bytes = memory_bytes
        self.bucket_bytes = bucket_bytes
        self.out_rows = out_rows
        self._batches: list[pa.RecordBatch] = []  # added, not yet arranged
        self._keys: list[np.ndarray] = []
        self._pending_bytes = 0
        # per spill: its bucket keys (sorted), offsets and sizes in the file; numpy arrays,
        # so that the index stays small however many times a huge file spills
        self._spills: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self._sizes: dict[int, int] = {}  # key -> bytes of its rows
        self._memory: pa.RecordBatch | None = None  # the last rows, arranged, if not spilled
        self._ranges: dict[int, tuple[int, int]] = {}  # key -> rows of _memory
        self._file: BinaryIO | None = None
        self._end = 0
        self.spilled_bytes = 0

    def add(self, batch: pa.RecordBatch) -> None:
        if not batch.num_rows:
            return
        hpx = batch.column(HPX)
        full = pc.fill_null(hpx, _NO_PIXEL).to_numpy(zero_copy_only=False)
        self._batches.append(batch)
        self._keys.append(full)
        self._pending_bytes += batch.nbytes
        if self._pending_bytes > self.memory_bytes:
            self._spill()

    def _arrange(self) -> tuple[pa.RecordBatch, list[tuple[int, int, int]]]:
        """The pending rows sorted by pixel, and each bucket's (key, first row, end row)."""
        full = np.concatenate(self._keys)
        order = np.argsort(full, kind="stable")
        full = full[order]
        shift = 2 * (healpix.ORDER_MAX - self.order)
        keys = np.where(full == _NO_PIXEL, _NO_PIXEL, full >> shift)
        table = pa.Table.from_batches(self._batches, schema=self.schema).take(order)
        self._batches, self._keys, self._pending_bytes = [], [], 0
        chunks = table.combine_chunks().to_batches()
        batch = chunks[0] if len(chunks) == 1 else pa.concat_batches(chunks)
        starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
        ends = np.append(starts[1:], len(keys))
        row_bytes = batch.nbytes / max(1, batch.num_rows)
        ranges = list(zip(keys[starts].tolist(), starts.tolist(), ends.tolist(), strict=True))
        for key, lo, hi in ranges:
            self._sizes[key] = self._sizes.get(key, 0) + int(row_bytes * (hi - lo))
        return batch, ranges

    def _spill(self) -> None:
        if not self._batches:
            return
        if self._file is None:
            self._file = tempfile.TemporaryFile(prefix="vo-ingest-")
        batch, ranges = self._arrange()
        offsets, sizes = np.empty(len(ranges), np.int64), np.empty(len(ranges), np.int64)
        for i, (_, lo, hi) in enumerate(ranges):
            data = batch.slice(lo, hi - lo).serialize()
            self._file.write(data)
            offsets[i], sizes[i] = self._end, data.size
            self._end += data.size
        self._spills.append((np.array([k for k, _, _ in ranges], np.int64), offsets, sizes))
        self.spilled_bytes = self._end
        del batch
        _release_memory()

    def _read(self, key: int) -> Iterator[pa.RecordBatch]:
        """A bucket's rows: the spilled pieces (one IPC message each), then those in memory."""
        for keys, offsets, sizes in self._spills:
            i = int(np.searchsorted(keys, key))
            if i < len(keys) and keys[i] == key:
                assert self._file is not None
                buf = os.pread(self._file.fileno(), int(sizes[i]), int(offsets[i]))
                yield pa.ipc.read_record_batch(pa.py_buffer(buf), self.schema)
        if key in self._ranges:
            assert self._memory is not None
            lo, hi = self._ranges[key]
            yield self._memory.slice(lo, hi - lo)

    def sorted_batches(self) -> Iterator[pa.RecordBatch]:
        """Every row added, in ``hpx`` order, in batches of at most ``out_rows`` rows.

        Consecutive small buckets are sorted together, up to ``bucket_bytes`` at a time
        (a sort per bucket cost more in overhead than in sorting)."""
        if self._file is not None:  # spill the rest too: the memory is the buckets' now
            self._spill()
            self._file.flush()
        elif self._batches:
            self._memory, ranges = self._arrange()
            self._ranges = {key: (lo, hi) for key, lo, hi in ranges}
        try:
            group: list[int] = []
            size = 0
            for key in sorted(self._sizes):
                nbytes = self._sizes[key]
                large = nbytes > self.bucket_bytes or key == _NO_PIXEL
                if group and (large or size + nbytes > self.bucket_bytes):
                    yield from self._sorted_group(group)
                    group, size = [], 0
                if large:
                    yield from self._large_bucket(key)
                else:
                    group.append(key)
                    size += nbytes
            yield from self._sorted_group(group)
        finally:
            self.close()

    def _sorted_group(self, keys: list[int]) -> Iterator[pa.RecordBatch]:
        """Consecutive buckets that fit in memory together, sorted at once. Each piece is
        sorted already (``_arrange``), so a stable numpy argsort (timsort: it merges
        sorted runs) beat Arrow's sort_indices 3.5x; one piece per bucket needs none."""
        if not keys:
            return
        pieces = [(k, p) for k in keys for p in self._read(k)]
        table = pa.Table.from_batches([p for _, p in pieces], schema=self.schema)
        if len(pieces) > len(keys):  # a bucket in several pieces: merge them
            hpx = table.column(HPX).to_numpy()
            table = table.take(np.argsort(hpx, kind="stable"))
        yield from table.combine_chunks().to_batches(self.out_rows)
        del table
        _release_memory()

    def _large_bucket(self, key: int) -> Iterator[pa.RecordBatch]:
        """Rows without a position (no order to make), or a bucket too large to sort in
        memory: split again at a finer order, in bounded memory."""
        if key == _NO_PIXEL or self.order == healpix.ORDER_MAX:
            for piece in self._read(key):
                yield from pa.Table.from_batches([piece]).to_batches(self.out_rows)
            return
        finer = PixelSorter(self.schema, order=min(self.order + 4, healpix.ORDER_MAX),
                            memory_bytes=self.bucket_bytes, bucket_bytes=self.bucket_bytes,
                            out_rows=self.out_rows)
        for piece in self._read(key):
            finer.add(piece)
        yield from finer.sorted_batches()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        self._spills, self._sizes, self._ranges, self._memory = [], {}, {}, None
