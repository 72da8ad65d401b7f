"""The landing page (HTML: services and published tables) and ``/health`` (JSON)."""

from __future__ import annotations

import html
import urllib.parse

from flask import Blueprint, Response, current_app, jsonify
from sqlalchemy import text

from vo.config import Settings
from vo.meta import TableMeta
from vo.tap.service import TapService

_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:sans-serif;max-width:60em;margin:2em auto}}
td,th{{padding:.2em .8em;text-align:left;vertical-align:top}}</style></head>
<body><h1>{title}</h1>
<h2>Services</h2>
<table><tr><th>service</th><th>endpoint</th></tr>
<tr><td>TAP 1.1 (ADQL 2.1)</td><td><a href="{base}/tap">{base}/tap</a></td></tr>
<tr><td>TAP capabilities (VOSI)</td>
<td><a href="{base}/tap/capabilities">{base}/tap/capabilities</a></td></tr>
<tr><td>TAP tables (VOSI)</td><td><a href="{base}/tap/tables">{base}/tap/tables</a></td></tr>
<tr><td>TAP examples (DALI)</td><td><a href="{base}/tap/examples">{base}/tap/examples</a></td></tr>
<tr><td>Health</td><td><a href="{base}/health">{base}/health</a></td></tr>
</table>
<h2>Tables</h2>
<table><tr><th>table</th><th>columns</th><th>description</th><th>first rows</th></tr>
{rows}
</table>
<p><small>"Send to SAMP" passes the first 1000 rows as a VOTable URL to TOPCAT, Aladin or
any running SAMP client (the hub's Web Profile asks you to accept this page).</small></p>
<script src="{base}/static/samp/samp.js"></script>
<script>if (window.VoSamp) {{ VoSamp.wireButtons(); }}</script>
<p>Query with TOPCAT, pyvo or <code>curl -d LANG=ADQL --data-urlencode "QUERY=SELECT TOP 5 * FROM
TAP_SCHEMA.tables" {base}/tap/sync</code>.</p>
</body></html>
"""


def _first_rows_url(settings: Settings, t: TableMeta) -> str:
    """A sync URL returning a table's first 1000 rows (what the SAMP button sends)."""
    query = urllib.parse.urlencode(
        {"LANG": "ADQL", "QUERY": f"SELECT TOP 1000 * FROM {t.table_name}"}
    )
    return f"{settings.public_url}/tap/sync?{query}"


def landing_blueprint(tap: TapService) -> Blueprint:
    bp = Blueprint("landing", __name__)

    @bp.get("/")
    def index() -> Response:
        settings = tap.settings
        rows = "\n".join(
            f"<tr><td>{html.escape(t.table_name)}</td><td>{len(t.columns)}</td>"
            f"<td>{html.escape(t.description or '')}</td>"
            f'<td><button data-samp-table="{html.escape(_first_rows_url(settings, t))}"'
            f' data-samp-name="{html.escape(t.table_name)}">Send to SAMP</button></td></tr>'
            for t in tap.schema.lookup().tables()
        )
        page = _PAGE.format(
            title=html.escape(settings.service_title),
            base=html.escape(settings.public_url),
            rows=rows,
        )
        return Response(page, content_type="text/html; charset=utf-8")

    @bp.get("/health")
    def health() -> Response:
        engine = current_app.extensions["vo.engine"]
        try:
            with engine.connect() as c:
                c.execute(text("SELECT 1"))
            db = "ok"
        except Exception as exc:  # noqa: BLE001 - reported, not raised
            db = f"unreachable: {type(exc).__name__}"
        resp = jsonify(
            status="ok" if db == "ok" else "degraded",
            database=db,
            up_since=current_app.extensions["vo.started"].isoformat(),
        )
        resp.status_code = 200 if db == "ok" else 503
        return resp

    return bp


__all__ = ["landing_blueprint"]
