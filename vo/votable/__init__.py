"""Streaming VOTable 1.4 output: BINARY2 (default), BINARY and TABLEDATA, and DALI error documents.

L1: imports only ``vo.errors`` and ``vo.meta`` of ours (plus numpy/pyarrow). The TAP
service feeds a ``VOTableWriter`` the chunks of a server-side cursor and streams the
bytes it yields; ``error_document`` is the one DALI 1.1 sec. 4.4 error VOTable.
``vo.formats`` builds its other formats on ``RowStream`` and ``ColumnType`` from here.
"""

from vo.votable.columns import ColumnType, UnsupportedColumnError, column_type
from vo.votable.document import CooSys, Info, Serialization, error_document
from vo.votable.rows import ResultWriter, RowStream, failure_message
from vo.votable.writer import VOTABLE_MEDIA_TYPE, VOTableWriter

__all__ = [
    "VOTABLE_MEDIA_TYPE",
    "ColumnType",
    "CooSys",
    "Info",
    "ResultWriter",
    "RowStream",
    "Serialization",
    "UnsupportedColumnError",
    "VOTableWriter",
    "column_type",
    "error_document",
    "failure_message",
]
