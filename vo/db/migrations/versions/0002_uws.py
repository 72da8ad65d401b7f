"""UWS 1.1 job store (schema ``uws``) and the procrastinate queue that executes the jobs.

The ``uws`` schema holds the job model of UWS 1.1 sec. 2.1 (job, parameters,
results). It is not granted to the query role: user queries never see jobs.
A trigger NOTIFYs channel ``uws_phase`` with the job id whenever a phase changes,
so a blocking WAIT (UWS 1.1 sec. 2.2.1.1) returns as soon as the phase moves.

procrastinate's own tables and functions are installed from the SQL the installed
procrastinate ships (its ``SchemaManager.get_schema()``), in the ``public`` schema
where procrastinate looks for them by default; nothing there is granted to the
query role either.

Revision ID: 0002
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

PHASES = ("PENDING", "QUEUED", "EXECUTING", "COMPLETED", "ERROR", "ABORTED", "UNKNOWN",
          "HELD", "SUSPENDED", "ARCHIVED")


def _raw(sql: str) -> None:
    """Run SQL text through the DBAPI cursor without parameter interpolation (it holds ``%``)."""
    dbapi = op.get_bind().connection.dbapi_connection
    assert dbapi is not None
    with dbapi.cursor() as cur:
        cur.execute(sql)


def upgrade() -> None:
    phases = ", ".join(f"'{p}'" for p in PHASES)
    op.execute(
        f"""
        CREATE SCHEMA uws;
        REVOKE ALL ON SCHEMA uws FROM PUBLIC;

        -- UWS 1.1 sec. 2.1: the job object
        CREATE TABLE uws.job (
            job_id             text PRIMARY KEY,
            kind               text NOT NULL,
            owner              text,
            client             text,  -- quota key of anonymous jobs: the client's address
            run_id             text,
            phase              text NOT NULL DEFAULT 'PENDING' CHECK (phase IN ({phases})),
            creation_time      timestamptz NOT NULL DEFAULT now(),
            start_time         timestamptz,
            end_time           timestamptz,
            execution_duration integer NOT NULL CHECK (execution_duration >= 0),
            destruction        timestamptz NOT NULL,
            quote              timestamptz,
            error_code         text,
            error_message      text,
            error_type         text CHECK (error_type IN ('transient', 'fatal')),
            queue_job_id       bigint,
            backend_pid        integer,
            backend_since      timestamptz,  -- when backend_pid was recorded (pid reuse check)
            worker             text,
            attempts           integer NOT NULL DEFAULT 0
        );
        CREATE INDEX job_owner_created ON uws.job (owner, creation_time DESC);
        CREATE INDEX job_destruction ON uws.job (destruction);

        -- UWS 1.1 sec. 2.1.11: parameters, in the order the client gave them
        CREATE TABLE uws.job_parameter (
            job_id       text NOT NULL REFERENCES uws.job (job_id) ON DELETE CASCADE,
            position     integer NOT NULL,
            name         text NOT NULL,
            value        text NOT NULL,
            by_reference boolean NOT NULL DEFAULT false,
            is_post      boolean NOT NULL DEFAULT false,
            PRIMARY KEY (job_id, position)
        );

        -- UWS 1.1 sec. 2.1.12: result references
        CREATE TABLE uws.job_result (
            job_id    text NOT NULL REFERENCES uws.job (job_id) ON DELETE CASCADE,
            result_id text NOT NULL,
            position  integer NOT NULL,
            mime_type text,
            size      bigint,
            PRIMARY KEY (job_id, result_id)
        );

        CREATE FUNCTION uws.notify_phase() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('uws_phase', NEW.job_id);
            RETURN NEW;
        END $$;
        CREATE TRIGGER job_phase_changed AFTER UPDATE OF phase ON uws.job
            FOR EACH ROW WHEN (OLD.phase IS DISTINCT FROM NEW.phase)
            EXECUTE FUNCTION uws.notify_phase();
        """
    )
    from procrastinate.schema import SchemaManager

    _raw(SchemaManager.get_schema())


def downgrade() -> None:
    op.execute("DROP SCHEMA uws CASCADE")
    _raw(
        """
        DO $$ DECLARE r record; BEGIN
          FOR r IN SELECT tablename FROM pg_tables
                   WHERE schemaname = 'public' AND tablename LIKE 'procrastinate%' LOOP
            EXECUTE format('DROP TABLE IF EXISTS public.%I CASCADE', r.tablename);
          END LOOP;
          FOR r IN SELECT p.oid::regprocedure AS sig FROM pg_proc p
                   JOIN pg_namespace n ON n.oid = p.pronamespace
                   WHERE n.nspname = 'public' AND p.proname LIKE 'procrastinate%' LOOP
            EXECUTE format('DROP FUNCTION IF EXISTS %s CASCADE', r.sig);
          END LOOP;
          FOR r IN SELECT typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
                   WHERE n.nspname = 'public' AND typname LIKE 'procrastinate%'
                     AND t.typtype IN ('e', 'c') LOOP
            EXECUTE format('DROP TYPE IF EXISTS public.%I CASCADE', r.typname);
          END LOOP;
        END $$;
        """
    )
