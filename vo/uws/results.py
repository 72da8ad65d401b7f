"""Where job results (and inline upload parameters) live: a small storage interface.

UWS 1.1 sec. 2.1.12: results are referenced from the job and fetched at
``/{jobs}/{job-id}/results/{result-id}``; sec. 2.2.3.1.1: inline (multipart) parameters
are kept with the job. :class:`ResultStorage` is the interface (an object store can be
added later); :class:`FilesystemResultStorage` keeps ``{root}/{job_id}/results/{id}``
and ``{root}/{job_id}/inputs/{name}``, written to a temporary name and renamed so a
reader never sees half a file.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import IO, BinaryIO, Protocol

from vo.db.jobs import ResultRecord
from vo.uws.errors import BadJobRequest, ResultTooLarge

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def check_name(name: str, what: str) -> str:
    """A result id or input name safe to use as a file name and a URL path segment."""
    if not _NAME.match(name):
        raise BadJobRequest(
            f"{what} {name!r} is not allowed: use 1-128 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit", code="UWS-BAD-NAME")
    return name


class ResultStorage(Protocol):
    """Byte storage for one job's results and inline inputs."""

    def write(self, job_id: str, result_id: str) -> AbstractContextManager[BinaryIO]: ...

    def open_result(self, job_id: str, result_id: str) -> tuple[BinaryIO, int] | None: ...

    def save_input(self, job_id: str, name: str, stream: IO[bytes], max_bytes: int) -> int: ...

    def open_input(self, job_id: str, name: str) -> BinaryIO | None: ...

    def delete_job(self, job_id: str) -> None: ...


class FilesystemResultStorage:
    """Results as files below a root directory (``settings.results_dir``)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _job_dir(self, job_id: str) -> Path:
        return self.root / check_name(job_id, "job id")

    def write(self, job_id: str, result_id: str) -> AbstractContextManager[BinaryIO]:
        """A binary file for one result; it appears under its name only when complete."""
        return _atomic(self._job_dir(job_id) / "results" / check_name(result_id, "result id"))

    def open_result(self, job_id: str, result_id: str) -> tuple[BinaryIO, int] | None:
        path = self._job_dir(job_id) / "results" / check_name(result_id, "result id")
        try:
            fh = open(path, "rb")  # noqa: SIM115 - the caller streams and closes it
        except FileNotFoundError:
            return None
        return fh, os.fstat(fh.fileno()).st_size

    def save_input(self, job_id: str, name: str, stream: IO[bytes], max_bytes: int) -> int:
        """Store an inline parameter (UWS 1.1 sec. 2.2.3.1.1); refuse more than max_bytes."""
        target = self._job_dir(job_id) / "inputs" / check_name(name, "upload name")
        with _atomic(target) as fh:
            return _copy_limited(stream, fh, max_bytes, f"upload {name!r}")

    def open_input(self, job_id: str, name: str) -> BinaryIO | None:
        try:
            return open(self._job_dir(job_id) / "inputs" / check_name(name, "upload name"), "rb")
        except FileNotFoundError:
            return None

    def delete_job(self, job_id: str) -> None:
        shutil.rmtree(self._job_dir(job_id), ignore_errors=True)


@contextmanager
def _atomic(target: Path) -> Iterator[BinaryIO]:
    """Write to a temporary file beside ``target``, renamed over it only on success."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".part-")
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _copy_limited(src: IO[bytes], dst: BinaryIO, max_bytes: int, what: str) -> int:
    total = 0
    while True:
        chunk = src.read(1 << 20)
        if not chunk:
            return total
        total += len(chunk)
        if total > max_bytes:
            raise ResultTooLarge(f"{what} is larger than the limit of {max_bytes} bytes",
                                 code="UWS-UPLOAD-SIZE")
        dst.write(chunk)


class _CountingWriter:
    """A write-only binary stream that stops a job writing more than its byte budget."""

    def __init__(self, fh: BinaryIO, sink: ResultSink, result_id: str) -> None:
        self._fh = fh
        self._sink = sink
        self._result_id = result_id
        self.size = 0

    def write(self, data: bytes | bytearray | memoryview) -> int:
        n = len(data)
        self._sink._charge(n)
        self.size += n
        return self._fh.write(data)

    def writable(self) -> bool:
        return True

    def flush(self) -> None:
        self._fh.flush()

    def __getattr__(self, name: str) -> object:  # seek/tell/fileno for writers that need them
        return getattr(self._fh, name)


class ResultSink:
    """What a runner writes its results through (one per job execution).

    ``with sink.open("result", "application/x-votable+xml") as out: out.write(...)``;
    the total of all results is bounded by ``max_bytes``.
    """

    def __init__(self, storage: ResultStorage, job_id: str, max_bytes: int) -> None:
        self._storage = storage
        self._job_id = job_id
        self.max_bytes = max_bytes
        self._used = 0
        self.records: list[ResultRecord] = []

    def _charge(self, n: int) -> None:
        self._used += n
        if self._used > self.max_bytes:
            raise ResultTooLarge(
                f"the job's results exceed the limit of {self.max_bytes} bytes: "
                "ask for fewer rows (MAXREC) or columns")

    @contextmanager
    def open(self, result_id: str, mime_type: str) -> Iterator[BinaryIO]:
        with self._storage.write(self._job_id, result_id) as fh:
            counting = _CountingWriter(fh, self, result_id)
            yield counting  # type: ignore[misc]
        self.records = [r for r in self.records if r.result_id != result_id]
        self.records.append(ResultRecord(result_id, mime_type, counting.size))
