"""Bad input gives one clear error each, from the API and the CLI, on both hubs."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from samp_data import write_votable
from samp_desktop import Hub

from vo.cli.samp import samp as samp_cli
from vo.samp import (
    NO_HUB_MESSAGE,
    Samp,
    SampHubNotFound,
    SampNotSubscribed,
    SampUnknownClient,
    SampUnreadable,
)


def test_no_hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAMP_HUB", f"std-lockurl:file://{tmp_path}/.samp")
    with pytest.raises(SampHubNotFound) as err:
        Samp("vo-test")
    assert err.value.message == "no SAMP hub: start TOPCAT or run `vo samp hub`"
    assert err.value.code == "SAMP-NO-HUB"

    result = CliRunner().invoke(samp_cli, ["clients"])
    assert result.exit_code == 1
    assert result.output.strip() == f"Error: SAMP-NO-HUB: {NO_HUB_MESSAGE}"


def test_stale_lockfile_counts_as_no_hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A lockfile left by a killed hub (nothing listens at its URL) is no hub."""
    (tmp_path / ".samp").write_text("samp.secret=x\nsamp.hub.xmlrpc.url=http://127.0.0.1:9/\n")
    monkeypatch.setenv("SAMP_HUB", f"std-lockurl:file://{tmp_path}/.samp")
    with pytest.raises(SampHubNotFound, match="start TOPCAT or run `vo samp hub`") as err:
        Samp("vo-test")
    assert "stale lockfile" in (err.value.detail or "")


def test_unknown_recipient(hub: Hub, tmp_path: Path) -> None:
    table = tmp_path / "t.vot"
    write_votable(table)
    with Samp("vo-test") as samp:
        with pytest.raises(SampUnknownClient, match="no SAMP client 'topcat' is registered"):
            samp.send_table(table, "topcat")
    result = CliRunner().invoke(samp_cli, ["send", str(table), "--to", "nosuchtool"])
    assert result.exit_code == 1
    assert "SAMP-UNKNOWN-CLIENT: no SAMP client 'nosuchtool' is registered" in result.output


def test_unreadable_file(hub: Hub, tmp_path: Path) -> None:
    missing = tmp_path / "missing.vot"
    not_a_table = tmp_path / "notes.txt"
    not_a_table.write_text("just some text\n")
    with Samp("vo-test") as samp:
        with pytest.raises(SampUnreadable, match="No such file or directory"):
            samp.broadcast_table(missing)
        with pytest.raises(SampUnreadable, match="neither a VOTable nor a FITS file"):
            samp.broadcast_table(not_a_table)
        with pytest.raises(SampUnreadable, match="is not a FITS file"):
            samp.broadcast_image(_votable(tmp_path))
        with pytest.raises(SampUnreadable, match="is a directory"):
            samp.broadcast_table(tmp_path)
    result = CliRunner().invoke(samp_cli, ["image", str(missing)])
    assert result.exit_code == 1
    assert f"SAMP-UNREADABLE: cannot read {missing}: No such file or directory" in result.output


def _votable(d: Path) -> Path:
    path = d / "table.vot"
    write_votable(path)
    return path


def test_recipient_not_subscribed(hub: Hub, tmp_path: Path) -> None:
    """The hub's own client accepts only hub MTypes: a table sent to it is refused;
    with no image viewer registered, an image broadcast has nobody to go to."""
    with Samp("vo-test") as samp:
        hub_client = next(
            c
            for c in samp.clients()
            if "samp.app.ping" in c.subscriptions and "table.load.votable" not in c.subscriptions
        )
        with pytest.raises(
            SampNotSubscribed, match=f"{hub_client.name} does not accept table.load.votable"
        ):
            samp.send_table(_votable(tmp_path), hub_client.id)
        with pytest.raises(
            SampNotSubscribed, match="no registered SAMP client accepts image.load.fits"
        ):
            samp.broadcast_image(_fits(tmp_path))


def _fits(d: Path) -> Path:
    from samp_data import write_image

    path = d / "i.fits"
    write_image(path)
    return path
