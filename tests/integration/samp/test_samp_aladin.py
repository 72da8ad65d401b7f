"""Images reach Aladin and Aladin looks where we point it.

Aladin answers ``image.load.fits`` only after the plane has loaded, centres its view
on the new image (so ``coord.get.sky`` ~ the FITS CRVAL proves the WCS was read),
and pans on ``coord.pointAt.sky``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from astropy.io import fits
from click.testing import CliRunner
from samp_data import CENTRE, source_table, write_image
from samp_desktop import Hub

from vo.cli.samp import samp as samp_cli
from vo.samp import Samp
from vo.samp.messages import GET_SKY, STATUS_OK, message

# 18 arcsec pixels: the view centre lands within a pixel or two of CRVAL
TOLERANCE_DEG = 0.02


def view_centre_near(
    samp: Samp, aladin: str, ra: float, dec: float, timeout: float = 20
) -> dict[str, Any]:
    """Poll coord.get.sky until the view centre is near (ra, dec); the last answer."""
    deadline = time.monotonic() + timeout
    while True:
        result = samp.send(message(GET_SKY), aladin).replies[0].result
        near = (
            abs(float(result["ra"]) - ra) < TOLERANCE_DEG
            and abs(float(result["dec"]) - dec) < TOLERANCE_DEG
        )
        if near or time.monotonic() > deadline:
            assert near, f"Aladin's view centre {result} is not near ({ra}, {dec})"
            return result
        time.sleep(0.3)


def test_image_arrives_in_aladin_centred_and_point_at_pans(
    hub: Hub, aladin: str, tmp_path: Path
) -> None:
    image = tmp_path / "m31.fits"
    write_image(image)
    with Samp("vo-test") as samp:
        delivery = samp.broadcast_image(image, name="m31_image")
        [reply] = [r for r in delivery.replies if r.client_name == aladin]
        assert reply.status == STATUS_OK, reply
        view_centre_near(samp, aladin, *CENTRE)

        target = (CENTRE[0] + 0.05, CENTRE[1] - 0.04)
        assert samp.point_at(*target, to=aladin).replies[0].status == STATUS_OK
        view_centre_near(samp, aladin, *target)

        # a table over the image: Aladin loads it and highlights one of its rows
        table = samp.send_table(source_table(), aladin, name="m31_sources")
        assert table.replies[0].status == STATUS_OK
        assert samp.highlight_row(table, 2, to=aladin).replies[0].status == STATUS_OK
        assert samp.select_rows(table, [0, 1], to=aladin).replies[0].status == STATUS_OK


def test_cli_image_and_in_memory_hdu_load_in_aladin(hub: Hub, aladin: str, tmp_path: Path) -> None:
    image = tmp_path / "m31.fits"
    write_image(image)
    result = CliRunner().invoke(samp_cli, ["image", str(image), "--to", "Aladin"])
    assert result.exit_code == 0, result.output
    assert "Aladin" in result.output and "samp.ok" in result.output
    with Samp("vo-test") as samp:
        view_centre_near(samp, aladin, *CENTRE)
        # an HDU made in Python: written once to a temporary file, then loaded
        hdu = fits.open(image)[0]
        hdu.header["CRVAL1"], hdu.header["CRVAL2"] = 150.1, 2.2  # COSMOS
        delivery = samp.send_image(hdu, aladin, name="cosmos")
        assert delivery.replies[0].status == STATUS_OK
        view_centre_near(samp, aladin, 150.1, 2.2)
    log = (hub.dir / "aladin.log").read_text(errors="replace")
    assert "Plane [cosmos] load&build" in log
