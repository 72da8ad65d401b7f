"""Typed settings for the whole suite, loaded explicitly (never at import).

Sources, later ones winning: built-in defaults, an optional TOML file (``VO_CONFIG``
or ``--config``), then ``VO_*`` environment variables (``VO_DATABASE_URL``,
``VO_MAXREC_DEFAULT``, ...). A setting's environment name is ``VO_`` plus its
field name in upper case. In the TOML file, fields sit at top level or in any
table (``[limits]``, ``[server]``): table names are only for the reader.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from vo.errors import ConfigError


def _default_data_dir() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("vo-suite", appauthor=False))


@dataclass(frozen=True)
class Settings:
    """Every tunable of the service, with the defaults a laptop install wants."""

    # --- database -------------------------------------------------------------
    database_url: str | None = None
    """SQLAlchemy URL of an external PostgreSQL; None starts the private cluster."""
    data_dir: Path = field(default_factory=_default_data_dir)
    """Private cluster, job results and other state live below this directory."""
    pg_bindir: Path | None = None
    """Directory with initdb/pg_ctl/postgres; None: PG_BINDIR, the wheel, pg_config."""
    db_pool_size: int = 8
    query_role: str = "vo_query"
    """Read-only role every user query runs under."""

    # --- web ------------------------------------------------------------------
    host: str = "127.0.0.1"
    port: int = 8080
    base_url: str | None = None
    """Public base URL (e.g. https://vo.example.org); None derives it from host/port."""
    workers: int = 2
    threads: int = 8

    # --- query limits (TAP 1.1 sec. 2.7.4, TAPRegExt sec. 2.7) ------------------
    maxrec_default: int = 10_000
    maxrec_hard: int = 10_000_000
    execution_duration_sync: int = 60
    """Seconds a sync query may run."""
    execution_duration_default: int = 3_600
    """Seconds an async job may run unless it asks for less."""
    execution_duration_hard: int = 4 * 3_600
    destruction_days: int = 7
    """Days until an async job and its results are destroyed."""
    upload_max_bytes: int = 100 * 1024 * 1024
    upload_max_rows: int = 1_000_000
    upload_allow_private_urls: bool = False
    """Allow TAP_UPLOAD from loopback/private addresses (tests only)."""
    max_jobs_per_owner: int = 100
    max_running_jobs_per_owner: int = 4
    uws_wait_max: int = 60
    """Cap on a blocking UWS WAIT (seconds), whatever the client asks."""
    result_max_bytes: int = 20 * 1024**3
    """Largest async result file; a job writing more ends in ERROR (UWS 1.1 sec. 2.1.4)."""

    # --- publishing -------------------------------------------------------------
    service_title: str = "vo-suite"
    authority: str = "ivo://vo-suite.local"

    @property
    def public_url(self) -> str:
        """The base URL clients see (no trailing slash)."""
        if self.base_url:
            return self.base_url.rstrip("/")
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host
        return f"http://{host}:{self.port}"

    @property
    def results_dir(self) -> Path:
        return self.data_dir / "results"

    @property
    def pg_data_dir(self) -> Path:
        return self.data_dir / "pgdata"

    def replace(self, **changes: Any) -> Settings:
        """A copy with some fields changed (values coerced like environment values)."""
        return _build({**_as_dict(self), **changes})


def _as_dict(s: Settings) -> dict[str, Any]:
    return {f.name: getattr(s, f.name) for f in fields(s)}


def _coerce(name: str, type_: Any, value: Any) -> Any:
    """Coerce a raw value (a string from the environment, or TOML) to the field's type."""
    if value is None:
        return None
    t = str(type_)
    try:
        if "bool" in t:
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("0", "false", "no", "off"):
                return False
            raise ValueError(f"not a boolean: {value!r}")
        if "int" in t:
            if isinstance(value, bool):
                raise ValueError("a boolean is not an integer")
            return int(value)
        if "Path" in t:
            if value == "":
                return None if "None" in t else Path(".")
            return Path(value).expanduser()
        if "str" in t:
            return str(value) if value != "" or "None" not in t else None
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"setting {name!r}: {exc}", code="CONFIG-VALUE") from None
    return value


def _build(raw: Mapping[str, Any]) -> Settings:
    known = {f.name: f for f in fields(Settings)}
    values: dict[str, Any] = {}
    for name, value in raw.items():
        if name not in known:
            raise ConfigError(
                f"unknown setting {name!r}; known settings: {', '.join(sorted(known))}",
                code="CONFIG-UNKNOWN",
            )
        values[name] = _coerce(name, known[name].type, value)
    s = Settings(**values)
    if s.maxrec_default > s.maxrec_hard:
        raise ConfigError("maxrec_default must not exceed maxrec_hard", code="CONFIG-VALUE")
    if s.execution_duration_default > s.execution_duration_hard:
        raise ConfigError(
            "execution_duration_default must not exceed execution_duration_hard",
            code="CONFIG-VALUE",
        )
    return s


def _flatten_toml(doc: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in doc.items():
        if isinstance(value, dict):
            out.update(_flatten_toml(value))
        else:
            out[key] = value
    return out


def load_settings(
    config_file: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    **overrides: Any,
) -> Settings:
    """Defaults < TOML file < ``VO_*`` environment < keyword overrides."""
    env = os.environ if env is None else env
    raw: dict[str, Any] = {}
    path = config_file or env.get("VO_CONFIG")
    if path:
        try:
            with open(path, "rb") as fh:
                raw.update(_flatten_toml(tomllib.load(fh)))
        except OSError as exc:
            raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    names = {f.name for f in fields(Settings)}
    for key, value in env.items():
        if key.startswith("VO_") and key != "VO_CONFIG":
            name = key[3:].lower()
            if name in names:
                raw[name] = value
    raw.update({k: v for k, v in overrides.items() if v is not None})
    return _build(raw)


__all__ = ["Settings", "load_settings"]
