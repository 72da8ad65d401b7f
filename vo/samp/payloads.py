"""Turning what a user hands us (a Table, a file, bytes, a URL, an HDU) into a URL.

SAMP moves data by reference: a message carries a URL that the recipient fetches
(SAMP MTypes page, ``table.load.*`` / ``image.load.fits``). The rules here:

* a URL (``http(s):``, ``ftp:``, ``file:``) goes as it is: a TAP async result URL
  stays live while the job lives and holds the full VOTable with its metadata;
* a local file goes as a ``file://localhost/...`` URL after a readability and
  content check (tools on the same host read those), or served over HTTP on request;
* a table in memory (an astropy Table, VOTable or FITS bytes) is written ONCE to a
  temporary file that ``FileServer`` serves over HTTP; astropy's VOTable writer
  keeps units, UCDs and descriptions, so nothing is stripped;
* an image in memory (FITS bytes, an HDU) is written once to a temporary file sent
  as a file: URL (or served, with ``serve=True``), see ``_image_url``.
"""

from __future__ import annotations

import gzip
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlparse

from vo.samp.errors import SampUnreadable
from vo.samp.fileserver import FileServer
from vo.samp.messages import TABLE_LOAD_FITS, TABLE_LOAD_VOTABLE

URL_SCHEMES = ("http", "https", "ftp", "file")
SNIFF_BYTES = 65536
# the root element, after a BOM, XML declaration, comments, processing
# instructions and a DOCTYPE, is VOTABLE (with or without a namespace prefix)
_VOTABLE_ROOT = re.compile(
    rb"^(?:\xef\xbb\xbf)?(?:\s+|<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>]*>)*<(?:[\w.-]+:)?VOTABLE[\s>/]",
    re.DOTALL,
)


@dataclass(frozen=True)
class Payload:
    """A URL ready to send, the load MType that fits it, and a display name."""

    url: str
    mtype: str
    name: str


def is_url(value: object) -> bool:
    return isinstance(value, str) and urlparse(value).scheme in URL_SCHEMES


def file_url(path: Path) -> str:
    """``file://localhost/<absolute path>``, the form TOPCAT and Aladin accept."""
    return "file://localhost" + quote(str(path.resolve()))


def _head(data: bytes) -> bytes:
    if data[:2] == b"\x1f\x8b":  # gzip: tools read compressed tables; sniff inside
        try:
            return gzip.decompress(data) if len(data) < SNIFF_BYTES else data
        except (OSError, EOFError):
            return data
    return data


def sniff(head: bytes) -> str | None:
    """'fits', 'votable' or None, from a file's first bytes (FITS 4.0 sec. 4.4.1.1:
    a primary header starts with SIMPLE; a VOTable document has a VOTABLE root)."""
    if head.startswith(b"SIMPLE  ="):
        return "fits"
    if _VOTABLE_ROOT.match(head):
        return "votable"
    return None


def _read_head(path: Path) -> bytes:
    try:
        if path.is_dir():
            raise IsADirectoryError(21, "is a directory")
        with path.open("rb") as fh:
            head = fh.read(SNIFF_BYTES)
        if head[:2] == b"\x1f\x8b":
            with gzip.open(path, "rb") as gz:
                head = gz.read(SNIFF_BYTES)
    except (OSError, EOFError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise SampUnreadable(
            f"cannot read {path}: {reason}; check the path and its permissions"
        ) from None
    return head


def _local_path(source: str | os.PathLike[str]) -> Path:
    return Path(source).expanduser()


def table_payload(
    source: Any,
    files: FileServer,
    *,
    name: str | None = None,
    serve: bool = False,
) -> Payload:
    """A URL for a table: a VOTable (or FITS table) file, bytes, URL, astropy Table,
    or pyvo's query objects (an AsyncTAPJob goes as its live result URL, a result
    set as its VOTable, so nothing of the service's metadata is lost)."""
    from astropy.io.votable.tree import VOTableFile
    from astropy.table import Table

    job_result = getattr(source, "result_uri", None) if hasattr(source, "phase") else None
    if isinstance(job_result, str) and is_url(job_result):  # pyvo AsyncTAPJob
        return Payload(job_result, TABLE_LOAD_VOTABLE, name or "result")
    if isinstance(getattr(source, "votable", None), VOTableFile):  # pyvo DALResults
        source = source.votable
    if is_url(source):
        mtype = (
            TABLE_LOAD_FITS
            if str(source).lower().endswith((".fits", ".fit"))
            else TABLE_LOAD_VOTABLE
        )
        return Payload(source, mtype, name or _name_from_url(source, "table"))
    if isinstance(source, (bytes, bytearray)):
        kind = sniff(_head(bytes(source[:SNIFF_BYTES])))
        if kind is None:
            raise SampUnreadable("the bytes given are neither a VOTable nor a FITS table")
        path = _scratch_file(files, name or "table", ".fits" if kind == "fits" else ".vot")
        path.write_bytes(bytes(source))
        return Payload(files.publish(path), _table_mtype(kind), name or "table")
    if isinstance(source, (str, os.PathLike)):
        path = _local_path(source)
        kind = sniff(_read_head(path))
        if kind is None:
            raise SampUnreadable(
                f"{path} is neither a VOTable nor a FITS file; send a VOTable (.vot/.xml) "
                "or a FITS table"
            )
        url = files.publish(path) if serve else file_url(path)
        return Payload(url, _table_mtype(kind), name or path.stem)
    if isinstance(source, Table):
        label = name or str(source.meta.get("name") or "table")
        path = _scratch_file(files, label, ".vot")
        source.write(path, format="votable", overwrite=True)
        return Payload(files.publish(path), TABLE_LOAD_VOTABLE, label)
    if isinstance(source, VOTableFile):
        path = _scratch_file(files, name or "table", ".vot")
        source.to_xml(str(path))
        return Payload(files.publish(path), TABLE_LOAD_VOTABLE, name or "table")
    raise SampUnreadable(
        f"cannot send a {type(source).__name__} as a table: give an astropy Table, a VOTable "
        "file or its bytes, or a URL"
    )


def image_payload(
    source: Any,
    files: FileServer,
    *,
    name: str | None = None,
    serve: bool = False,
) -> Payload:
    """A URL for an image: a FITS file, bytes, URL (e.g. a SODA cutout) or astropy HDU."""
    from vo.samp.messages import IMAGE_LOAD_FITS

    if is_url(source):
        return Payload(source, IMAGE_LOAD_FITS, name or _name_from_url(source, "image"))
    if isinstance(source, (bytes, bytearray)):
        if sniff(_head(bytes(source[:SNIFF_BYTES]))) != "fits":
            raise SampUnreadable("the bytes given are not a FITS file")
        path = _scratch_file(files, name or "image", ".fits")
        path.write_bytes(bytes(source))
        return Payload(_image_url(path, files, serve), IMAGE_LOAD_FITS, name or "image")
    if isinstance(source, (str, os.PathLike)):
        path = _local_path(source)
        if sniff(_read_head(path)) != "fits":
            raise SampUnreadable(f"{path} is not a FITS file; image.load.fits needs FITS")
        url = files.publish(path) if serve else file_url(path)
        return Payload(url, IMAGE_LOAD_FITS, name or path.stem)
    from astropy.io import fits

    if isinstance(source, (fits.PrimaryHDU, fits.ImageHDU, fits.CompImageHDU)):
        source = fits.HDUList([fits.PrimaryHDU(source.data, header=source.header)])
    if isinstance(source, fits.HDUList):
        path = _scratch_file(files, name or "image", ".fits")
        source.writeto(path, overwrite=True)
        return Payload(_image_url(path, files, serve), IMAGE_LOAD_FITS, name or "image")
    raise SampUnreadable(
        f"cannot send a {type(source).__name__} as an image: give a FITS file, its bytes, "
        "an astropy HDU or a URL"
    )


def _image_url(path: Path, files: FileServer, serve: bool) -> str:
    """A temporary image goes as a file: URL unless asked to serve it: Aladin 12
    (Debian) fails on http FITS URLs offline (it probes <url>/properties for a HiPS,
    then its autodiscovery hits a null URL: "Data format not recognized")."""
    return files.publish(path) if serve else file_url(path)


def _table_mtype(kind: str) -> str:
    return TABLE_LOAD_FITS if kind == "fits" else TABLE_LOAD_VOTABLE


def _scratch_file(files: FileServer, label: str, suffix: str) -> Path:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in label)[:60] or "data"
    directory = files.scratch_dir
    path = directory / f"{safe}{suffix}"
    n = 1
    while path.exists():
        n += 1
        path = directory / f"{safe}-{n}{suffix}"
    return path


def _name_from_url(url: str, default: str) -> str:
    last = urlparse(url).path.rstrip("/").rsplit("/", 1)[-1]
    return last.rsplit(".", 1)[0] if last and last != "result" else default


__all__ = ["Payload", "file_url", "image_payload", "is_url", "sniff", "table_payload"]
