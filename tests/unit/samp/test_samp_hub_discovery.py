"""Standard Profile hub discovery (SAMP 1.3 sec. 4.3): SAMP_HUB, lockfile parsing."""

from __future__ import annotations

from pathlib import Path

import pytest

from vo.samp import NO_HUB_MESSAGE, SampHubNotFound, find_hub
from vo.samp.hub import lockfile_location, lockfile_path, read_lockfile

LOCKFILE = """# SAMP lockfile written on 2026-11-21T14:28:02
# Standard Profile required keys
samp.secret=c1fde164-e5b7
samp.hub.xmlrpc.url=http://127.0.0.1:38159/xmlrpc
samp.profile.version=1.3
hub.label = vo-suite hub with = sign
"""


def test_samp_hub_names_the_lockfile_url() -> None:
    assert (
        lockfile_location({"SAMP_HUB": "std-lockurl:file:///tmp/d/.samp"}) == "file:///tmp/d/.samp"
    )


def test_without_samp_hub_the_lockfile_is_home_dot_samp() -> None:
    assert lockfile_location({}) == str(Path.home() / ".samp")


def test_samp_hub_of_another_profile_is_refused_with_the_no_hub_message() -> None:
    with pytest.raises(SampHubNotFound) as err:
        lockfile_location({"SAMP_HUB": "web-lockurl:http://x/y"})
    assert err.value.message == NO_HUB_MESSAGE
    assert "std-lockurl" in (err.value.detail or "")


@pytest.mark.parametrize(
    "location", ["file:///tmp/d/.samp", "file://localhost/tmp/d/.samp", "/tmp/d/.samp"]
)
def test_lockfile_locations_map_to_local_paths(location: str) -> None:
    assert lockfile_path(location) == Path("/tmp/d/.samp")


def test_http_lockfile_urls_are_not_local() -> None:
    assert lockfile_path("http://127.0.0.1/x/.samp") is None


def test_lockfile_keys_values_and_comments(tmp_path: Path) -> None:
    (tmp_path / ".samp").write_text(LOCKFILE)
    params = read_lockfile(f"file://localhost{tmp_path}/.samp")
    assert params["samp.secret"] == "c1fde164-e5b7"
    assert params["samp.hub.xmlrpc.url"] == "http://127.0.0.1:38159/xmlrpc"
    assert params["hub.label"] == "vo-suite hub with = sign"
    assert not any(k.startswith("#") for k in params)


def test_missing_lockfile_is_no_hub(tmp_path: Path) -> None:
    with pytest.raises(SampHubNotFound) as err:
        find_hub({"SAMP_HUB": f"std-lockurl:file://{tmp_path}/.samp"})
    assert str(err.value) == "SAMP-NO-HUB: no SAMP hub: start TOPCAT or run `vo samp hub`"
    assert "no readable lockfile" in (err.value.detail or "")


def test_lockfile_without_hub_url_is_no_hub(tmp_path: Path) -> None:
    (tmp_path / ".samp").write_text("# empty\nsamp.secret=abc\n")
    with pytest.raises(SampHubNotFound) as err:
        find_hub({"SAMP_HUB": f"std-lockurl:file://{tmp_path}/.samp"})
    assert "lacks samp.hub.xmlrpc.url" in (err.value.detail or "")
