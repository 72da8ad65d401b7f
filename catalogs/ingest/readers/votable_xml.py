"""Parse events of a VOTable document -> header (FIELD, PARAM, COOSYS, DESCRIPTION, INFO) and
chunks of data rows of its first TABLE.

It is the target of ``xml.etree.ElementTree.XMLParser``, fed the file block by block:
expat hands over start tags, end tags and text pieces, and no element tree is kept.
(``iterparse``/``XMLPullParser`` would hold an element's whole text until its end tag:
a BINARY2 STREAM of 1 GB.) TABLEDATA rows are gathered as text until a chunk is full
(``votable_text``); STREAM text goes through incremental base64 decoding into
``votable_binary.BinaryRows``. Chunks of Arrow columns collect in ``ready``.
VOTable 1.4 sec. 3 (document structure), 4 (FIELD/PARAM/VALUES), 5 (DATA).
"""

from __future__ import annotations

from collections import deque

import pyarrow as pa

from catalogs.ingest.readers.votable_binary import Base64Text, BinaryRows
from catalogs.ingest.readers.votable_fields import FieldDef
from catalogs.ingest.readers.votable_text import text_column
from vo.errors import IngestError

_SERIALISATIONS = ("TABLEDATA", "BINARY", "BINARY2", "FITS")


class VOTableEvents:
    """Receives the parser's events (see module docstring); one per pass over a file."""

    def __init__(self, where: str, chunk_rows: int) -> None:
        self.where = where
        self.chunk_rows = chunk_rows
        self.fields: list[FieldDef] = []
        self.coosys: list[dict[str, str]] = []
        self.params: dict[str, str] = {}
        self.description: str | None = None
        self.nrows: int | None = None
        self.serialisation: str | None = None
        self.stream: dict[str, str] = {}  # STREAM attributes (href, encoding)
        self.fits_extnum: str | None = None
        self.table_seen = False
        self.header_done = False  # FIELDs known: data (or the end of the TABLE) reached
        self.data_done = False
        self.ready: deque[list[pa.Array]] = deque()
        self.rows_done = 0
        self._path: list[str] = []
        self._table_depth = 0
        self._field: FieldDef | None = None
        self._text: list[str] | None = None
        self._info: dict[str, str] = {}
        self._mode = "header"  # header | tabledata | stream | after
        self._rows: list[list[str]] = []
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._b64: Base64Text | None = None
        self.binary: BinaryRows | None = None

    # -- where we are, for error messages --------------------------------------------------
    def position(self) -> str:
        """', row N[, column C]' while reading data rows, else ''."""
        if self._mode == "tabledata":
            out = f", row {self.rows_done + len(self._rows) + 1}"
            if self._row is not None and len(self._row) < len(self.fields):
                out += f", column {self.fields[len(self._row)].name}"
            return out
        if self._mode == "stream" and self.binary is not None:
            return f", row {self.binary.rows_done + len(self.binary._pending_flags) + 1}"
        return ""

    # -- ElementTree target interface --------------------------------------------------------
    def start(self, tag: str, attrib: dict[str, str]) -> None:
        name = tag.rpartition("}")[2]
        self._path.append(name)
        if self._mode == "tabledata":
            if name == "TD":
                self._cell = []
            elif name == "TR":
                self._row = []
            return
        if self._mode != "header":
            if name == "INFO" and self._mode == "after":
                self._text, self._info = [], dict(attrib)
            return
        depth = len(self._path)
        parent = self._path[-2] if depth > 1 else ""
        in_table = self.table_seen and depth == self._table_depth + 1
        if name == "TABLE" and not self.table_seen:
            self.table_seen, self._table_depth = True, depth
            nrows = attrib.get("nrows", "")
            self.nrows = int(nrows) if nrows.strip().isdigit() else None
        elif name == "FIELD" and in_table:
            self._field = FieldDef(
                name=attrib.get("name") or attrib.get("ID") or f"col{len(self.fields) + 1}",
                datatype=attrib.get("datatype", ""), arraysize=attrib.get("arraysize"),
                xtype=attrib.get("xtype"), unit=attrib.get("unit"), ucd=attrib.get("ucd"),
                utype=attrib.get("utype"), ref=attrib.get("ref"))
            self._field.check(self.where)
            self.fields.append(self._field)
        elif name == "VALUES" and parent == "FIELD" and self._field is not None:
            self._field.null = attrib.get("null")
        elif name in ("DESCRIPTION", "INFO"):
            self._text = []
            self._info = dict(attrib)
        elif name == "COOSYS":
            self.coosys.append(dict(attrib))
        elif name == "PARAM" and "name" in attrib:
            self.params[attrib["name"]] = attrib.get("value", "")
        elif name in _SERIALISATIONS and parent == "DATA" and self.table_seen \
                and depth == self._table_depth + 2:
            self._begin_data(name, attrib)
        elif name == "STREAM" and parent in ("BINARY", "BINARY2", "FITS") \
                and self.serialisation is not None:
            self._begin_stream(attrib)

    def data(self, text: str) -> None:
        if self._cell is not None:
            self._cell.append(text)
        elif self._mode == "stream":
            self.stream_text(text)
        elif self._text is not None:
            self._text.append(text)

    @property
    def in_stream(self) -> bool:
        """Inside an inline STREAM: the reader may hand its raw text to ``stream_text``
        directly, up to the next '<' or '&' (expat would deliver it line by line)."""
        return self._mode == "stream"

    def stream_text(self, text: str | bytes) -> None:
        assert self._b64 is not None and self.binary is not None
        try:
            decoded = self._b64.feed(text)
        except ValueError as exc:
            raise IngestError(f"{self.where}{self.position()}: {exc}",
                              code="INGEST-VOTABLE") from None
        if decoded:
            self.ready.extend(self.binary.feed(decoded))

    def end(self, tag: str) -> None:
        name = self._path.pop()
        mode = self._mode
        if mode == "tabledata":
            if name == "TD":
                assert self._row is not None and self._cell is not None
                self._row.append("".join(self._cell))
                self._cell = None
            elif name == "TR":
                self._end_row()
            elif name == "TABLEDATA":
                self._flush_rows()
                self._finish_data()
        elif mode == "stream":
            if name == "STREAM":
                self._end_stream()
        elif mode == "header":
            self._end_header_element(name)
        elif name == "INFO":
            self._end_info()

    def close(self) -> None:
        return None

    # -- header -----------------------------------------------------------------------------
    def _end_header_element(self, name: str) -> None:
        depth = len(self._path) + 1  # of the element just closed
        parent = self._path[-1] if self._path else ""
        if name == "DESCRIPTION":
            text = "".join(self._text or []).strip() or None
            self._text = None
            if parent == "FIELD" and self._field is not None:
                self._field.description = text
            elif parent == "TABLE" and self.table_seen and depth == self._table_depth + 1:
                self.description = text
        elif name == "INFO":
            self._end_info()
        elif name == "FIELD":
            self._field = None
        elif name == "TABLE" and self.table_seen and depth == self._table_depth:
            self.header_done = True  # a TABLE without DATA: no rows
            self._finish_data()

    def _end_info(self) -> None:
        """DALI 1.1 sec. 4.4: QUERY_STATUS=ERROR (before or after the rows) means no table."""
        text = "".join(self._text or []).strip()
        self._text = None
        if self._info.get("name") == "QUERY_STATUS" and self._info.get("value") == "ERROR":
            raise IngestError(f"{self.where}: the VOTable reports an error instead of (or after) "
                              f"its data: INFO QUERY_STATUS=ERROR: {text or '(no message)'}",
                              code="INGEST-VOTABLE")

    # -- data -------------------------------------------------------------------------------
    def _begin_data(self, name: str, attrib: dict[str, str]) -> None:
        self.serialisation = name
        self.header_done = True
        if not self.fields:
            raise IngestError(f"{self.where}: the TABLE has DATA but no FIELD",
                              code="INGEST-VOTABLE")
        if name == "TABLEDATA":
            self._mode = "tabledata"
        elif name == "FITS":
            self.fits_extnum = attrib.get("extnum")
        else:
            self.binary = BinaryRows(self.fields, binary2=name == "BINARY2",
                                     chunk_rows=self.chunk_rows, where=self.where)

    def _begin_stream(self, attrib: dict[str, str]) -> None:
        self.stream = dict(attrib)
        if self.serialisation == "FITS" or attrib.get("href"):
            return  # read by the reader from the referenced file (or by astropy: FITS)
        encoding = attrib.get("encoding", "")
        if encoding != "base64":
            raise IngestError(f"{self.where}: an inline {self.serialisation} STREAM must have "
                              f"encoding=\"base64\" (VOTable 1.4 sec. 5.6), not {encoding!r}",
                              code="INGEST-VOTABLE")
        self._mode = "stream"
        self._b64 = Base64Text()

    def _end_stream(self) -> None:
        assert self._b64 is not None and self.binary is not None
        try:
            decoded = self._b64.finish()
        except ValueError as exc:
            raise IngestError(f"{self.where}{self.position()}: {exc}",
                              code="INGEST-VOTABLE") from None
        self.ready.extend(self.binary.feed(decoded))
        self.ready.extend(self.binary.finish())
        self._finish_data()

    def _finish_data(self) -> None:
        self.data_done = True
        self._mode = "after"
        self._b64 = None

    def _end_row(self) -> None:
        row = self._row
        assert row is not None
        self._row = None
        if len(row) != len(self.fields):
            number = self.rows_done + len(self._rows) + 1
            raise IngestError(f"{self.where}, row {number}: {len(row)} "
                              f"TD cells where the TABLE has {len(self.fields)} FIELDs "
                              "(VOTable 1.4 sec. 5.1)", code="INGEST-VOTABLE")
        self._rows.append(row)
        if len(self._rows) >= self.chunk_rows:
            self._flush_rows()

    def _flush_rows(self) -> None:
        if not self._rows:
            return
        columns = list(zip(*self._rows, strict=True))
        row0 = self.rows_done + 1
        self.ready.append([text_column(f, col, row0, self.where)
                           for f, col in zip(self.fields, columns, strict=True)])
        self.rows_done += len(self._rows)
        self._rows = []
