"""What we send for each kind of input: URLs as they are, files as checked file: URLs."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits
from astropy.table import Table

from vo.samp import SampUnreadable
from vo.samp.fileserver import FileServer
from vo.samp.messages import IMAGE_LOAD_FITS, TABLE_LOAD_FITS, TABLE_LOAD_VOTABLE
from vo.samp.payloads import file_url, image_payload, sniff, table_payload

RESULT_URL = "http://data.example.org/tap/async/42/results/result"


@pytest.fixture
def files() -> FileServer:
    return FileServer()  # nothing published in these tests: no server starts


def votable(path: Path) -> Path:
    Table({"ra": [1.5, 2.5]}).write(path, format="votable")
    return path


def test_sniff_tells_votable_fits_and_other() -> None:
    assert sniff(b'<?xml version="1.0"?>\n<VOTABLE version="1.4">') == "votable"
    assert sniff(b"\xef\xbb\xbf<vot:VOTABLE xmlns:vot='x'>") == "votable"
    assert sniff(b"SIMPLE  =                    T") == "fits"
    assert sniff(b"ra,dec\n1,2\n") is None
    assert (
        sniff(b"<?xml version='1.0'?><!-- made by x --><!DOCTYPE VOTABLE>\n<VOTABLE>") == "votable"
    )
    assert sniff(b"<html><body>VOTABLE</body>") is None
    assert sniff(b"<VOTABLEX>") is None


def test_url_goes_unchanged(files: FileServer) -> None:
    p = table_payload(RESULT_URL, files)
    assert (p.url, p.mtype, p.name) == (RESULT_URL, TABLE_LOAD_VOTABLE, "table")
    assert table_payload("http://h/cat.fits", files).mtype == TABLE_LOAD_FITS
    assert image_payload("http://h/soda?ID=x&CIRCLE=1+2+3", files).mtype == IMAGE_LOAD_FITS


def test_local_votable_goes_as_file_url(tmp_path: Path, files: FileServer) -> None:
    path = votable(tmp_path / "my sources.vot")
    p = table_payload(path, files)
    assert p.url == f"file://localhost{tmp_path}/my%20sources.vot" == file_url(path)
    assert (p.mtype, p.name) == (TABLE_LOAD_VOTABLE, "my sources")


def test_gzipped_votable_is_recognised(tmp_path: Path, files: FileServer) -> None:
    raw = votable(tmp_path / "t.vot").read_bytes()
    gz = tmp_path / "t.vot.gz"
    gz.write_bytes(gzip.compress(raw))
    assert table_payload(gz, files).mtype == TABLE_LOAD_VOTABLE


def test_fits_table_goes_as_table_load_fits(tmp_path: Path, files: FileServer) -> None:
    path = tmp_path / "t.fits"
    Table({"a": [1, 2]}).write(path, format="fits")
    assert table_payload(path, files, name="cat").mtype == TABLE_LOAD_FITS


def test_image_must_be_fits(tmp_path: Path, files: FileServer) -> None:
    img = tmp_path / "i.fits"
    fits.PrimaryHDU(np.zeros((4, 4), dtype=np.float32)).writeto(img)
    assert image_payload(img, files).url == file_url(img)
    with pytest.raises(SampUnreadable, match="is not a FITS file; image.load.fits needs FITS"):
        image_payload(votable(tmp_path / "t.vot"), files)


def test_unreadable_inputs(tmp_path: Path, files: FileServer) -> None:
    with pytest.raises(SampUnreadable, match=r"cannot read .*nope.vot: No such file or directory"):
        table_payload(tmp_path / "nope.vot", files)
    with pytest.raises(SampUnreadable, match="is a directory"):
        table_payload(tmp_path, files)
    csv = tmp_path / "t.csv"
    csv.write_text("ra,dec\n1,2\n")
    with pytest.raises(SampUnreadable, match="neither a VOTable nor a FITS file"):
        table_payload(csv, files)
    with pytest.raises(SampUnreadable, match="the bytes given are neither"):
        table_payload(b"ra,dec\n", files)
    with pytest.raises(SampUnreadable, match="cannot send a dict as a table"):
        table_payload({"ra": [1]}, files)
    with pytest.raises(SampUnreadable, match="cannot send a int as an image"):
        image_payload(3, files)


def test_in_memory_image_goes_as_file_url_written_once(files: FileServer) -> None:
    hdu = fits.PrimaryHDU(np.ones((8, 8), dtype=np.float32))
    try:
        p = image_payload(hdu, files, name="cutout")
        assert p.url.startswith("file://localhost/") and p.url.endswith("/cutout.fits")
        written = files.scratch_dir / "cutout.fits"
        assert fits.getdata(written).sum() == 64
    finally:
        files.close()
    assert not written.exists()
