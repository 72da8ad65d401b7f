"""BINARY and BINARY2 streams (VOTable 1.4 sec. 5.3, 5.4) -> chunks of Arrow columns.

``Base64Text`` decodes the STREAM text as it arrives in pieces (keeping the 4-character
alignment; whitespace is dropped). ``BinaryRows`` cuts the decoded bytes into rows:
when every FIELD has a fixed size a whole chunk of rows is one numpy structured array
(big-endian, no loop per row); with variable-length fields (``arraysize="*"``: a
4-byte count first) a loop per row slices the variable cells and the runs of fixed
cells between them, which are then decoded as structured arrays too. BINARY2 rows
start with the null flags, one bit per field, most significant bit first.
"""

from __future__ import annotations

import binascii
from collections.abc import Iterator, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from catalogs.ingest.readers.votable_fields import FieldDef
from catalogs.ingest.readers.votable_text import apply_magic_null, list_array, timestamps
from vo.errors import IngestError

_MAX_CELL = 1 << 28  # bytes; a larger variable cell means a corrupt count (bounded memory)
_B64_FLUSH = 1 << 22  # decode once this many characters have arrived


class Base64Text:
    """Incremental base64 decoding of STREAM text (RFC 2045 alphabet, whitespace ignored)."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._size = 0
        self._carry = b""

    def feed(self, text: str | bytes) -> bytes:
        """Decoded bytes of the complete 4-character groups so far (in batches of ~4 MB)."""
        if isinstance(text, str):
            try:
                text = text.encode("ascii")
            except UnicodeEncodeError:
                raise ValueError("the STREAM holds characters that are not base64") from None
        self._parts.append(text)
        self._size += len(text)
        return self._decode(final=False) if self._size >= _B64_FLUSH else b""

    def finish(self) -> bytes:
        return self._decode(final=True)

    def _decode(self, *, final: bool) -> bytes:
        raw = self._carry + b"".join(self._parts)
        self._parts, self._size = [], 0
        raw = raw.translate(None, b" \t\r\n")
        cut = len(raw) - len(raw) % 4
        if final and cut != len(raw):
            raise ValueError(f"the base64 STREAM is truncated ({len(raw) % 4} characters left "
                             "over after the last complete 4-character group)")
        body, self._carry = raw[:cut], raw[cut:]
        try:
            return binascii.a2b_base64(body, strict_mode=True)
        except binascii.Error as exc:
            raise ValueError(f"the STREAM is not valid base64 ({exc})") from None


def cell_dtype(f: FieldDef) -> np.dtype:
    """numpy dtype of one fixed-size cell of ``f``, always with an element axis."""
    if f.datatype == "bit":
        return np.dtype(("u1", (f.cell_bytes(),)))
    return np.dtype((f.element_dtype, (f.fixed_items,)))


class BinaryRows:
    """Decoded BINARY/BINARY2 bytes in, lists of Arrow columns (one per chunk) out."""

    def __init__(self, fields: Sequence[FieldDef], *, binary2: bool, chunk_rows: int,
                 where: str) -> None:
        self.fields = list(fields)
        self.nflag = (len(self.fields) + 7) // 8 if binary2 else 0
        self.chunk_rows = chunk_rows
        self.where = where
        self.rows_done = 0  # rows already handed out
        self._buf = bytearray()
        # segments of a row: the flags, runs of fixed-size fields, single variable fields
        self._segments: list[tuple[list[int], np.dtype | None]] = []
        run: list[int] = []
        for j, f in enumerate(self.fields):
            if f.variable:
                if run:
                    self._segments.append((run, self._run_dtype(run)))
                    run = []
                self._segments.append(([j], None))
            else:
                run.append(j)
        if run:
            self._segments.append((run, self._run_dtype(run)))
        self.fixed_size = all(d is not None for _, d in self._segments)
        self.row_dtype = self._run_dtype(list(range(len(self.fields))), flags=True) \
            if self.fixed_size else None
        self._pending: list[list[bytes]] = [[] for _ in self._segments]
        self._pending_flags: list[bytes] = []

    def _run_dtype(self, run: list[int], *, flags: bool = False) -> np.dtype:
        parts: list[tuple[str, np.dtype]] = [("flags", np.dtype(("u1", (self.nflag,))))] \
            if flags else []
        parts += [(f"c{j}", cell_dtype(self.fields[j])) for j in run]
        return np.dtype(parts)

    def feed(self, data: bytes) -> Iterator[list[pa.Array]]:
        self._buf += data
        if self.fixed_size:
            assert self.row_dtype is not None
            size = self.chunk_rows * self.row_dtype.itemsize
            while len(self._buf) >= size:
                yield self._fixed_chunk(self.chunk_rows)
        else:
            while self._scan():
                yield self._variable_chunk()

    def finish(self) -> Iterator[list[pa.Array]]:
        """The last, partial chunk; a partial row left over is a truncated stream."""
        if self.fixed_size:
            assert self.row_dtype is not None
            n = len(self._buf) // self.row_dtype.itemsize
            if n:
                yield self._fixed_chunk(n)
            if self._buf:
                self._truncated(len(self._buf))
        else:
            self._scan()
            if self._pending_flags:
                yield self._variable_chunk()
            if self._buf:
                self._truncated(len(self._buf))

    def _truncated(self, left: int) -> None:
        column = "the null flags"
        offset = self.nflag
        for f in self.fields:
            if left < offset:
                break
            column = f"column {f.name}"
            offset += 4 if f.variable else f.cell_bytes()
        raise IngestError(f"{self.where}, row {self.rows_done + 1}, {column}: the binary stream "
                          f"ends inside a row ({left} bytes of it)", code="INGEST-VOTABLE")

    def _fixed_chunk(self, n: int) -> list[pa.Array]:
        assert self.row_dtype is not None
        nbytes = n * self.row_dtype.itemsize
        rec = np.frombuffer(bytes(self._buf[:nbytes]), dtype=self.row_dtype)
        del self._buf[:nbytes]
        cells: list[np.ndarray | list[bytes]] = [rec[f"c{j}"] for j in range(len(self.fields))]
        return self._columns(cells, rec["flags"], n)

    def _scan(self) -> bool:
        """Move complete rows from the buffer to the pending cells; True once a chunk is full."""
        buf, pos, end = self._buf, 0, len(self._buf)
        nflag = self.nflag
        pending, flags = self._pending, self._pending_flags
        sizes = [d.itemsize if d is not None else 0 for _, d in self._segments]
        while len(flags) < self.chunk_rows:
            start = pos
            if pos + nflag > end:
                break
            row_flags = bytes(buf[pos:pos + nflag])
            pos += nflag
            cells = []
            for (run, dtype), size in zip(self._segments, sizes, strict=True):
                if dtype is None:
                    if pos + 4 > end:
                        break
                    f = self.fields[run[0]]
                    count = int.from_bytes(buf[pos:pos + 4], "big", signed=True)
                    size = f.cell_bytes(count * f.fixed_items)
                    if count < 0 or size > _MAX_CELL:
                        raise IngestError(
                            f"{self.where}, row {self.rows_done + len(flags) + 1}, column "
                            f"{f.name}: array length {count} is not plausible (corrupt "
                            "stream?)", code="INGEST-VOTABLE")
                    pos += 4
                if pos + size > end:
                    break
                cells.append(bytes(buf[pos:pos + size]))
                pos += size
            else:
                flags.append(row_flags)
                for store, cell in zip(pending, cells, strict=True):
                    store.append(cell)
                continue
            pos = start
            break
        del buf[:pos]
        return len(flags) >= self.chunk_rows

    def _variable_chunk(self) -> list[pa.Array]:
        n = len(self._pending_flags)
        cells: list[np.ndarray | list[bytes]] = [[] for _ in self.fields]
        for (run, dtype), store in zip(self._segments, self._pending, strict=True):
            if dtype is None:
                cells[run[0]] = store
            else:
                rec = np.frombuffer(b"".join(store), dtype=dtype)
                for j in run:
                    cells[j] = rec[f"c{j}"]
        flags = np.frombuffer(b"".join(self._pending_flags), np.uint8).reshape(n, self.nflag)
        self._pending = [[] for _ in self._segments]
        self._pending_flags = []
        return self._columns(cells, flags, n)

    def _columns(self, cells: list[np.ndarray | list[bytes]], flags: np.ndarray,
                 n: int) -> list[pa.Array]:
        row0 = self.rows_done + 1
        nulls = np.unpackbits(flags, axis=1)[:, :len(self.fields)].astype(bool) if self.nflag \
            else np.zeros((n, len(self.fields)), dtype=bool)
        out = [binary_column(f, c, nulls[:, j], row0, self.where)
               for j, (f, c) in enumerate(zip(self.fields, cells, strict=True))]
        self.rows_done += n
        return out


def binary_column(f: FieldDef, cells: np.ndarray | list[bytes], null: np.ndarray, row0: int,
                  where: str) -> pa.Array:
    """One column of a chunk: fixed cells as a 2-D numpy array, variable ones as bytes."""
    if f.is_text:
        text = _strings(f, cells, row0, where)
        if null.any():  # BINARY2 flags a NULL string explicitly (VOTable 1.4 sec. 5.4)
            text = pc.if_else(pa.array(null), pa.scalar(None, pa.string()), text)
        return timestamps(text, f, row0, where) if f.xtype == "timestamp" else text
    if isinstance(cells, list):  # variable-length array
        counts = np.fromiter((len(c) for c in cells), np.int64, len(cells))
        raw = np.frombuffer(b"".join(cells), np.uint8)
        if f.datatype == "bit":
            raise IngestError(f"{where}, column {f.name}: variable-length bit arrays are not "
                              "supported", code="INGEST-VOTABLE")
        values = _elements(f, raw.view(f.element_dtype), where)
        return list_array(f, values, counts // f.element_dtype.itemsize, null)
    n = len(cells)
    if f.datatype == "bit" and not f.is_array:
        # sec. 6: the most significant bit; padding bits are 0, so any set bit is true
        # (astropy writes 0x08)
        values = pa.array(cells.reshape(n, -1).any(axis=1))
    elif f.datatype == "bit":
        values = pa.array(np.unpackbits(cells, axis=1)[:, :f.fixed_items].astype(bool).ravel())
    else:
        values = _elements(f, cells.reshape(-1), where)
    if f.is_array:
        return list_array(f, values, np.full(n, f.fixed_items, np.int64), null)
    if not null.any():
        return values
    return pc.if_else(pa.array(null), pa.scalar(None, values.type), values)


def _elements(f: FieldDef, raw: np.ndarray, where: str) -> pa.Array:
    """Flat element values (big-endian numpy) -> Arrow, booleans mapped, magic NULLs applied."""
    if f.datatype == "boolean":  # sec. 6: T/t/1 true, F/f/0 false, anything else NULL
        true = np.isin(raw, np.frombuffer(b"Tt1", np.uint8))
        false = np.isin(raw, np.frombuffer(b"Ff0", np.uint8))
        return pa.array(true, pa.bool_(), mask=~(true | false))
    native = raw.astype(raw.dtype.newbyteorder("="), copy=False)
    return apply_magic_null(pa.array(native, f.element_type), f.null_value(where))


def _strings(f: FieldDef, cells: np.ndarray | list[bytes], row0: int, where: str) -> pa.Array:
    """char (ASCII/UTF-8) or unicodeChar (UCS-2) cells -> strings, cut at the first NUL
    (BINARY2 null flags are applied by the caller)."""
    if f.datatype == "unicodeChar":
        if isinstance(cells, list):
            return _decode_each(cells, "utf-16-be", f, row0, where)
        codes = cells.astype("<u4")
        codes[np.cumsum(codes == 0, axis=1) > 0] = 0  # characters after a NUL are undefined
        if ((codes >= 0xD800) & (codes < 0xE000)).any():  # surrogate pairs: decode per row
            return _decode_each([c.tobytes() for c in cells], "utf-16-be", f, row0, where)
        return pa.array(np.ascontiguousarray(codes).view(f"<U{codes.shape[1]}").ravel(),
                        pa.string())
    if isinstance(cells, list):
        lengths = np.fromiter((len(c) for c in cells), np.int64, len(cells))
        data = np.frombuffer(b"".join(cells), np.uint8)
        if (data == 0).any():
            cells = [c.split(b"\0", 1)[0] for c in cells]
            lengths = np.fromiter((len(c) for c in cells), np.int64, len(cells))
            data = np.frombuffer(b"".join(cells), np.uint8)
    else:
        width = cells.shape[1]
        lengths = np.where((cells == 0).any(axis=1), np.argmax(cells == 0, axis=1), width)
        data = cells[np.arange(width) < lengths[:, None]]
    offsets = np.concatenate(([0], np.cumsum(lengths))).astype(np.int32)
    arr = pa.StringArray.from_buffers(len(lengths), pa.py_buffer(offsets),
                                      pa.py_buffer(np.ascontiguousarray(data)))
    try:
        arr.validate(full=True)
    except pa.ArrowInvalid:
        raw = [data[offsets[i]:offsets[i + 1]].tobytes() for i in range(len(lengths))]
        return _decode_each(raw, "utf-8", f, row0, where)
    return arr


def _decode_each(cells: Sequence[bytes], codec: str, f: FieldDef, row0: int,
                 where: str) -> pa.Array:
    out = []
    for i, c in enumerate(cells):
        try:
            out.append(c.decode(codec).split("\0", 1)[0])
        except UnicodeDecodeError as exc:
            raise IngestError(f"{where}, row {row0 + i}, column {f.name}: bytes that are not "
                              f"{'ASCII/UTF-8' if codec == 'utf-8' else 'UCS-2'} text "
                              f"({exc.reason})", code="INGEST-VALUE") from None
    return pa.array(out, pa.string())
