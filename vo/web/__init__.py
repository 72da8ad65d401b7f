"""The web application (L5): ``create_app(settings)`` mounts every protocol's blueprint.

May import every layer below it. No module-level app, engine or config: gunicorn
calls ``vo.web.wsgi:app_from_env()``, tests call ``create_app``. One error handler
(``vo.web.errors``) answers every failure in the protocol's own error format; CORS
headers let browser clients call the services.
"""

from __future__ import annotations

from vo.web.app import create_app

__all__ = ["create_app"]
