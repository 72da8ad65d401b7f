"""A small Flask app that mounts the UWS blueprint (kind ``test-sql``) at /tap/async.

Served by gunicorn in the tests as a real process: ``gunicorn 'uws_app:create()'``
with VO_DATABASE_URL and VO_DATA_DIR set. The caller names its owner in ``X-Owner``.
"""

from __future__ import annotations

from flask import Flask, request

from vo.config import Settings, load_settings
from vo.db.engine import make_engine
from vo.uws.http import make_uws_blueprint

KIND = "test-sql"  # the kind uws_kinds registers in workers


def create(settings: Settings | None = None) -> Flask:
    settings = settings or load_settings()
    assert settings.database_url
    engine = make_engine(settings.database_url, pool_size=12)
    app = Flask("uws-test")
    app.register_blueprint(make_uws_blueprint(
        "tap_async", "/tap/async", KIND, settings, engine,
        owner_of=lambda: request.headers.get("X-Owner")))

    @app.get("/tap/capabilities")
    def capabilities() -> tuple[str, int]:
        return "no capabilities here", 404

    return app
