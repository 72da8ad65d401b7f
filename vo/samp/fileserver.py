"""A tiny HTTP server on 127.0.0.1 that serves the files the bridge sends.

A table made in Python (an astropy Table, VOTable bytes, a query result) is written
ONCE to a temporary file and served from here, so every recipient fetches the same
bytes with all their metadata; a TAP sync URL instead would re-run the query on each
fetch. Only files registered with ``publish`` are served, each under an unguessable
token; nothing else on disk is reachable. Bound to loopback: SAMP's Standard
Profile connects tools on one host (SAMP 1.3 sec. 4).
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, unquote, urlparse

CONTENT_TYPES = {
    ".vot": "application/x-votable+xml",
    ".xml": "application/x-votable+xml",
    ".fits": "application/fits",
    ".fit": "application/fits",
}


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        self._answer(body=True)

    def do_HEAD(self) -> None:  # noqa: N802
        self._answer(body=False)

    def _answer(self, body: bool) -> None:
        path = self.server.files.get(unquote(urlparse(self.path).path))
        if path is None or not path.is_file():
            self.send_error(HTTPStatus.NOT_FOUND, "not published by this SAMP bridge")
            return
        size = path.stat().st_size
        self.send_response(HTTPStatus.OK)
        self.send_header(
            "Content-Type", CONTENT_TYPES.get(path.suffix.lower(), "application/octet-stream")
        )
        self.send_header("Content-Length", str(size))
        # Web Profile clients (browser pages) may fetch too (SAMP 1.3 sec. 5.4)
        self.send_header("Access-Control-Allow-Origin", "*")
        # counted before the bytes go out: a client that has read them sees the count
        self.server.fetches[str(path)] = self.server.fetches.get(str(path), 0) + 1
        self.end_headers()
        if body:
            with path.open("rb") as fh:
                shutil.copyfileobj(fh, self.wfile)

    def log_message(self, format: str, *args: object) -> None:  # quiet: no stderr noise
        return


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    files: dict[str, Path]
    fetches: dict[str, int]


class FileServer:
    """Serves published files over http://127.0.0.1:<port>/<token>/<name>.

    ``scratch_dir`` is a private temporary directory for files written on the fly;
    it and everything in it is removed by ``close()``.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._host = host
        self._port = port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._scratch: tempfile.TemporaryDirectory[str] | None = None
        self._lock = threading.Lock()

    @property
    def scratch_dir(self) -> Path:
        """A private directory for temporary files (created on first use)."""
        with self._lock:
            if self._scratch is None:
                self._scratch = tempfile.TemporaryDirectory(prefix="vo-samp-")
            return Path(self._scratch.name)

    def _ensure_started(self) -> _Server:
        with self._lock:
            if self._server is None:
                server = _Server((self._host, self._port), _Handler)
                server.files = {}
                server.fetches = {}
                self._thread = threading.Thread(
                    target=server.serve_forever, name="samp-file-server", daemon=True
                )
                self._thread.start()
                self._server = server
            return self._server

    @property
    def base_url(self) -> str:
        server = self._ensure_started()
        return f"http://{self._host}:{server.server_address[1]}"

    def publish(self, path: Path) -> str:
        """Serve ``path`` (an existing file) and return its URL."""
        server = self._ensure_started()
        url_path = f"/{secrets.token_urlsafe(12)}/{quote(path.name)}"
        server.files[unquote(url_path)] = path.resolve()
        return self.base_url + url_path

    @property
    def published(self) -> list[Path]:
        """Every file published so far."""
        return [] if self._server is None else list(self._server.files.values())

    def fetch_count(self, path: Path) -> int:
        """How many times ``path`` has been fetched (for tests and the CLI's wait)."""
        return 0 if self._server is None else self._server.fetches.get(str(path.resolve()), 0)

    def close(self) -> None:
        """Stop serving and delete the scratch directory."""
        with self._lock:
            if self._server is not None:
                self._server.shutdown()
                self._server.server_close()
                self._server = None
            if self._scratch is not None:
                self._scratch.cleanup()
                self._scratch = None


__all__ = ["FileServer"]
