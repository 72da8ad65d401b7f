"""CSV/TSV reader, streamed with pyarrow; memory bounded by the block size.

Optimistic mode (the default) reads the file once, with the types Arrow infers from
its first block; if a later block does not fit them, ``batches()`` raises
``TypeConflict`` and the caller starts again in careful mode. Careful mode reads the
file twice: pass 1 reads every value as a string and narrows, per column, the set of
types all values fit (int -> float -> boolean -> timestamp -> string, integers sized
by their range), so a value late in the file cannot break types guessed from its
start, and a stray non-number in a numeric column is reported with its line; pass 2
converts. Empty fields are NULL in both modes.

Gzip- and bzip2-compressed files (``.csv.gz``, ``.tsv.bz2``, or any name: the first
bytes decide) are decompressed while streamed; line numbers in errors count lines of
the decompressed text, and a corrupt or truncated stream is an ``INGEST-FILE`` error
naming the file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from catalogs.ingest.readers.base import Reader, compression_of, nan_to_null
from catalogs.ingest.spec import ColumnSpec
from vo.errors import IngestError

# pyarrow's streaming reader reads ahead many blocks: with 8 MiB blocks it held 110-230 MB
# (the larger figure on a 1 GB file; bounded by the file size on small ones), with 1 MiB
# blocks ~40 MB, at the same speed. Types are still inferred from the first 8 MiB.
BLOCK = 1 << 20
INFER_BYTES = 8 << 20
_BOOL_WORDS = {"true", "false", "t", "f"}
_LINE_END = re.compile(rb"\r|\n")


_INT_RE = r"^\s*[-+]?\d+\s*$"
_NUM_RE = r"^\s*[-+]?((\d+\.?\d*|\.\d+)([eE][-+]?\d+)?|nan|inf|infinity)\s*$"


@dataclass
class _Candidates:
    """What every value of one column seen so far could be."""

    int_ok: bool = True
    float_ok: bool = True
    bool_ok: bool = True
    ts_ok: bool = True
    lo: int = 0
    hi: int = 0
    values: int = 0
    numeric: int = 0
    first_bad: tuple[int, str] | None = None  # (0-based data row, value) of a non-number
    ascii: bool = True

    def narrow(self, arr: pa.Array, row0: int) -> None:
        """Drop the types some value of this block does not fit (C++ casts first: the
        regular expressions run only on columns that stop being numeric)."""
        values = pc.drop_null(arr)
        if len(values) == 0:
            return
        self.values += len(values)
        if self.ascii and not pc.all(pc.string_is_ascii(values)).as_py():
            self.ascii = False
        if self.int_ok or self.float_ok:
            numeric = self._cast_numeric(values)
            if numeric:
                self.numeric += len(values)
                self.bool_ok = self.ts_ok = False
                return
        self.int_ok = self.float_ok = False
        is_num = pc.fill_null(pc.match_substring_regex(arr, _NUM_RE, ignore_case=True), False)
        n_num = pc.sum(pc.cast(is_num, pa.int64())).as_py() or 0
        self.numeric += n_num
        if n_num and self.first_bad is None:
            bad = pc.and_(pc.is_valid(arr), pc.invert(is_num))
            idx = pc.index(bad, True).as_py()
            self.first_bad = (row0 + idx, arr[idx].as_py())
        if self.bool_ok:
            words = pc.utf8_lower(pc.utf8_trim_whitespace(values))
            self.bool_ok = bool(pc.all(pc.is_in(words, pa.array(sorted(_BOOL_WORDS)))).as_py())
        if self.ts_ok and n_num == 0:
            try:
                pc.cast(values, pa.timestamp("us"))
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                self.ts_ok = False
        else:
            self.ts_ok = False

    def _cast_numeric(self, values: pa.Array) -> bool:
        """True if every value is a number; narrows int/float and tracks the int range."""
        trimmed = pc.utf8_trim_whitespace(values)
        if self.int_ok:
            try:
                mm = pc.min_max(pc.cast(trimmed, pa.int64()))
                self.lo = min(self.lo, mm["min"].as_py())
                self.hi = max(self.hi, mm["max"].as_py())
                return True
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                self.int_ok = False
        try:
            pc.cast(trimmed, pa.float64())
            return True
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return False

    def mostly_numeric_with_junk(self) -> bool:
        return self.first_bad is not None and self.numeric >= 0.9 * self.values

    def arrow_type(self) -> pa.DataType:
        if not self.values:
            return pa.string()
        if self.int_ok:
            for t, lo, hi in ((pa.int16(), -(2**15), 2**15 - 1), (pa.int32(), -(2**31), 2**31 - 1)):
                if lo <= self.lo and self.hi <= hi:
                    return t
            return pa.int64()
        if self.float_ok:
            return pa.float64()
        if self.bool_ok:
            return pa.bool_()
        if self.ts_ok:
            return pa.timestamp("us")
        return pa.string()


class TypeConflict(Exception):
    """A block of the file does not fit the types inferred from its first block."""


_TRUE = ["true", "t", "True", "T", "TRUE"]
_FALSE = ["false", "f", "False", "F", "FALSE"]


class CsvReader(Reader):
    def __init__(self, path: Path, *, delimiter: str = ",", optimistic: bool = True) -> None:
        self.path = path
        self.delimiter = delimiter
        self._bad_row: tuple[int | None, int, int, str] | None = None
        self.compression = compression_of(path)
        names = self._names()
        specs = self._first_block_specs() if optimistic else None
        self.optimistic = specs is not None
        self.specs = specs if specs is not None else self._infer(names)

    def _first_block_specs(self) -> list[ColumnSpec] | None:
        """Types Arrow infers from the first block, or None where they are not trustworthy
        (a column empty in the first block, or an exotic type): then infer carefully."""
        convert = pcsv.ConvertOptions(strings_can_be_null=True, null_values=[""],
                                      quoted_strings_can_be_null=False, true_values=_TRUE,
                                      false_values=_FALSE, timestamp_parsers=[pcsv.ISO8601])
        try:
            reader = self._read(convert, head=self._head())
            schema = reader.schema
            first = reader.read_next_batch()
        except (pa.ArrowInvalid, UnicodeDecodeError, StopIteration):
            return None  # careful mode says precisely what is wrong
        except OSError as exc:
            raise self._unreadable(exc, None) from None
        specs = []
        for f in schema:
            t = f.type
            if pa.types.is_timestamp(t):
                t = pa.timestamp("us")
            elif not (t in (pa.int64(), pa.float64(), pa.bool_(), pa.string())
                      or pa.types.is_date32(t)):
                return None
            if t == pa.string():  # text, or numbers with a stray word: careful mode tells
                cand = _Candidates()
                cand.narrow(first.column(f.name), 0)
                if cand.mostly_numeric_with_junk():
                    return None
            specs.append(ColumnSpec(f.name, t))
        size = self.path.stat().st_size
        self.rows_hint = None if size else 0
        return specs

    def _parse_options(self) -> pcsv.ParseOptions:
        def on_invalid(row: pcsv.InvalidRow) -> str:
            self._bad_row = (row.number, row.expected_columns, row.actual_columns, row.text)
            return "error"

        return pcsv.ParseOptions(delimiter=self.delimiter, invalid_row_handler=on_invalid)

    def _head(self) -> pa.Buffer:
        """The first INFER_BYTES of the (decompressed) file, cut after its last full line:
        types are inferred from these, as many rows as the 8 MiB blocks used to give."""
        with self._stream() as fh:
            head = fh.read(INFER_BYTES)
        if len(head) == INFER_BYTES and head.rfind(b"\n") > 0:
            head = head[:head.rfind(b"\n") + 1]
        return pa.py_buffer(head)

    def _stream(self) -> pa.NativeFile:
        """The file's bytes, decompressed as they are read."""
        return pa.input_stream(str(self.path), compression=self.compression)

    def _read(self, convert: pcsv.ConvertOptions,
              head: pa.Buffer | None = None) -> pcsv.CSVStreamingReader:
        """A streaming reader of the file, or of ``head`` (then in one block)."""
        source: Path | pa.NativeFile = pa.BufferReader(head) if head is not None else (
            self._stream() if self.compression else self.path)
        block = BLOCK if head is None else max(BLOCK, head.size + 1)
        return pcsv.open_csv(source, read_options=pcsv.ReadOptions(block_size=block,
                                                                       use_threads=False),
                             parse_options=self._parse_options(), convert_options=convert)

    def _header_line(self) -> bytes:
        """The first line of the (decompressed) file, without its line end."""
        data = b""
        try:
            with self._stream() as fh:
                while not _LINE_END.search(data) and len(data) < INFER_BYTES:
                    block = fh.read(1 << 16)
                    if not block:
                        break
                    data += block
        except OSError as exc:
            raise self._unreadable(exc, None) from None
        return _LINE_END.split(data, maxsplit=1)[0]

    def _unreadable(self, exc: OSError, rows: int | None) -> IngestError:
        """A read or decompression failure (``pa.input_stream`` raises OSError)."""
        what = f"corrupt or truncated {self.compression} data" if self.compression else \
            "cannot read"
        after = f" after row {rows}" if rows else ""
        msg = (str(exc).splitlines() or [type(exc).__name__])[0]
        return IngestError(f"{self.path}: {what}{after}: {msg}", code="INGEST-FILE")

    def _names(self) -> list[str]:
        try:
            header = self._header_line().decode("utf-8")
        except UnicodeDecodeError:
            raise IngestError(f"{self.path}, line 1: header is not UTF-8 text",
                              code="INGEST-CSV") from None
        if not header.strip():
            raise IngestError(f"{self.path}: empty file (a CSV header line is required)",
                              code="INGEST-CSV")
        import csv

        return [n.strip() for n in next(csv.reader([header], delimiter=self.delimiter))]

    def _fail(self, exc: Exception) -> IngestError:
        if self._bad_row is not None:
            number, expected, actual, text = self._bad_row
            line = f"line {number}" if number is not None else "a line"
            return IngestError(f"{self.path}, {line}: expected {expected} fields, found {actual}: "
                               f"{text[:120]!r}", code="INGEST-CSV")
        msg = str(exc).splitlines()[0]
        return IngestError(f"{self.path}: malformed CSV: {msg}", code="INGEST-CSV")

    def _infer(self, names: list[str]) -> list[ColumnSpec]:
        convert = pcsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                      strings_can_be_null=True, null_values=[""],
                                      quoted_strings_can_be_null=False)
        cands = {n: _Candidates() for n in names}
        rows = 0
        try:
            for batch in self._read(convert):
                for n in names:
                    cands[n].narrow(batch.column(n), rows)
                rows += batch.num_rows
        except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
            raise self._fail(exc) from None
        except OSError as exc:
            raise self._unreadable(exc, rows) from None
        self.rows_hint = rows
        for n in names:
            c = cands[n]
            if c.mostly_numeric_with_junk():
                assert c.first_bad is not None
                row, value = c.first_bad
                raise IngestError(
                    f"{self.path}, line {row + 2}, column {n}: {value!r} is not a number, but "
                    f"{c.numeric} of the column's {c.values} values are; fix the value or leave "
                    "the field empty for NULL", code="INGEST-VALUE")
        return [ColumnSpec(n, cands[n].arrow_type(), ascii_only=cands[n].ascii) for n in names]

    def batches(self) -> Iterator[pa.RecordBatch]:
        types = {s.source_name: s.arrow_type for s in self.specs}
        convert = pcsv.ConvertOptions(column_types=types, strings_can_be_null=True,
                                      null_values=[""], quoted_strings_can_be_null=False,
                                      true_values=_TRUE, false_values=_FALSE,
                                      timestamp_parsers=[pcsv.ISO8601])
        rows = 0
        try:
            for batch in self._read(convert):
                rows += batch.num_rows
                yield nan_to_null(batch)
        except OSError as exc:  # before TypeConflict: reading again would not help
            raise self._unreadable(exc, rows) from None
        except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
            if self.optimistic:
                raise TypeConflict(str(exc)) from None
            if self._bad_row is not None:
                raise self._fail(exc) from None
            msg = str(exc).splitlines()[0]
            col = next((n for n in types if f"'{n}'" in msg), None)
            raise IngestError(f"{self.where(None, col)}: value after row {rows} cannot be "
                              f"converted: {msg}", code="INGEST-VALUE") from None
