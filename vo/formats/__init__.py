"""Result formats besides VOTable (CSV, TSV, FITS, Parquet, JSON) and the RESPONSEFORMAT registry.

L1: imports ``vo.votable`` (its row stream, column typing and VOTable writer), ``vo.errors``
and ``vo.meta``. Every writer takes the same input as ``vo.votable.VOTableWriter`` and
streams bytes; ``resolve(RESPONSEFORMAT)`` picks the format and the Content-Type, and
``output_formats()`` lists what TAPRegExt capabilities declare. In a TAP handler::

    fmt = resolve(params.get("RESPONSEFORMAT"))  # UnknownFormatError: BAD-FORMAT, 400
    writer = fmt.writer(columns, maxrec=maxrec,
                        infos=[Info("QUERY_STATUS", "OK"), Info("QUERY", adql)],
                        coosys=[CooSys("icrs", "ICRS", epoch="J2016.0")],
                        coosys_refs={"ra": "icrs", "dec": "icrs"})
    return Response(writer.stream(chunks), content_type=fmt.content_type)
"""

from vo.formats.fits import FITSWriter
from vo.formats.jsontable import JSONWriter
from vo.formats.parquet import ParquetResultWriter
from vo.formats.registry import (
    OutputFormat,
    ResolvedFormat,
    UnknownFormatError,
    accepted_values,
    output_formats,
    resolve,
)
from vo.formats.text import CSVWriter, TSVWriter

__all__ = [
    "CSVWriter",
    "FITSWriter",
    "JSONWriter",
    "OutputFormat",
    "ParquetResultWriter",
    "ResolvedFormat",
    "TSVWriter",
    "UnknownFormatError",
    "accepted_values",
    "output_formats",
    "resolve",
]
