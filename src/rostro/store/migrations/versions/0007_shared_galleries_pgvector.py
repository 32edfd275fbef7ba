"""Shared trained galleries (pgvector): created only where the PostgreSQL server offers it.

SQLite and PostgreSQL servers without the ``vector`` extension get nothing: their nodes keep
per-node index files. Where the extension is offered but cannot be created (a role without
the right), the revision still succeeds; ``rostro serve`` says why at start-up, and creates
the tables itself once the extension can be created (``rostro.search.pgvector_store``).
"""

import logging

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

log = logging.getLogger(__name__)

# Frozen as created (a revision never imports the runtime module); 128 = SFace's width.
STATEMENTS = (
    ("CREATE TABLE IF NOT EXISTS trained_galleries ("
     " id bigserial PRIMARY KEY, snapshot varchar(32) NOT NULL UNIQUE, gallery text NOT NULL,"
     " faces integer NOT NULL, persons boolean NOT NULL, approximate boolean NOT NULL,"
     " created_at double precision NOT NULL)"),
    "CREATE INDEX IF NOT EXISTS trained_galleries_gallery ON trained_galleries (gallery)",
    ("CREATE TABLE IF NOT EXISTS trained_vectors ("
     " gallery_id bigint NOT NULL REFERENCES trained_galleries (id) ON DELETE CASCADE,"
     " item bigint NOT NULL, embedding vector(128) NOT NULL, PRIMARY KEY (gallery_id, item))"),
)


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    offered = bind.execute(sa.text(
        "SELECT 1 FROM pg_available_extensions WHERE name = 'vector'")).scalar()
    if not offered:
        log.info("no pgvector on this PostgreSQL server: trained galleries stay per node")
        return
    try:
        with bind.begin_nested():  # a refused CREATE EXTENSION must not abort the migration
            bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS vector"))
    except sa.exc.DBAPIError as exc:
        log.warning("pgvector is offered but could not be created (%s): trained galleries "
                    "stay per node", exc.orig)
        return
    for statement in STATEMENTS:
        bind.execute(sa.text(statement))


def downgrade() -> None:
    raise NotImplementedError("Rostro migrations go forward only")
