"""The TAP query service: parameters -> ADQL translation -> streamed execution -> a writer.

One function serves /sync and the async worker (TAP 1.1 sec. 2.1-2.2): ``open_result``
validates the request, loads uploads, translates the ADQL and starts the query,
reading the first chunk so that every error the client caused is raised (and
answered with a DALI error document, DALI 1.1 sec. 4.4.2) before the first byte of a
result is sent. The returned ``QueryResult`` then streams bytes; a failure after
that ends the document with a trailing QUERY_STATUS=ERROR INFO (DALI 1.1 sec.
4.4.1). ``run_query`` writes the same stream to a file for async jobs.
"""

from __future__ import annotations

import datetime as dt
import importlib
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO

from vo.config import Settings
from vo.db import Engine
from vo.db.lookup import SchemaCache, TapSchemaLookup
from vo.db.pgcopy import wire_types
from vo.db.query import Chunk, StreamedQuery
from vo.db.uploads import UploadSource, load_uploads
from vo.formats import OutputFormat, resolve
from vo.meta import ColumnMeta, TableMeta
from vo.tap.params import TapParams, parse_params
from vo.votable import CooSys, Info, ResultWriter

log = logging.getLogger(__name__)

SERVICE_NAME = "vo-suite TAP"


@dataclass(frozen=True)
class QueryOutcome:
    """What a finished query produced (for UWS job results and logs)."""

    rows: int
    overflowed: bool
    error: str | None
    content_type: str
    extension: str


def _translate(query: str, lookup: TapSchemaLookup, maxrec: int) -> Any:
    # vo.adql is imported here, not at module level, so that VOSI endpoints work even
    # in a deployment whose translator failed to import (it is reported per query).
    adql = importlib.import_module("vo.adql")
    return adql.translate(query, lookup, maxrec=maxrec)


def _coosys(
    tables: Sequence[Any], columns: Sequence[ColumnMeta]
) -> tuple[list[CooSys], dict[str, str]]:
    """COOSYS per distinct (frame, epoch) of the positioned tables queried (VOTable 1.4 sec. 3.4).

    Output columns whose UCD says equatorial position (``pos.eq.*``) refer to the first
    positioned table's system; that is the system ADQL results are in.
    """
    systems: list[CooSys] = []
    for t in tables:
        if isinstance(t, TableMeta) and t.position is not None:
            p = t.position
            if not any(s.system == p.frame and s.epoch == p.epoch for s in systems):
                systems.append(
                    CooSys(
                        id=f"system{len(systems) + 1}",
                        system=p.frame or "ICRS",
                        epoch=p.epoch,
                        equinox=p.equinox,
                    )
                )
    refs: dict[str, str] = {}
    if systems:
        for c in columns:
            if c.ucd and "pos.eq" in c.ucd and c.datatype in ("double", "float"):
                refs[c.name] = systems[0].id
    return systems, refs


class QueryResult:
    """A started query: ``stream()`` yields the document's bytes; closes itself at the end."""

    def __init__(
        self,
        query: StreamedQuery,
        first: Chunk | None,
        writer: ResultWriter,
        fmt: OutputFormat,
        content_type: str,
    ) -> None:
        self.query = query
        self._first = first
        self.writer = writer
        self.format = fmt
        self.content_type = content_type

    def _chunks(self) -> Iterator[Chunk]:
        try:
            if self._first is not None:
                yield self._first
            self._first = None
            yield from self.query.chunks()
        finally:
            self.query.close()

    def stream(self) -> Iterator[bytes]:
        try:
            yield from self.writer.stream(self._chunks())
        finally:
            self.query.close()

    def close(self) -> None:
        self.query.close()

    def outcome(self) -> QueryOutcome:
        return QueryOutcome(
            self.writer.rows_written,
            self.writer.overflowed,
            self.writer.error,
            self.content_type,
            self.format.extension,
        )


class TapService:
    """The TAP service over one database; shared by the web app and the async worker."""

    def __init__(
        self, settings: Settings, engine: Engine, *, schema: SchemaCache | None = None
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.schema = schema or SchemaCache(engine)

    def open_result(
        self,
        raw_params: Mapping[str, Sequence[str] | str],
        files: Mapping[str, UploadSource] | None = None,
        *,
        timeout_s: float | None = None,
        on_start: Callable[[StreamedQuery], None] | None = None,
    ) -> QueryResult:
        """Validate, translate and start a query; raise a VOError for anything wrong so far."""
        params = parse_params(raw_params, self.settings)
        resolved = resolve(params.response_format)  # DALI 1.1 sec. 3.2.2
        uploads = load_uploads(params.uploads, {} if files is None else files, self.settings)
        lookup = self.schema.lookup().with_tables(u.table for u in uploads)
        translation = _translate(params.query, lookup, params.maxrec)
        columns = tuple(translation.columns)
        timeout = float(
            timeout_s if timeout_s is not None else self.settings.execution_duration_sync
        )

        def prepare(conn: Any) -> None:
            for u in uploads:
                u.create(conn, self.settings.query_role)

        query = StreamedQuery(
            self.engine,
            translation.sql,
            getattr(translation, "params", None),
            role=self.settings.query_role,
            timeout_s=timeout,
            chunk_rows=_chunk_rows(len(columns)),
            prepare=prepare if uploads else None,
            wires=wire_types(columns),
        )
        query.open()
        try:
            if on_start is not None:
                on_start(query)  # the backend pid is known now: UWS can cancel it
            chunks = query.chunks()
            first = next(chunks, None)
        except BaseException:
            query.close()
            raise
        coosys, refs = _coosys(getattr(translation, "tables", ()), columns)
        writer = resolved.writer(
            columns,
            maxrec=params.maxrec,
            infos=self._infos(params),
            coosys=coosys,
            coosys_refs=refs,
        )
        return QueryResult(query, first, writer, resolved.format, resolved.content_type)

    def run_query(
        self,
        raw_params: Mapping[str, Sequence[str] | str],
        out: BinaryIO,
        files: Mapping[str, UploadSource] | None = None,
        *,
        timeout_s: float | None = None,
        on_start: Callable[[StreamedQuery], None] | None = None,
    ) -> QueryOutcome:
        """Run a query to completion, writing the result document to ``out`` (async jobs)."""
        result = self.open_result(raw_params, files, timeout_s=timeout_s, on_start=on_start)
        try:
            for block in result.stream():
                out.write(block)
        finally:
            result.close()
        return result.outcome()

    def _infos(self, params: TapParams) -> list[Info]:
        now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        infos = [
            Info("QUERY_STATUS", "OK"),
            Info("SERVICE_PROTOCOL", "1.1", "ivo://ivoa.net/std/TAP"),
            Info("QUERY", params.query),
            Info("LANG", params.lang),
            Info("MAXREC", str(params.maxrec)),
            Info("server", self.settings.public_url, SERVICE_NAME),
            Info("request_date", now),
        ]
        if params.runid:
            infos.append(Info("RUNID", params.runid))
        return infos


def _chunk_rows(ncols: int) -> int:
    """Rows per FETCH: ~10k for narrow results, fewer for wide ones (bounded memory)."""
    return max(500, min(20_000, 200_000 // max(1, ncols)))


def parse_only(raw_params: Mapping[str, Sequence[str] | str], settings: Settings) -> TapParams:
    """Validate parameters without running anything (UWS job creation)."""
    return parse_params(raw_params, settings)


__all__ = ["QueryOutcome", "QueryResult", "TapService", "parse_only"]
