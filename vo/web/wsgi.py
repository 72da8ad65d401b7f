"""gunicorn entry point: ``gunicorn 'vo.web.wsgi:app_from_env()' -k gthread --threads N``.

Loads settings from the environment (``VO_*``, ``VO_CONFIG``), resolves the database
(starting the private cluster when none is configured), brings its schema up to
date once (under an advisory lock, so several workers may start together) and
returns the app.
"""

from __future__ import annotations

from flask import Flask

from vo.config import load_settings
from vo.db.bootstrap import bootstrap
from vo.db.engine import database_url, make_engine
from vo.web.app import create_app, pool_size


def app_from_env() -> Flask:
    settings = load_settings()
    engine = make_engine(database_url(settings), pool_size=pool_size(settings))
    bootstrap(engine)
    return create_app(settings, engine)


__all__ = ["app_from_env"]
