"""Tables reach TOPCAT intact: values, units, UCDs; URLs load; rows highlight/select.

Proof of receipt is TOPCAT itself: ``table.highlight.row`` with our table-id only
succeeds if TOPCAT holds that table, and ``table.get.stil`` hands back TOPCAT's
copy of it, which we compare column by column with what we sent.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from astropy.table import Table
from click.testing import CliRunner
from samp_data import source_table, write_image, write_votable
from samp_desktop import Hub, call_until_ok, topcat_current_table

from vo.cli.samp import samp as samp_cli
from vo.samp import Samp, SampNotSubscribed
from vo.samp.messages import STATUS_OK, highlight_row


def assert_same_table(sent: Table, back: Table) -> None:
    assert back.colnames == sent.colnames
    assert len(back) == len(sent)
    for name in sent.colnames:
        assert np.array_equal(np.asarray(back[name]), np.asarray(sent[name])), name
        assert back[name].unit == sent[name].unit, name
        assert back[name].meta.get("ucd") == sent[name].meta.get("ucd"), name
        assert back[name].description == sent[name].description, name


def test_table_broadcast_arrives_in_topcat_with_identical_values_and_units(
    hub: Hub, topcat: str, tmp_path: Path
) -> None:
    sent = source_table()
    with Samp("vo-test") as samp:
        delivery = samp.broadcast_table(sent)
        by_name = {r.client_name: r for r in delivery.replies}
        assert by_name["topcat"].status == STATUS_OK, by_name

        # TOPCAT holds a table under our table-id ...
        assert call_until_ok(samp, topcat, highlight_row(delivery.ident, delivery.url, 0)).ok
        # ... and its copy has our values, units, UCDs and descriptions
        data, _ = topcat_current_table(samp, "votable")
        assert_same_table(sent, Table.read(io.BytesIO(data), format="votable"))

        assert samp.highlight_row(delivery, 3, to=topcat).replies[0].status == STATUS_OK
        assert samp.select_rows(delivery, [1, 4, 5], to=topcat).replies[0].status == STATUS_OK
        # TOPCAT accepts coord.pointAt.sky but only acts on it with a sky plot open:
        # it answers samp.warning (a success with a remark, SAMP 1.3 sec. 3.9)
        reply = samp.point_at(10.684, 41.269, to=topcat).replies[0]
        assert reply.ok and reply.status == "samp.warning", reply
        assert "not used" in reply.error

        # TOPCAT does not subscribe to image.load.fits: a clear error, nothing sent
        image = tmp_path / "m31.fits"
        write_image(image)
        with pytest.raises(SampNotSubscribed, match="topcat does not accept image.load.fits"):
            samp.send_image(image, topcat)


class _TapLikeResult(BaseHTTPRequestHandler):
    """Serves one VOTable at a TAP async result path (TAP 1.1 sec. 2.2.3)."""

    body = b""

    def do_GET(self) -> None:  # noqa: N802
        if self.path != "/tap/async/job42/results/result":
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/x-votable+xml")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)
        type(self).fetches += 1

    fetches = 0

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def tap_result_url(tmp_path: Path) -> Iterator[tuple[str, Table]]:
    path = tmp_path / "result.vot"
    table = write_votable(path)
    handler = type("Handler", (_TapLikeResult,), {"body": path.read_bytes(), "fetches": 0})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/tap/async/job42/results/result", table
    finally:
        server.shutdown()
        server.server_close()


def test_tap_result_url_loads_in_topcat_via_cli(
    hub: Hub, topcat: str, tap_result_url: tuple[str, Table]
) -> None:
    url, sent = tap_result_url
    result = CliRunner().invoke(samp_cli, ["send", url, "--to", "topcat", "--name", "job42"])
    assert result.exit_code == 0, result.output
    assert "topcat" in result.output and "samp.ok" in result.output
    with Samp("vo-test") as samp:
        data, _ = topcat_current_table(samp, "votable")
    assert_same_table(sent, Table.read(io.BytesIO(data), format="votable"))


def test_votable_bytes_are_written_once_and_served(hub: Hub, topcat: str, tmp_path: Path) -> None:
    """A result held in memory goes as a temporary file served over HTTP, fetched once."""
    path = tmp_path / "query_result.vot"
    sent = write_votable(path, nrows=11)
    with Samp("vo-test") as samp:
        delivery = samp.send_table(path.read_bytes(), topcat, name="query_result")
        assert delivery.url is not None and delivery.url.startswith(samp.files.base_url)
        assert delivery.replies[0].status == STATUS_OK
        [served] = samp.files.published
        assert served.read_bytes() == path.read_bytes()
        assert samp.files.fetch_count(served) == 1
        data, _ = topcat_current_table(samp, "votable")
        assert_same_table(sent, Table.read(io.BytesIO(data), format="votable"))
    assert not served.exists(), "temporary file must be removed on close()"
