"""The Flask app factory: engine, TAP blueprint, landing page, health, CORS, error handler."""

from __future__ import annotations

import datetime as dt
import importlib
import logging

from flask import Flask, Response, request
from sqlalchemy import Engine

from vo.config import Settings
from vo.db.engine import database_url, make_engine
from vo.tap.http import tap_blueprint
from vo.tap.service import TapService
from vo.web.errors import dali_error_response, install_error_handler, register_error_renderer
from vo.web.landing import landing_blueprint

log = logging.getLogger(__name__)

CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, DELETE, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type, Authorization, X-Requested-With",
    "Access-Control-Expose-Headers": "Content-Disposition, Location",
    "Access-Control-Max-Age": "86400",
}


def pool_size(settings: Settings) -> int:
    """Every streamed response holds a thread, a connection and a transaction: one
    connection per gunicorn thread, plus two for metadata lookups and health checks."""
    return max(settings.threads, settings.db_pool_size) + 2


def create_app(settings: Settings, engine: Engine | None = None) -> Flask:
    """A ready app; ``engine`` defaults to one on ``database_url(settings)``, sized to
    the gunicorn threads."""
    app = Flask("vo.web")
    app.config["VO_SETTINGS"] = settings
    app.config["MAX_CONTENT_LENGTH"] = settings.upload_max_bytes + 1024 * 1024
    if engine is None:
        engine = make_engine(database_url(settings), pool_size=pool_size(settings))
    app.extensions["vo.engine"] = engine
    app.extensions["vo.started"] = dt.datetime.now(dt.UTC)
    tap = TapService(settings, engine)
    app.extensions["vo.tap"] = tap

    install_error_handler(app)
    register_error_renderer(app, "/tap", dali_error_response)
    register_error_renderer(app, "/sia", dali_error_response)
    app.register_blueprint(tap_blueprint(tap), url_prefix="/tap")
    app.register_blueprint(landing_blueprint(tap))
    _mount_optional(app, settings, engine)

    @app.after_request
    def _cors(resp: Response) -> Response:
        for k, v in CORS_HEADERS.items():
            resp.headers.setdefault(k, v)
        return resp

    @app.before_request
    def _preflight() -> Response | None:
        if request.method == "OPTIONS":
            return Response(status=204)
        return None

    return app


def _mount_optional(app: Flask, settings: Settings, engine: Engine) -> None:
    """Blueprints of other protocols that provide ``vo.<pkg>.http.mount(app, settings, engine)``."""
    for pkg in ("vo.uws", "vo.sia", "vo.registry"):
        try:
            mod = importlib.import_module(f"{pkg}.http")
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.startswith(pkg):
                continue
            raise
        mount = getattr(mod, "mount", None)
        if mount is not None:
            mount(app, settings, engine)
        uws_errors = getattr(mod, "uws_error_response", None)
        if uws_errors is not None:  # job resources answer in UWS style (UWS 1.1 sec. 2.2)
            register_error_renderer(app, "/tap/async", uws_errors)


__all__ = ["create_app", "pool_size"]
