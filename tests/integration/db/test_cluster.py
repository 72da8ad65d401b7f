"""The private cluster starts and stops as root and as an ordinary user, and is reused."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from vo.db.cluster import PrivateCluster

VO = [sys.executable, "-m", "vo.cli.main"]


def _vo(args: list[str], data_dir: Path, user: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VO_")}
    env["VO_DATA_DIR"] = str(data_dir)
    cmd = VO + args
    if user:
        # The test interpreter may live where the user cannot go (pyenv under /root): run
        # the system Python of the same minor version on the same site-packages instead.
        import site
        import sysconfig

        python = shutil.which(f"python{sys.version_info.major}.{sys.version_info.minor}",
                              path="/usr/bin:/usr/local/bin") or sys.executable
        paths = [str(Path(__file__).resolve().parents[3]), sysconfig.get_paths()["purelib"],
                 *site.getsitepackages()]
        cmd = ["runuser", "-u", user, "--", "env", f"VO_DATA_DIR={data_dir}",
               f"PYTHONPATH={':'.join(paths)}", python, "-m", "vo.cli.main"] + args
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=180)


def test_start_reuse_stop(tmp_path):
    data = tmp_path / "data"
    first = _vo(["db", "start"], data)
    assert first.returncode == 0, first.stderr
    url1 = _vo(["db", "url"], data).stdout.strip()
    again = _vo(["db", "start"], data)  # a second process on the same data dir reuses it
    assert again.returncode == 0 and again.stdout == first.stdout
    assert _vo(["db", "url"], data).stdout.strip() == url1
    status = _vo(["db", "status"], data)
    assert status.returncode == 0
    assert "running" in status.stdout and "PostgreSQL 18" in status.stdout
    assert _vo(["db", "stop"], data).stdout.strip() == "stopped"
    stopped = _vo(["db", "status"], data)
    assert stopped.returncode == 3 and "stopped" in stopped.stdout
    restarted = _vo(["db", "start"], data)  # data survive a stop/start
    assert restarted.returncode == 0, restarted.stderr
    PrivateCluster(data).destroy()


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root: checks the root-only code path")
def test_as_root_with_untraversable_data_dir(tmp_path):
    home = tmp_path / "home"
    home.mkdir(mode=0o700)  # like /root: the service user cannot enter it
    cluster = PrivateCluster(home / "vo")
    try:
        cluster.start()
        st = cluster.status()
        assert st.running and st.cluster_dir is not None
        assert str(st.cluster_dir).startswith("/var/lib/vo-suite/clusters/")
        assert oct(home.stat().st_mode & 0o777) == "0o700"  # nothing chmod-ed
        owner = pwd.getpwuid(Path(st.cluster_dir, "data").stat().st_uid).pw_name
        assert owner == "vo-postgres"
    finally:
        cluster.destroy()


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("runuser"),
                    reason="needs root to create and switch to an ordinary user")
def test_as_ordinary_user(tmp_path):
    user = "vo-test-user"
    try:
        pwd.getpwnam(user)
    except KeyError:
        subprocess.run(["useradd", "--create-home", user], check=True)
    home = Path(pwd.getpwnam(user).pw_dir)
    data = home / "vo-data-test"
    shutil.rmtree(data, ignore_errors=True)
    try:
        start = _vo(["db", "start"], data, user=user)
        assert start.returncode == 0, start.stderr
        assert str(data / "pgdata") in start.stdout  # its own dir: no system user involved
        assert _vo(["db", "stop"], data, user=user).stdout.strip() == "stopped"
    finally:
        _vo(["db", "stop"], data, user=user)
        shutil.rmtree(data, ignore_errors=True)
