"""Smoke checks with the real clients astronomers use: pyvo, astroquery, stilts tapquery.

Each check runs the client unmodified against the live service (TAP 1.1 sec. 2.1 sync,
sec. 2.2 async through UWS 1.1, sec. 2.5 VOSI tables, sec. 2.7.3 UPLOAD) and compares
what it got with rows we know: the first Hipparcos numbers are 1, 2, 3...
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable

from conformance.report import Check, Status

QUERY = "SELECT TOP 3 hip FROM hipparcos.hip2 ORDER BY hip"
EXPECTED = [1, 2, 3]


def _pyvo_sync(tap: str) -> str:
    import pyvo

    rows = list(pyvo.dal.TAPService(tap).search(QUERY).to_table()["hip"])
    assert rows == EXPECTED, f"got {rows}"
    return "sync search: 3 rows"


def _pyvo_async(tap: str) -> str:
    import pyvo

    rows = list(pyvo.dal.TAPService(tap).run_async(QUERY).to_table()["hip"])
    assert rows == EXPECTED, f"got {rows}"
    return "run_async: 3 rows"


def _pyvo_tables(tap: str) -> str:
    import pyvo

    names = {t.name for t in pyvo.dal.TAPService(tap).tables}
    missing = {"hipparcos.hip2", "gaia.dr3_bright", "tap_schema.tables"} - {
        n.lower() for n in names}
    assert not missing, f"VOSI tables lacks {sorted(missing)}"
    return f"{len(names)} tables"


def _pyvo_upload(tap: str) -> str:
    import numpy as np
    import pyvo
    from astropy.table import Table

    up = Table({"k": np.array([7, 8, 9], dtype=np.int32)})
    rows = list(pyvo.dal.TAPService(tap).search("SELECT k FROM TAP_UPLOAD.mine ORDER BY k",
                                                uploads={"mine": up}).to_table()["k"])
    assert rows == [7, 8, 9], f"got {rows}"
    return "inline upload round trip"


def _astroquery_sync(tap: str) -> str:
    from astroquery.utils.tap.core import TapPlus

    rows = list(TapPlus(url=tap, verbose=False).launch_job(QUERY).get_results()["hip"])
    assert rows == EXPECTED, f"got {rows}"
    return "TapPlus.launch_job: 3 rows"


def _astroquery_async(tap: str) -> str:
    from astroquery.utils.tap.core import TapPlus

    job = TapPlus(url=tap, verbose=False).launch_job_async(QUERY)
    rows = list(job.get_results()["hip"])
    assert rows == EXPECTED, f"got {rows}"
    return "TapPlus.launch_job_async: 3 rows"


def _stilts(tap: str, sync: bool) -> str:
    proc = subprocess.run(["stilts", "tapquery", f"tapurl={tap}", f"adql={QUERY}",
                           f"sync={'true' if sync else 'false'}", "ofmt=csv", "out=-"],
                          capture_output=True, text=True, timeout=180, check=False)
    assert proc.returncode == 0, proc.stderr.strip()[-400:]
    got = proc.stdout.split()
    assert got == ["hip", *map(str, EXPECTED)], f"got {got}"
    return f"{'sync' if sync else 'async'}: 3 rows"


CLIENTS: dict[str, Callable[[str], str]] = {
    "pyvo-sync": _pyvo_sync,
    "pyvo-async": _pyvo_async,
    "pyvo-tables": _pyvo_tables,
    "pyvo-upload": _pyvo_upload,
    "astroquery-sync": _astroquery_sync,
    "astroquery-async": _astroquery_async,
    "stilts-tapquery-sync": lambda tap: _stilts(tap, True),
    "stilts-tapquery-async": lambda tap: _stilts(tap, False),
}


def run_clients(tap: str) -> list[Check]:
    """Every client check; a missing client is a skip, an exception a failure."""
    out = []
    for name, fn in CLIENTS.items():
        if name.startswith("stilts") and shutil.which("stilts") is None:
            out.append(Check("client", name, "skip", "stilts is not installed"))
            continue
        t0 = time.monotonic()
        status: Status
        try:
            detail = fn(tap)
            status = "pass"
        except ImportError as exc:
            status, detail = "skip", f"client not installed: {exc}"
        except Exception as exc:  # noqa: BLE001 - any client failure is the check's verdict
            status, detail = "fail", f"{type(exc).__name__}: {str(exc)[:400]}"
        out.append(Check("client", name, status, detail, time.monotonic() - t0))
    return out
