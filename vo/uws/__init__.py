"""UWS 1.1 asynchronous jobs (L3): one generic implementation for every job kind.

TAP async, SODA async, publishing and processing jobs all use it; a protocol
registers a runner for its kind with :func:`register_kind` and mounts
:func:`vo.uws.http.make_uws_blueprint`; workers (:func:`vo.uws.worker.run`) execute
the jobs from a procrastinate queue on the service's PostgreSQL.

May import: vo.db (job store, engine), vo.errors, vo.config, procrastinate,
vo-models; Flask only in ``vo/uws/http.py``. Never imports vo.tap, vo.sia, vo.web.
Importing this package has no side effects.
"""

from vo.uws.kinds import JobContext, JobKind, Runner, get_kind, register_kind
from vo.uws.phases import Event, Phase

__all__ = ["Event", "JobContext", "JobKind", "Phase", "Runner", "get_kind", "register_kind"]
