"""Collect every kind of XML document the running suite emits, with real requests.

VOSI 1.1 sec. 3: capabilities, availability, tables (detail=min and max, one table);
UWS 1.1 sec. 2.2.2: the job list and a job (a real async TAP job, run to COMPLETED,
and one that ends in ERROR, with its errorSummary); TAP 1.1 sec. 3 / DALI 1.1 sec. 4.4:
result VOTables in each serialisation (BINARY2, BINARY, TABLEDATA), an overflowed
result (MAXREC) and error documents (sync and async). Protocols not mounted yet (SIA,
the OAI-PMH registry) are probed and reported as absent, not failed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import requests

QUERY = "SELECT TOP 50 hip, ra, dec, plx, hpmag FROM hipparcos.hip2 ORDER BY hip"
WIDE_QUERY = "SELECT TOP 20 * FROM gaia.dr3_bright ORDER BY source_id"
SERIALISATIONS = {"binary2": "votable/b2", "binary": "votable/b", "tabledata": "votable/td",
                  "default": "votable"}
OPTIONAL_ENDPOINTS = {
    "sia2-query": ("/sia/query", {"POS": "CIRCLE 10 10 1", "MAXREC": "5"}),
    "oai-identify": ("/oai", {"verb": "Identify"}),
    "oai-listrecords": ("/oai", {"verb": "ListRecords", "metadataPrefix": "ivo_vor"}),
}


@dataclass
class Document:
    """One document as the service sent it."""

    name: str
    url: str
    status: int
    content_type: str
    body: bytes
    votable: bool = False
    problem: str = ""
    """Why the document could not be fetched as expected (empty when it was)."""


class DocumentCollector:
    """Fetches the documents from a base URL (``http://127.0.0.1:PORT``)."""

    def __init__(self, base: str, out_dir: Path, timeout: float = 120) -> None:
        self.base = base.rstrip("/")
        self.tap = self.base + "/tap"
        self.out_dir = out_dir
        self.timeout = timeout
        self.http = requests.Session()
        self.docs: list[Document] = []
        self.absent: list[str] = []

    def _keep(self, name: str, resp: requests.Response, votable: bool = False,
              problem: str = "") -> Document:
        doc = Document(name, resp.url, resp.status_code, resp.headers.get("Content-Type", ""),
                       resp.content, votable, problem)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        (self.out_dir / f"{name}.{'vot' if votable else 'xml'}").write_bytes(resp.content)
        self.docs.append(doc)
        return doc

    def get(self, name: str, path: str, params: dict[str, str] | None = None,
            votable: bool = False, expect: int = 200) -> Document:
        resp = self.http.get(self.base + path, params=params, timeout=self.timeout)
        problem = "" if resp.status_code == expect else (
            f"HTTP {resp.status_code} (expected {expect}) from {resp.url}")
        return self._keep(name, resp, votable, problem)

    def collect(self) -> list[Document]:
        """Fetch everything; a failing request becomes a document with a problem."""
        for step in (self._vosi, self._results, self._errors, self._uws, self._optional):
            try:
                step()
            except requests.RequestException as exc:
                self.docs.append(Document(step.__name__.strip("_"), self.base, 0, "", b"",
                                          problem=f"request failed: {exc}"))
        return self.docs

    def _vosi(self) -> None:
        self.get("vosi-capabilities", "/tap/capabilities")
        self.get("vosi-availability", "/tap/availability")
        self.get("vosi-tables", "/tap/tables")
        self.get("vosi-tables-detail-max", "/tap/tables", {"detail": "max"})
        self.get("vosi-tables-detail-min", "/tap/tables", {"detail": "min"})
        self.get("vosi-table-hipparcos.hip2", "/tap/tables/hipparcos.hip2")

    def _results(self) -> None:
        for name, fmt in SERIALISATIONS.items():
            self.get(f"result-{name}", "/tap/sync",
                     {"REQUEST": "doQuery", "LANG": "ADQL", "QUERY": QUERY,
                      "RESPONSEFORMAT": fmt}, votable=True)
            self.get(f"result-wide-{name}", "/tap/sync",
                     {"LANG": "ADQL", "QUERY": WIDE_QUERY, "RESPONSEFORMAT": fmt}, votable=True)
        self.get("result-overflow", "/tap/sync",
                 {"LANG": "ADQL", "QUERY": "SELECT hip FROM hipparcos.hip2", "MAXREC": "5"},
                 votable=True)
        self.get("result-tap-schema", "/tap/sync",
                 {"LANG": "ADQL", "QUERY": "SELECT * FROM TAP_SCHEMA.columns"}, votable=True)

    def _errors(self) -> None:
        self.get("error-syntax", "/tap/sync",
                 {"LANG": "ADQL", "QUERY": "SELECT FROM WHERE"}, votable=True, expect=400)
        self.get("error-unknown-table", "/tap/sync",
                 {"LANG": "ADQL", "QUERY": "SELECT * FROM no_such.table"}, votable=True,
                 expect=400)
        self.get("error-bad-lang", "/tap/sync",
                 {"LANG": "SQL9", "QUERY": "SELECT 1"}, votable=True, expect=400)

    def _job(self, query: str, name: str, final: str) -> str:
        """Create a job (UWS 1.1 sec. 2.2.3.1), keep its PENDING document, run it, wait."""
        resp = self.http.post(self.tap + "/async", data={"REQUEST": "doQuery", "LANG": "ADQL",
                                                         "QUERY": query}, timeout=self.timeout,
                              allow_redirects=False)
        if resp.status_code != 303 or "Location" not in resp.headers:
            self._keep(f"uws-job-{name}-create", resp,
                       problem=f"job creation answered HTTP {resp.status_code}, expected 303")
            return ""
        job = resp.headers["Location"]
        if not job.startswith("http"):
            job = self.base + job
        self._keep(f"uws-job-{name}-pending", self.http.get(job, timeout=self.timeout))
        self.http.post(job + "/phase", data={"PHASE": "RUN"}, timeout=self.timeout)
        deadline = time.monotonic() + 120
        phase = self.http.get(job + "/phase", timeout=self.timeout).text.strip()
        while phase not in ("COMPLETED", "ERROR", "ABORTED") and time.monotonic() < deadline:
            # UWS 1.1 sec. 2.2.1.2: block while the job is still in the phase we saw
            self.http.get(job, params={"WAIT": "10", "PHASE": phase}, timeout=self.timeout)
            phase = self.http.get(job + "/phase", timeout=self.timeout).text.strip()
        doc = self._keep(f"uws-job-{name}-{final.lower()}", self.http.get(job,
                                                                          timeout=self.timeout))
        if phase != final:
            doc.problem = f"job {job} ended in phase {phase or '?'}, expected {final}"
        return job

    def _uws(self) -> None:
        job = self._job(QUERY, "query", "COMPLETED")
        if job:
            self.get("uws-async-result", job.removeprefix(self.base) + "/results/result",
                     votable=True)
        bad = self._job("SELECT * FROM no_such.table", "bad-query", "ERROR")
        if bad:
            self.get("uws-async-error", bad.removeprefix(self.base) + "/error", votable=True)
        self.get("uws-joblist", "/tap/async")
        self.get("uws-joblist-completed", "/tap/async", {"PHASE": "COMPLETED"})

    def _optional(self) -> None:
        for name, (path, params) in OPTIONAL_ENDPOINTS.items():
            resp = self.http.get(self.base + path, params=params, timeout=self.timeout)
            if resp.status_code == 404:
                self.absent.append(name)
                continue
            self._keep(name, resp, votable=path.startswith("/sia"),
                       problem="" if resp.ok else f"HTTP {resp.status_code} from {resp.url}")


def is_votable(doc: Document) -> bool:
    """True when the body's root element is a VOTABLE (what votlint can check)."""
    return doc.votable and b"<VOTABLE" in doc.body[:2000]
