"""Settings: defaults < TOML file < VO_* environment < explicit overrides; clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from vo.config import load_settings
from vo.errors import ConfigError


def test_precedence(tmp_path: Path):
    cfg = tmp_path / "vo.toml"
    cfg.write_text('[limits]\nmaxrec_default = 50\nmaxrec_hard = 500\n[server]\nport = 9000\n'
                   'host = "0.0.0.0"\n')
    s = load_settings(cfg, env={"VO_PORT": "9100", "VO_UPLOAD_ALLOW_PRIVATE_URLS": "yes"})
    assert (s.maxrec_default, s.maxrec_hard, s.port) == (50, 500, 9100)
    assert s.upload_allow_private_urls is True
    assert s.public_url == "http://127.0.0.1:9100"  # a wildcard bind is not a public address
    s2 = load_settings(cfg, env={"VO_PORT": "9100"}, port=9200, data_dir=str(tmp_path))
    assert s2.port == 9200 and s2.data_dir == tmp_path
    assert s2.replace(base_url="https://vo.example.org/").public_url == "https://vo.example.org"


def test_defaults_need_no_environment():
    s = load_settings(env={})
    assert s.database_url is None and s.maxrec_default <= s.maxrec_hard
    assert s.results_dir == s.data_dir / "results"


@pytest.mark.parametrize("env,words", [
    ({"VO_PORT": "eighty"}, "port"),
    ({"VO_UPLOAD_ALLOW_PRIVATE_URLS": "maybe"}, "not a boolean"),
    ({"VO_MAXREC_DEFAULT": "10", "VO_MAXREC_HARD": "5"}, "must not exceed"),
])
def test_bad_values(env, words):
    with pytest.raises(ConfigError, match=words):
        load_settings(env=env)


def test_bad_file(tmp_path: Path):
    bad = tmp_path / "bad.toml"
    bad.write_text("port = ")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(bad, env={})
    unknown = tmp_path / "unknown.toml"
    unknown.write_text("prot = 1\n")
    with pytest.raises(ConfigError, match="unknown setting 'prot'"):
        load_settings(unknown, env={})
    with pytest.raises(ConfigError, match="cannot read"):
        load_settings(tmp_path / "missing.toml", env={})
