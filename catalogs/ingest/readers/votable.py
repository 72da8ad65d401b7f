"""Streaming VOTable reader: TABLEDATA, BINARY, BINARY2 (inline or by STREAM href) and FITS.

The document is fed block by block to an incremental XML parser (``votable_xml``),
so memory is bounded by the chunk size, not the file size: the header gives the
FIELDs (datatype, arraysize, unit, UCD, utype, DESCRIPTION, VALUES null), COOSYS
the frame, epoch and equinox, the TABLE DESCRIPTION the table description; the
DATA of the first TABLE is decoded in chunks of ``chunk_rows`` rows (VOTable 1.4
sec. 5). A BINARY/BINARY2 STREAM may also point at a local file (``href``, plain,
gzip or base64 encoded). The FITS serialisation (sec. 5.2) falls back to
astropy.io.votable, which reads the whole table into memory (``votable_fits``).
A trailing INFO QUERY_STATUS=ERROR (DALI 1.1 sec. 4.4) fails the ingest: the rows
before it are not the whole result. Gzip- and bzip2-compressed files are read as is.
"""

from __future__ import annotations

import bz2
import gzip
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import IO
from urllib.parse import unquote, urlparse

import pyarrow as pa

from catalogs.ingest.readers.base import Reader, compression_of, nan_to_null
from catalogs.ingest.readers.votable_binary import Base64Text
from catalogs.ingest.readers.votable_xml import VOTableEvents
from vo.errors import IngestError

_BLOCK = 1 << 20  # bytes read from the file per parser feed
_MARKUP = re.compile(rb"[<&]")


def _open_file(path: Path) -> IO[bytes]:
    """The file's bytes, decompressed when it starts with a gzip or bzip2 signature."""
    codec = compression_of(path)
    try:
        if codec == "gzip":
            return gzip.open(path, "rb")
        if codec == "bz2":
            return bz2.open(path, "rb")
        return open(path, "rb")
    except OSError as exc:
        raise IngestError(f"{path}: cannot read: {exc.strerror}", code="INGEST-FILE") from None


class VOTableReader(Reader):
    """Reads the first TABLE of a VOTable document (see the module docstring)."""

    def __init__(self, path: Path, *, chunk_rows: int = 200_000) -> None:
        self.path = path
        self.chunk_rows = chunk_rows
        self._used = False
        self._start()
        ev = self._events
        self.specs = [f.spec() for f in ev.fields]
        self.rows_hint = ev.nrows
        self.description = ev.description
        self.params = dict(ev.params)
        coosys = self._coosys()
        if coosys:
            self.frame = coosys.get("system") or None
            self.epoch = coosys.get("epoch") or None
            self.equinox = coosys.get("equinox") or None

    def _coosys(self) -> dict[str, str] | None:
        """The COOSYS a FIELD refers to (positions first), else the first one (sec. 3.4)."""
        ev = self._events
        by_id = {c.get("ID"): c for c in ev.coosys if c.get("ID")}
        ordered = sorted(ev.fields, key=lambda f: not (f.ucd or "").startswith("pos.eq"))
        for f in ordered:
            if f.ref in by_id:
                return by_id[f.ref]
        return ev.coosys[0] if ev.coosys else None

    # -- one pass over the document -------------------------------------------------------------
    def _start(self) -> None:
        """Open the file and parse up to the start of the data (the header)."""
        self._file = _open_file(self.path)
        self._events = VOTableEvents(str(self.path), self.chunk_rows)
        self._parser = ET.XMLParser(target=self._events)
        self._eof = False
        self._open_reference = False
        try:
            while not self._events.header_done and not self._eof:
                self._feed_block()
        except BaseException:
            self._file.close()
            raise
        if not self._events.table_seen:
            self._file.close()
            raise IngestError(f"{self.path}: the VOTable has no TABLE", code="INGEST-VOTABLE")

    def _feed_block(self) -> None:
        try:
            block = self._file.read(_BLOCK)
        except (OSError, EOFError) as exc:  # e.g. a corrupt gzip member
            raise IngestError(f"{self.path}: cannot read: {exc}", code="INGEST-FILE") from None
        # base64 text: around the parser, in bulk (unless expat still holds the start of
        # a character reference from the last block: then it must see the rest first)
        if block and self._events.in_stream and not self._open_reference:
            markup = _MARKUP.search(block)
            cut = markup.start() if markup else len(block)
            if cut:
                self._events.stream_text(block[:cut])
                block = block[cut:]
                if not block:
                    return
        try:
            if block:
                self._parser.feed(block)
                amp = block.rfind(b"&")
                self._open_reference = amp >= 0 and block.find(b";", amp) < 0
            else:
                self._eof = True
                self._parser.close()
        except ET.ParseError as exc:
            what = ("the file ends before the document does (truncated?)" if self._eof
                    else "not well-formed XML")
            raise IngestError(f"{self.path}{self._events.position()}: {what} ({exc})",
                              code="INGEST-VOTABLE") from None

    def batches(self) -> Iterator[pa.RecordBatch]:
        if self._used:
            self._start()
        self._used = True
        schema = pa.schema([(s.source_name, s.arrow_type) for s in self.specs])
        ev = self._events
        try:
            while True:
                while ev.ready:
                    yield nan_to_null(pa.RecordBatch.from_arrays(ev.ready.popleft(), schema=schema))
                if self._eof:
                    break
                self._feed_block()
            if ev.serialisation == "FITS":
                from catalogs.ingest.readers.votable_fits import fits_columns

                for columns in fits_columns(self.path, ev.fields, self.chunk_rows):
                    yield nan_to_null(pa.RecordBatch.from_arrays(columns, schema=schema))
            elif ev.serialisation in ("BINARY", "BINARY2") and ev.stream.get("href"):
                for columns in self._external_stream():
                    yield nan_to_null(pa.RecordBatch.from_arrays(columns, schema=schema))
            elif not ev.data_done:
                raise IngestError(f"{self.path}: the document ends inside the TABLE's DATA",
                                  code="INGEST-VOTABLE")
        finally:
            self._file.close()

    def _external_stream(self) -> Iterator[list[pa.Array]]:
        """Rows from the file a STREAM href names (sec. 5.6): local paths and file: URLs."""
        ev = self._events
        href, encoding = ev.stream["href"], ev.stream.get("encoding", "")
        url = urlparse(href)
        if url.scheme not in ("", "file"):
            raise IngestError(f"{self.path}: the STREAM refers to {href}; download it and point "
                              "href at the local copy (only local files are read)",
                              code="INGEST-VOTABLE")
        target = Path(unquote(url.path))
        if not target.is_absolute():
            target = self.path.parent / target
        if encoding not in ("", "gzip", "base64"):
            raise IngestError(f"{self.path}: STREAM encoding {encoding!r} is not supported "
                              "(none, gzip or base64)", code="INGEST-VOTABLE")
        try:
            raw = gzip.open(target, "rb") if encoding == "gzip" else open(target, "rb")
        except OSError as exc:
            raise IngestError(f"{self.path}: STREAM href {href}: {exc.strerror}",
                              code="INGEST-FILE") from None
        rows = ev.binary
        assert rows is not None
        b64 = Base64Text() if encoding == "base64" else None
        where = f"{self.path} (STREAM {target})"
        with raw:
            while True:
                try:
                    block = raw.read(_BLOCK)
                    data = (b64.feed(block.decode("ascii", "replace")) if block else b64.finish()) \
                        if b64 is not None else block
                except ValueError as exc:
                    raise IngestError(f"{where}, row {rows.rows_done + 1}: {exc}",
                                      code="INGEST-VOTABLE") from None
                except (OSError, EOFError) as exc:
                    raise IngestError(f"{where}: cannot read: {exc}", code="INGEST-FILE") from None
                yield from rows.feed(data)
                if not block:
                    break
        yield from rows.finish()
