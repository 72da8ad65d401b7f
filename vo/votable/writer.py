"""The streaming VOTable writer: head, one encoded block per batch, tail.

Memory is bounded by the chunk size: each batch is converted, packed and handed out
before the next chunk is pulled from the cursor. The trailing INFO reports OVERFLOW
(DALI 1.1 sec. 4.4.1) or ERROR (sec. 4.4.2), so a failure after the first byte still
ends in a valid document.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence

from vo.meta import ColumnMeta
from vo.votable.binary import Base64Lines, pack_batch
from vo.votable.document import (
    CooSys,
    Info,
    Serialization,
    document_head,
    document_tail,
)
from vo.votable.rows import Chunk, StreamingWriter
from vo.votable.tabledata import tabledata_rows

VOTABLE_MEDIA_TYPE = "application/x-votable+xml"


class VOTableWriter(StreamingWriter):
    """Write one result table as a VOTable 1.4 byte stream.

    ``maxrec``: write at most this many rows and report OVERFLOW if more arrived (the
    caller fetches maxrec+1). ``coosys_refs`` maps a column's VOTable name to a COOSYS
    id. After ``stream`` is exhausted, ``rows_written``, ``overflowed`` and ``error``
    tell what happened.

    Values follow the column's declared datatype (VOTable 1.4 sec. 6): ``char`` is
    ASCII, so other characters are written as ``?`` (declare ``unicodeChar`` for text
    that may hold them; UCS-2, so characters beyond the BMP become U+FFFD). BINARY has no
    null flags: integer nulls are written as the VALUES null declared in the FIELD (the
    type's minimum, 255 for unsignedByte), so a real value equal to it reads as null;
    BINARY2, the default, has no such limit. A scalar ``timestamp`` char column is
    declared ``arraysize="*"`` (DALI 1.1 sec. 3.3.3). Timestamps arriving as ``str``
    (e.g. formatted by PostgreSQL) are written as they are and convert fastest.
    """

    def __init__(
        self,
        columns: Sequence[ColumnMeta],
        *,
        serialization: Serialization | str = Serialization.BINARY2,
        maxrec: int | None = None,
        infos: Sequence[Info] = (),
        coosys: Sequence[CooSys] = (),
        coosys_refs: Mapping[str, str] | None = None,
        table_name: str | None = None,
        description: str | None = None,
        media_type: str = VOTABLE_MEDIA_TYPE,
    ) -> None:
        super().__init__(columns, maxrec)
        self.serialization = Serialization(serialization)
        self.infos = list(infos)
        self.coosys = list(coosys)
        self.coosys_refs = dict(coosys_refs or {})
        self.table_name = table_name
        self.description = description
        self.media_type = media_type

    def stream(self, chunks: Iterable[Chunk]) -> Iterator[bytes]:
        """The document as UTF-8 byte blocks (one per chunk after the head)."""
        rows = self._open(chunks)
        yield document_head(
            self.types,
            self.serialization,
            infos=self.infos,
            coosys=self.coosys,
            coosys_refs=self.coosys_refs,
            table_name=self.table_name,
            description=self.description,
        ).encode("utf-8")
        encoder = Base64Lines()
        binary2 = self.serialization is Serialization.BINARY2
        batches = rows.batches()
        for batch in batches:
            try:
                if self.serialization is Serialization.TABLEDATA:
                    block = tabledata_rows(self.types, batch)
                else:
                    block = encoder.feed(pack_batch(self.types, batch, binary2=binary2))
            except Exception as exc:  # noqa: BLE001 - reported in-band (DALI 1.1 sec. 4.4.2)
                rows.fail(exc, unwritten=batch.num_rows)
                batches.close()
                break
            if block:
                yield block
        rest = encoder.finish()
        if rest:
            yield rest
        yield document_tail(
            self.serialization, overflowed=rows.overflowed, error=rows.error
        ).encode("utf-8")

    def write_to(self, chunks: Iterable[Chunk], out: object) -> None:
        """Convenience for files and async results: write the stream to ``out.write``."""
        write = out.write  # type: ignore[attr-defined]
        for block in self.stream(chunks):
            write(block)
