"""TAP 1.1 (L4): the query service shared by /sync and async jobs, VOSI, examples.

May import vo.uws, vo.db, vo.adql, vo.votable, vo.formats, vo.healpix, vo.errors,
vo.config and vo.meta; never vo.sia or vo.registry. Flask only in ``http.py``.

- ``service.TapService(settings, engine)``: ``open_result(params, files)`` validates,
  translates and starts a query (every client error raised before the first byte),
  ``run_query(params, out, files)`` writes a whole result (async jobs);
- ``params.parse_params``: DALI/TAP parameters (case-insensitive names);
- ``vosi``: capabilities (TAPRegExt), availability, tables; ``examples``: DALI examples;
- ``jobs.register_uws_kinds``: the ``tap`` UWS job kind run by ``vo worker``;
- ``http.tap_blueprint``: the /tap endpoints.
"""
