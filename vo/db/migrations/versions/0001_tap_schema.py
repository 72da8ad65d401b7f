"""TAP_SCHEMA exactly as TAP 1.1 sec. 4.1-4.4 defines it, the internal vo_meta schema,
and the read-only query role.

Revision ID: 0001
"""

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

QUERY_ROLE = "vo_query"


def upgrade() -> None:
    op.execute(
        f"""
        DO $$ BEGIN
          IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{QUERY_ROLE}') THEN
            CREATE ROLE {QUERY_ROLE} NOLOGIN NOINHERIT;
          END IF;
        END $$;
        GRANT {QUERY_ROLE} TO CURRENT_USER;
        REVOKE CREATE ON SCHEMA public FROM PUBLIC;

        CREATE SCHEMA tap_schema;
        -- TAP 1.1 sec. 4.1
        CREATE TABLE tap_schema.schemas (
            schema_name  varchar(64)  NOT NULL PRIMARY KEY,
            utype        varchar(512),
            description  varchar(2048),
            schema_index integer
        );
        -- TAP 1.1 sec. 4.2
        CREATE TABLE tap_schema.tables (
            schema_name  varchar(64)  NOT NULL REFERENCES tap_schema.schemas (schema_name),
            table_name   varchar(128) NOT NULL PRIMARY KEY,
            table_type   varchar(8)   NOT NULL CHECK (table_type IN ('table', 'view')),
            utype        varchar(512),
            description  varchar(2048),
            table_index  integer
        );
        -- TAP 1.1 sec. 4.3
        CREATE TABLE tap_schema.columns (
            table_name   varchar(128) NOT NULL REFERENCES tap_schema.tables (table_name)
                             ON DELETE CASCADE,
            column_name  varchar(64)  NOT NULL,
            datatype     varchar(64)  NOT NULL,
            arraysize    varchar(16),
            xtype        varchar(64),
            "size"       integer,
            description  varchar(2048),
            utype        varchar(512),
            unit         varchar(64),
            ucd          varchar(512),
            indexed      integer NOT NULL CHECK (indexed IN (0, 1)),
            principal    integer NOT NULL CHECK (principal IN (0, 1)),
            std          integer NOT NULL CHECK (std IN (0, 1)),
            column_index integer,
            PRIMARY KEY (table_name, column_name)
        );
        -- TAP 1.1 sec. 4.4
        CREATE TABLE tap_schema.keys (
            key_id       varchar(128) NOT NULL PRIMARY KEY,
            from_table   varchar(128) NOT NULL REFERENCES tap_schema.tables (table_name)
                             ON DELETE CASCADE,
            target_table varchar(128) NOT NULL REFERENCES tap_schema.tables (table_name)
                             ON DELETE CASCADE,
            description  varchar(2048),
            utype        varchar(512)
        );
        CREATE TABLE tap_schema.key_columns (
            key_id        varchar(128) NOT NULL REFERENCES tap_schema.keys (key_id)
                              ON DELETE CASCADE,
            from_column   varchar(64)  NOT NULL,
            target_column varchar(64)  NOT NULL
        );
        GRANT USAGE ON SCHEMA tap_schema TO {QUERY_ROLE};
        GRANT SELECT ON ALL TABLES IN SCHEMA tap_schema TO {QUERY_ROLE};

        -- Internal metadata, never published (not in TAP_SCHEMA, no grant to the query role).
        CREATE SCHEMA vo_meta;
        CREATE TABLE vo_meta.tables (
            table_name  varchar(128) PRIMARY KEY REFERENCES tap_schema.tables (table_name)
                            ON DELETE CASCADE,
            db_schema   text NOT NULL,
            db_table    text NOT NULL,
            primary_key text[] NOT NULL DEFAULT '{{}}',
            published   timestamptz NOT NULL DEFAULT now()
        );
        CREATE TABLE vo_meta.positions (
            table_name    varchar(128) PRIMARY KEY REFERENCES vo_meta.tables (table_name)
                              ON DELETE CASCADE,
            ra_column     text NOT NULL,
            dec_column    text NOT NULL,
            frame         text NOT NULL DEFAULT 'ICRS',
            epoch         text,
            equinox       text,
            row_count     bigint NOT NULL DEFAULT 0,
            density_order integer NOT NULL DEFAULT 0,
            density       bigint[] NOT NULL DEFAULT '{{}}'
        );
        CREATE SEQUENCE vo_meta.schema_version;
        """
    )


def downgrade() -> None:
    op.execute("DROP SCHEMA vo_meta CASCADE; DROP SCHEMA tap_schema CASCADE;")
