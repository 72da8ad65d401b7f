"""CSV/TSV reader: streamed with pyarrow in two passes (infer types, then convert).

Pass 1 reads every value as a string and narrows, per column, the set of types all
values fit (int -> float -> boolean -> timestamp -> string, integers sized by their
range), so a value late in the file cannot break types guessed from its start. Empty
fields are NULL. Pass 2 converts with the inferred types. Memory stays bounded by
the block size whatever the file size.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from catalogs.ingest.readers.base import Reader, nan_to_null
from catalogs.ingest.spec import ColumnSpec
from vo.errors import IngestError

BLOCK = 8 << 20
_BOOL_WORDS = {"true", "false", "t", "f"}


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
        present = pc.is_valid(arr)
        values = pc.drop_null(arr)
        if len(values) == 0:
            return
        self.values += len(values)
        if self.ascii and not pc.all(pc.string_is_ascii(values)).as_py():
            self.ascii = False
        is_num = pc.match_substring_regex(arr, _NUM_RE, ignore_case=True)
        n_num = pc.sum(pc.cast(pc.fill_null(is_num, False), pa.int64())).as_py() or 0
        self.numeric += n_num
        if n_num < len(values):
            self.int_ok = self.float_ok = False
            if self.first_bad is None:
                bad = pc.and_(present, pc.invert(pc.fill_null(is_num, False)))
                idx = pc.index(bad, True).as_py()
                self.first_bad = (row0 + idx, arr[idx].as_py())
        elif self.int_ok:
            if pc.all(pc.match_substring_regex(values, _INT_RE)).as_py():
                try:
                    mm = pc.min_max(pc.cast(pc.utf8_trim_whitespace(values), pa.int64()))
                    self.lo = min(self.lo, mm["min"].as_py())
                    self.hi = max(self.hi, mm["max"].as_py())
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError):  # beyond int64
                    self.int_ok = False
            else:
                self.int_ok = False
        if self.bool_ok:
            words = pc.utf8_lower(pc.utf8_trim_whitespace(values))
            self.bool_ok = bool(pc.all(pc.is_in(words, pa.array(sorted(_BOOL_WORDS)))).as_py())
        if self.ts_ok and n_num == 0:
            try:
                pc.cast(values, pa.timestamp("us"))
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                self.ts_ok = False
        elif n_num:
            self.ts_ok = False

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


class CsvReader(Reader):
    def __init__(self, path: Path, *, delimiter: str = ",") -> None:
        self.path = path
        self.delimiter = delimiter
        self._bad_row: tuple[int | None, int, int, str] | None = None
        names = self._names()
        self.specs = self._infer(names)

    def _parse_options(self) -> pcsv.ParseOptions:
        def on_invalid(row: pcsv.InvalidRow) -> str:
            self._bad_row = (row.number, row.expected_columns, row.actual_columns, row.text)
            return "error"

        return pcsv.ParseOptions(delimiter=self.delimiter, invalid_row_handler=on_invalid)

    def _read(self, convert: pcsv.ConvertOptions) -> pcsv.CSVStreamingReader:
        return pcsv.open_csv(self.path, read_options=pcsv.ReadOptions(block_size=BLOCK,
                                                                          use_threads=False),
                             parse_options=self._parse_options(), convert_options=convert)

    def _names(self) -> list[str]:
        try:
            with open(self.path, newline="", encoding="utf-8") as fh:
                header = fh.readline()
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
                                      true_values=["true", "t", "True", "T", "TRUE"],
                                      false_values=["false", "f", "False", "F", "FALSE"],
                                      timestamp_parsers=[pcsv.ISO8601])
        rows = 0
        try:
            for batch in self._read(convert):
                rows += batch.num_rows
                yield nan_to_null(batch)
        except pa.ArrowInvalid as exc:
            msg = str(exc).splitlines()[0]
            col = next((n for n in types if f"'{n}'" in msg), None)
            raise IngestError(f"{self.where(None, col)}: value after row {rows} cannot be "
                              f"converted: {msg}", code="INGEST-VALUE") from None
